import { Injectable } from '@nestjs/common';
import { DatabasePool } from '../database/database-pool';
import { SqlRunner } from '../outbox/sql';
import { ObservationKind, QueueObservation } from './queue-estimator';

/** What the store needs of a task event that was just written. */
export interface ObservedEvent {
  tenantId: string;
  type: string;
  taskId: string;
  state: string | null;
  previousState: string | null;
  queueNum: number | null;
  costTime: number | null;
  observedAt: Date;
}

const OBSERVED_TYPES = new Set(['task.queued', 'task.progress', 'task.running', 'task.succeeded']);

/** Rows one refresh reads at most: the newest first. */
const RECENT_LIMIT = 5000;

const RECORD = `
  INSERT INTO queue_observations (tenant_id, task_id, kind, queue_num, run_seconds, observed_at)
  SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::int[], $5::float8[], $6::timestamptz[])`;

// served by (tenant_id, observed_at DESC): a backward range scan, stopped by the limit
const RECENT = `
  SELECT task_id AS "taskId", kind, queue_num AS "queueNum", run_seconds AS "runSeconds",
    observed_at AS at
  FROM queue_observations
  WHERE tenant_id = $1 AND observed_at > $2
  ORDER BY observed_at DESC
  LIMIT $3`;

/**
 * The only writer of `queue_observations`: a tenant's queue positions, starts
 * and finishes, copied from the task events the poller writes, in the same
 * transaction, one statement per batch of events. Its own small table, keyed
 * by tenant and time, rather than a query over `task_events` (which is keyed
 * by task: a tenant's recent queue would be one index probe per task) or a
 * per-tenant summary row (every batch would update, and so lock, that one
 * row: pollers writing side by side would wait for each other).
 */
@Injectable()
export class QueueObservationStore {
  constructor(private readonly database: DatabasePool) {}

  /** Records what the ETA learns from among these events; returns how many rows. */
  async record(sql: SqlRunner, events: readonly ObservedEvent[]): Promise<number> {
    const rows = events.flatMap((event) => {
      const kind = observationKind(event);
      return kind === null ? [] : [{ event, kind }];
    });
    if (rows.length === 0) return 0;
    await sql.rows({
      name: 'estimates.record-observations',
      text: RECORD,
      values: [
        rows.map((r) => r.event.tenantId),
        rows.map((r) => r.event.taskId),
        rows.map((r) => r.kind),
        rows.map((r) => (r.kind === 'queued' ? r.event.queueNum : null)),
        rows.map((r) => (r.kind === 'finished' ? r.event.costTime : null)),
        rows.map((r) => r.event.observedAt),
      ],
    });
    return rows.length;
  }

  /** The tenant's observations since `since`, newest first, at most RECENT_LIMIT. */
  async recent(tenantId: string, since: Date): Promise<QueueObservation[]> {
    const { rows } = await this.database.pool.query<QueueObservation>({
      name: 'estimates.recent-observations',
      text: RECENT,
      values: [tenantId, since, RECENT_LIMIT],
    });
    return rows;
  }

  /** Deletes what is older than `before`, in batches; returns how many rows. */
  async purge(before: Date): Promise<number> {
    let total = 0;
    for (;;) {
      const { rowCount } = await this.database.pool.query(
        `DELETE FROM queue_observations WHERE id IN (
           SELECT id FROM queue_observations WHERE observed_at < $1 LIMIT 5000)`,
        [before],
      );
      total += rowCount ?? 0;
      if ((rowCount ?? 0) < 5000) return total;
    }
  }
}

/** Which observation an event is, if any: a queue position, a start, or a success. */
export function observationKind(event: ObservedEvent): ObservationKind | null {
  // tracking events (expired, error) and upstream errors repeat the last state: nothing new
  if (!OBSERVED_TYPES.has(event.type)) return null;
  if (event.state === 'queued' && event.queueNum !== null) return 'queued';
  if (event.type === 'task.running' && event.previousState === 'queued') return 'started';
  if (event.state === 'succeeded') return 'finished';
  return null;
}
