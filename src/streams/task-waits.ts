import { Injectable, OnModuleDestroy } from '@nestjs/common';
import { TaskEventFeed } from './task-event-feed';

/**
 * Long polls: each waits on the process's one task-event feed for a history
 * row of its task past a sequence, never by reading the database in a loop.
 */
@Injectable()
export class TaskWaits implements OnModuleDestroy {
  private readonly waking = new Set<() => void>();

  constructor(private readonly feed: TaskEventFeed) {}

  /**
   * Resolves when the feed brings a row of `taskId` with a sequence past
   * `after`, when `recheck` (run once the feed listens, and again after missed
   * notifications) says the wait is over, after `waitMs`, when `signal` aborts
   * (the client went away) or when the process shuts down.
   */
  until(
    taskId: string,
    after: number,
    waitMs: number,
    recheck: () => Promise<boolean>,
    signal?: AbortSignal,
  ): Promise<void> {
    return new Promise((resolve) => {
      let done = false;
      const finish = (): void => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        unsubscribe();
        signal?.removeEventListener('abort', finish);
        this.waking.delete(finish);
        resolve();
      };
      const check = (): void => {
        recheck().then(
          (over) => over && finish(),
          () => finish(),
        );
      };
      const timer = setTimeout(finish, waitMs);
      const unsubscribe = this.feed.subscribeTask(taskId, {
        onEvent: (event) => {
          if (event.sequence > after) finish();
        },
        onGap: check,
      });
      this.waking.add(finish);
      signal?.addEventListener('abort', finish);
      if (signal?.aborted) finish();
      // the task may have moved between the caller's read and the subscription
      else check();
    });
  }

  /** Shutting down: every long poll answers now, with the state it has. */
  onModuleDestroy(): void {
    for (const finish of [...this.waking]) finish();
  }
}
