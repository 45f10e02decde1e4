import { Injectable, NotFoundException } from '@nestjs/common';
import { decodeCursor, Page, PageQueryDto, pageLimit, toPage } from '../common/pagination';
import { DatabasePool } from '../database/database-pool';
import { PrismaService } from '../database/prisma.service';
import { QueueEstimates } from '../estimates/queue-estimates';
import { FINISHED_TRACKINGS } from '../streams/stream-events';
import { TaskWaits } from '../streams/task-waits';
import type { Task, TaskEvent } from '../generated/prisma/client';
import { ListTasksQueryDto } from './dto/list-tasks.query';
import { TaskErrorDto, TaskEventResponseDto, TaskResponseDto } from './dto/task-response.dto';

type TaskErrorFields = 'id' | 'lastErrNo' | 'lastErrMsg' | 'errorSince' | 'lastPolledAt';

/** History rows that record an upstream error: one per run of the same error. */
export const UPSTREAM_ERROR_EVENT_TYPES = ['uxc.error', 'task.error'];

// GET /v1/tasks/:sid is the API's hottest read: one prepared statement on the
// pool costs a fraction of Prisma's runtime for the same row
const FIND_BY_SID = `
  SELECT id, tenant_id AS "tenantId", sid, state, status, progress, queue_num AS "queueNum",
    queue_total AS "queueTotal", cost_time AS "costTime", message, output_result AS "outputResult",
    photo_parameters AS "photoParameters", pod_ip AS "podIp", pod_port AS "podPort", tracking,
    tracking_since AS "trackingSince", sequence, first_seen_at AS "firstSeenAt",
    updated_at AS "updatedAt", last_polled_at AS "lastPolledAt", next_poll_at AS "nextPollAt",
    finished_at AS "finishedAt", error_since AS "errorSince",
    consecutive_errors AS "consecutiveErrors", last_err_no AS "lastErrNo",
    last_err_msg AS "lastErrMsg", locked_by AS "lockedBy", locked_until AS "lockedUntil"
  FROM tasks WHERE tenant_id = $1 AND sid = $2`;

/** A long poll: how long to hold the answer, and for what. */
export interface TaskWait {
  waitSeconds?: number;
  /** answer once the task's sequence passes this; default: its sequence now */
  after?: number;
  /** the client went away: stop waiting */
  aborted?: AbortSignal;
}

const FINISHED_STATES = ['succeeded', 'failed', 'canceled'];

/** Nothing more will happen to the task: a long poll on it answers at once. */
function isFinished(task: Pick<Task, 'state' | 'tracking'>): boolean {
  return FINISHED_STATES.includes(task.state ?? '') || FINISHED_TRACKINGS.includes(task.tracking);
}

/** Reads what the poller records: tasks as they are now, and their history. */
@Injectable()
export class TasksService {
  constructor(
    private readonly prisma: PrismaService,
    private readonly database: DatabasePool,
    private readonly waits: TaskWaits,
    private readonly estimates: QueueEstimates,
  ) {}

  async get(tenantId: string, sid: string, wait: TaskWait = {}): Promise<TaskResponseDto> {
    let task = await this.find(tenantId, sid);
    if (wait.waitSeconds) {
      const after = wait.after ?? task.sequence;
      const over = (seen: Task) => seen.sequence > after || isFinished(seen);
      if (!over(task)) {
        await this.waits.until(
          task.id,
          after,
          wait.waitSeconds * 1000,
          async () => over(await this.find(tenantId, sid)),
          wait.aborted,
        );
        task = await this.find(tenantId, sid);
      }
    }
    // only a queued task has estimates: the first read of a tenant loads its statistics
    if (task.state === 'queued') await this.estimates.fresh(tenantId);
    return this.toResponse(task, await this.lastErrorTimes([task]), { photoParameters: true });
  }

  async list(tenantId: string, query: ListTasksQueryDto): Promise<Page<TaskResponseDto>> {
    const limit = pageLimit(query);
    const after = query.cursor ? decodeCursor(query.cursor, { idPrefix: 'task' }) : undefined;
    const include = { photoParameters: query.include?.includes('photoParameters') ?? false };
    const rows = await this.prisma.task.findMany({
      where: {
        tenantId,
        ...(query.state !== undefined ? { state: query.state } : {}),
        ...(query.tracking !== undefined ? { tracking: query.tracking } : {}),
        ...(after ? { id: { gt: after } } : {}),
      },
      orderBy: { id: 'asc' },
      take: limit + 1,
      // about 7 KB a task that a list rarely wants
      omit: { photoParameters: !include.photoParameters },
    });
    const errorTimes = await this.lastErrorTimes(rows.slice(0, limit));
    if (rows.some((row) => row.state === 'queued')) await this.estimates.fresh(tenantId);
    return toPage(
      rows,
      limit,
      (row) => row.id,
      (row) => this.toResponse(row, errorTimes, include),
    );
  }

  /** The task's history, oldest first; the cursor is a sequence number. */
  async events(
    tenantId: string,
    sid: string,
    query: PageQueryDto,
  ): Promise<Page<TaskEventResponseDto>> {
    const task = await this.find(tenantId, sid);
    const limit = pageLimit(query);
    const after = query.cursor ? decodeCursor(query.cursor, 'sequence') : undefined;
    const rows = await this.prisma.taskEvent.findMany({
      where: { taskId: task.id, ...(after !== undefined ? { sequence: { gt: after } } : {}) },
      orderBy: { sequence: 'asc' },
      take: limit + 1,
    });
    return toPage(
      rows,
      limit,
      (row) => row.sequence,
      (row) => this.toEventResponse(row),
    );
  }

  private async find(tenantId: string, sid: string): Promise<Task> {
    const { rows } = await this.database.pool.query<Task>({
      name: 'tasks.find-by-sid',
      text: FIND_BY_SID,
      values: [tenantId, sid],
    });
    const task = rows[0];
    if (!task)
      throw new NotFoundException(
        'no task with this sid: track it first (POST /v1/tasks, or POST /v1/subscriptions)',
      );
    return task;
  }

  /**
   * When each task last saw its upstream error. While a run of errors goes on,
   * that is its latest poll (repeats of one error write no history row);
   * after UXC answered again, it is the history row of the last run.
   */
  private async lastErrorTimes(tasks: Pick<Task, TaskErrorFields>[]): Promise<Map<string, Date>> {
    const times = new Map<string, Date>();
    const settled: string[] = [];
    for (const task of tasks) {
      if (task.lastErrMsg === null && task.lastErrNo === null) continue;
      if (task.errorSince !== null) times.set(task.id, task.lastPolledAt ?? task.errorSince);
      else settled.push(task.id);
    }
    if (settled.length === 0) return times;
    const rows = await this.prisma.$queryRaw<{ taskId: string; at: Date }[]>`
      SELECT DISTINCT ON (task_id) task_id AS "taskId", observed_at AS at
      FROM task_events
      WHERE task_id = ANY(${settled}::text[]) AND type = ANY(${UPSTREAM_ERROR_EVENT_TYPES}::text[])
      ORDER BY task_id, sequence DESC`;
    for (const row of rows) times.set(row.taskId, row.at);
    return times;
  }

  private toResponse(
    row: Omit<Task, 'photoParameters'> & { photoParameters?: Task['photoParameters'] },
    errorTimes: Map<string, Date>,
    include: { photoParameters: boolean },
  ): TaskResponseDto {
    const errorAt = errorTimes.get(row.id);
    const lastError: TaskErrorDto | null =
      errorAt === undefined ? null : { errNo: row.lastErrNo, errMsg: row.lastErrMsg, at: errorAt };
    // a queued task's last change is its latest queue position (or queue total) change
    const estimate = this.estimates.estimate(
      row.tenantId,
      { state: row.state, queueNum: row.queueNum, positionSince: row.updatedAt },
      new Date(),
    );
    return {
      sid: row.sid,
      state: row.state,
      status: row.status,
      progress: row.progress,
      queueNum: row.queueNum,
      queueTotal: row.queueTotal,
      costTime: row.costTime,
      message: row.message,
      outputResult: row.outputResult,
      ...(include.photoParameters ? { photoParameters: row.photoParameters ?? null } : {}),
      tracking: row.tracking,
      sequence: row.sequence,
      firstSeenAt: row.firstSeenAt,
      updatedAt: row.updatedAt,
      lastPolledAt: row.lastPolledAt,
      nextPollAt: row.nextPollAt,
      lastError,
      ...estimate,
    };
  }

  private toEventResponse(row: TaskEvent): TaskEventResponseDto {
    return {
      sequence: row.sequence,
      type: row.type,
      state: row.state,
      previousState: row.previousState,
      status: row.status,
      progress: row.progress,
      queueNum: row.queueNum,
      queueTotal: row.queueTotal,
      costTime: row.costTime,
      message: row.message,
      outputResult: row.outputResult,
      errNo: row.errNo,
      errMsg: row.errMsg,
      observedAt: row.observedAt,
    };
  }
}
