import { DatabasePool } from '../database/database-pool';
import { RECORD_POLL_RESULTS } from '../tasks/task.store';

/** What a poll that found no change writes back to its task. */
export interface PollResult {
  taskId: string;
  lastPolledAt: Date;
  nextPollAt: Date;
  errorSince: Date | null;
  consecutiveErrors: number;
  /** a failed poll of an ongoing run of errors also records the error it saw */
  error: { errNo: number | null; errMsg: string } | null;
}

interface Queued {
  result: PollResult;
  done: (held: boolean) => void;
  fail: (error: unknown) => void;
}

/** Results written per statement, at most. */
const BATCH = 500;

/**
 * The results of the polls that changed nothing (most of them), written back
 * together: the polls of one tick share one statement and one commit instead
 * of a transaction each, which was most of the database's time per poll.
 * Each task is given back to the pool of due tasks with it.
 */
export class PollResults {
  private queue: Queued[] = [];
  private flushing: Promise<void> | null = null;

  constructor(
    private readonly database: DatabasePool,
    private readonly owner: string,
  ) {}

  /** Resolves true once written, false when the task's lease was lost (nothing written then). */
  record(result: PollResult): Promise<boolean> {
    return new Promise((done, fail) => {
      this.queue.push({ result, done, fail });
      if (!this.flushing) this.flushing = this.flushLoop().finally(() => (this.flushing = null));
    });
  }

  private async flushLoop(): Promise<void> {
    await new Promise((done) => setImmediate(done));
    while (this.queue.length > 0) {
      // one task cannot be here twice: its lease is only given back by this write
      const batch = this.queue.splice(0, BATCH);
      try {
        const written = await this.write(batch.map((item) => item.result));
        for (const item of batch) item.done(written.has(item.result.taskId));
      } catch (error) {
        for (const item of batch) item.fail(error);
      }
    }
  }

  private async write(results: PollResult[]): Promise<Set<string>> {
    const rows = await this.database.pool.query<{ id: string }>({
      name: 'poller.record-results',
      text: RECORD_POLL_RESULTS,
      values: [
        results.map((r) => r.taskId),
        results.map((r) => r.lastPolledAt),
        results.map((r) => r.nextPollAt),
        results.map((r) => r.errorSince),
        results.map((r) => r.consecutiveErrors),
        results.map((r) => r.error !== null),
        results.map((r) => r.error?.errNo ?? null),
        results.map((r) => r.error?.errMsg ?? null),
        this.owner,
      ],
    });
    return new Set(rows.rows.map((row) => row.id));
  }
}
