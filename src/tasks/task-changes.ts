import { Prisma, Task } from '../generated/prisma/client';

/** What a poll may change on a task, as the poller writes it. */
export type TaskChanges = Omit<Prisma.TaskUncheckedUpdateInput, 'lockedBy' | 'lockedUntil'>;

/** Each field a poll writes, its column and the SQL type its JSON text is cast to. */
const COLUMNS: Record<string, { column: string; type: string }> = {
  state: { column: 'state', type: 'text' },
  status: { column: 'status', type: 'int' },
  progress: { column: 'progress', type: 'float8' },
  queueNum: { column: 'queue_num', type: 'int' },
  queueTotal: { column: 'queue_total', type: 'int' },
  pollLane: { column: 'poll_lane', type: 'int' },
  costTime: { column: 'cost_time', type: 'float8' },
  message: { column: 'message', type: 'text' },
  outputResult: { column: 'output_result', type: 'jsonb' },
  photoParameters: { column: 'photo_parameters', type: 'jsonb' },
  podIp: { column: 'pod_ip', type: 'text' },
  podPort: { column: 'pod_port', type: 'text' },
  tracking: { column: 'tracking', type: 'text' },
  updatedAt: { column: 'updated_at', type: 'timestamptz' },
  lastPolledAt: { column: 'last_polled_at', type: 'timestamptz' },
  nextPollAt: { column: 'next_poll_at', type: 'timestamptz' },
  finishedAt: { column: 'finished_at', type: 'timestamptz' },
  errorSince: { column: 'error_since', type: 'timestamptz' },
  consecutiveErrors: { column: 'consecutive_errors', type: 'int' },
  lastErrNo: { column: 'last_err_no', type: 'int' },
  lastErrMsg: { column: 'last_err_msg', type: 'text' },
};

function valueOf(column: string, type: string): string {
  if (type === 'jsonb') {
    return `CASE WHEN jsonb_typeof(c.v -> '${column}') = 'null' THEN NULL ELSE c.v -> '${column}' END`;
  }
  return `(c.v ->> '${column}')::${type}`;
}

// Every task of a batch changes in this one statement: a field a change
// leaves out keeps its value. One statement instead of one per task was most
// of a busy poll cycle's time in the database round trips.
export const APPLY_TASK_CHANGES = `
  UPDATE tasks t SET
    ${Object.values(COLUMNS)
      .map(
        ({ column, type }) =>
          `${column} = CASE WHEN c.v ? '${column}' THEN ${valueOf(column, type)} ELSE t.${column} END`,
      )
      .join(',\n    ')},
    locked_by = NULL,
    locked_until = NULL
  FROM unnest($1::text[], $2::jsonb[]) AS c(id, v)
  WHERE t.id = ANY ($1::text[]) AND t.id = c.id
  RETURNING t.*`;

/** The changes as the statement's JSON: column names, Prisma's DbNull as JSON null. */
export function changesJson(changes: TaskChanges): string {
  const out: Record<string, unknown> = {};
  for (const [field, value] of Object.entries(changes)) {
    if (value === undefined) continue;
    const target = COLUMNS[field];
    if (!target) throw new Error(`a poll does not write tasks.${field}`);
    out[target.column] = value === Prisma.DbNull || value === Prisma.JsonNull ? null : value;
  }
  return JSON.stringify(out);
}

/** A `tasks` row as the statement returns it, with Prisma's field names. */
export function taskOfRow(row: Record<string, unknown>): Task {
  const task: Record<string, unknown> = {};
  for (const [column, value] of Object.entries(row)) {
    task[column.replace(/_([a-z])/g, (_, letter: string) => letter.toUpperCase())] = value;
  }
  return task as unknown as Task;
}
