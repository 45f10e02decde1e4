import { Injectable, Logger } from '@nestjs/common';
import { WorkLoop } from '../common/work-loop';
import { ConfigService } from '../config/config.service';
import { DatabasePool } from '../database/database-pool';
import { LeaseLostError, TaskHistory, TaskLease } from '../tasks/task-history';
import { TenantSecrets } from '../tenants/tenant-secrets.service';
import { isTerminal } from '../uxc/task-state';
import { CredentialRefusals } from '../uxc/credential-refusals';
import { UxcClient } from '../uxc/uxc.client';
import { UxcOutcome } from '../uxc/uxc-outcome';
import { PollDecision, PollOptions, decidePoll, isPastTtl } from './poll-decision';
import { PollOutcome, PollerMetrics } from './poller.metrics';
import { PollResults } from './poll-results';
import { ClaimedTask, TaskStore } from '../tasks/task.store';
import { WakeSchedule } from './wake-schedule';

/**
 * One poller: claims due tasks, asks UXC once per task, records what changed
 * and when to ask again. Ticks come from `PollerScheduler`; any number of
 * pollers (processes) share one database through the leases.
 */
@Injectable()
export class PollerService {
  private readonly logger = new Logger(PollerService.name);
  /** Every task this poller holds, from its claim until its result is written. */
  private readonly inFlight = new Map<string, Promise<void>>();
  /** Of those, the ones still waiting for UXC: what POLLER_CONCURRENCY bounds. */
  private asking = 0;
  /**
   * Claimed tasks waiting here for a slot. Claims run ahead of the free slots
   * (CLAIM_AHEAD), so a slot freed by an answer goes to the next task at once
   * instead of after a claim's round trip: with a claim per handful of freed
   * slots, the claims' latency was the poller's ceiling (some 300 polls a
   * second, with 32 slots each free 80% of the time).
   */
  private readonly waitingForSlot: { lane: number; go: (run: boolean) => void }[] = [];
  private ticking = false;
  private tickAgain = false;
  private behind = false;
  private stopped = false;
  private readonly wakeUps = new WakeSchedule(() => void this.tick());
  private readonly results: PollResults;
  private readonly refusals = new CredentialRefusals();

  constructor(
    private readonly config: ConfigService,
    private readonly leases: TaskStore,
    private readonly history: TaskHistory,
    private readonly uxc: UxcClient,
    private readonly secrets: TenantSecrets,
    private readonly metrics: PollerMetrics,
    database: DatabasePool,
  ) {
    this.results = new PollResults(database, leases.owner);
  }

  get owner(): string {
    return this.leases.owner;
  }

  /** Owner id, lease, heartbeat and stop deadline, as the dispatcher has them. */
  get loop(): WorkLoop {
    return this.leases.loop;
  }

  /** Tasks being polled right now. */
  get busy(): number {
    return this.inFlight.size;
  }

  /**
   * Claims as many due tasks as there is room for and starts polling them; it
   * does not wait for the polls. A tick while another is claiming is not
   * started twice: it runs once more when the current one is done.
   */
  async tick(): Promise<number> {
    if (this.stopped) return 0;
    if (this.ticking) {
      this.tickAgain = true;
      return 0;
    }
    this.ticking = true;
    try {
      const room = this.room();
      const claimed = await this.leases.claim(room);
      // a full claim may have left due tasks behind: claim again as polls finish
      this.behind = room > 0 && claimed.length >= room;
      for (const task of claimed) this.start(task);
      return claimed.length;
    } catch (error) {
      this.logger.error(`claiming due tasks failed: ${describe(error)}`);
      return 0;
    } finally {
      this.ticking = false;
      if (this.tickAgain) {
        this.tickAgain = false;
        void this.tick();
      }
    }
  }

  /** Keeps the leases of the polls in flight (a poll may wait for a rate-limit token). */
  async heartbeat(): Promise<void> {
    if (this.inFlight.size === 0) return;
    try {
      await this.leases.extend([...this.inFlight.keys()]);
    } catch (error) {
      this.logger.warn(`extending task leases failed: ${describe(error)}`);
    }
  }

  /**
   * Stops claiming, lets the polls in flight finish within the stop deadline, then
   * gives back every lease still held, so another poller need not wait for them
   * to expire.
   */
  async stop(): Promise<void> {
    this.stopped = true;
    this.wakeUps.stop();
    // claimed but not yet asked about: not polled; their leases go back below
    for (const waiter of this.waitingForSlot.splice(0)) waiter.go(false);
    await this.loop.drain(this.inFlight.values());
    try {
      const released = await this.leases.releaseAll();
      if (released > 0) this.logger.log(`released ${released} task lease(s) at shutdown`);
    } catch (error) {
      this.logger.warn(`releasing task leases at shutdown failed: ${describe(error)}`);
    }
  }

  /** Polls until the polls started so far are done (tests and benchmarks). */
  async idle(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight.values()]);
  }

  /**
   * How many tasks a claim may take now: enough to fill the free slots and
   * keep CLAIM_AHEAD times as many again waiting for one. A slot is held
   * while the poll waits for its rate-limit token and UXC's answer, not while
   * its result is written: the writes are batched, and a slot held through a
   * batch of history was a slot the credential's rate could not use. The
   * writes still pending are bounded too (WRITES_PENDING), so a slow database
   * slows the claims down.
   */
  private room(): number {
    const concurrency = this.config.env.pollerConcurrency;
    return Math.min(
      (1 + CLAIM_AHEAD) * concurrency - this.asking - this.waitingForSlot.length,
      (1 + CLAIM_AHEAD + WRITES_PENDING) * concurrency - this.inFlight.size,
    );
  }

  /**
   * A slot for one poll: at once when one is free, else when an answer frees
   * one (a task near the head of UXC's queue, lane 0, before the others).
   * False when the poller stopped first.
   */
  private slot(lane: number): Promise<boolean> {
    if (this.asking < this.config.env.pollerConcurrency) {
      this.asking++;
      return Promise.resolve(true);
    }
    return new Promise((go) => this.waitingForSlot.push({ lane, go }));
  }

  /** An answer came back: its slot passes to the next task waiting, if any. */
  private freeSlot(): void {
    const next = this.waitingForSlot.findIndex((waiter) => waiter.lane === 0);
    const [waiter] = this.waitingForSlot.splice(next >= 0 ? next : 0, 1);
    if (waiter) waiter.go(true);
    else this.asking--;
  }

  /** Claims the task again as soon as it is due (see `WakeSchedule`). */
  private wakeAt(at: Date | null): void {
    if (at !== null) this.wakeUps.add(at.getTime());
  }

  private start(task: ClaimedTask): void {
    let asking = false;
    const answered = (): void => {
      if (!asking) return;
      asking = false;
      this.freeSlot();
      this.metrics.inFlight.set(this.asking);
      // while behind, the next claim goes out once a quarter of a slots' worth
      // of room is free, not at the next tick: a tick's worth of claims was
      // the poller's ceiling (concurrency ÷ tick, 128 polls a second)
      if (this.behind && this.room() >= Math.ceil(this.config.env.pollerConcurrency / 4)) {
        void this.tick();
      }
    };
    const poll = this.slot(task.pollLane)
      .then(async (run) => {
        if (!run) return;
        asking = true;
        this.metrics.inFlight.set(this.asking);
        const outcome = await this.poll(task, answered);
        this.metrics.polls.inc({ outcome });
      })
      .finally(() => {
        this.inFlight.delete(task.id);
        answered();
      });
    this.inFlight.set(task.id, poll);
  }

  /** One poll of one claimed task; never throws. `answered` frees its slot. */
  private async poll(task: ClaimedTask, answered: () => void): Promise<PollOutcome> {
    const lease: TaskLease = { taskId: task.id, owner: this.owner };
    this.metrics.lag.observe(Math.max(0, task.lagMs) / 1000);
    try {
      if (!task.hasSubscribers) {
        const result = await this.leases.idleIfUnsubscribed(task.id, new Date());
        if (result === 'idle') return 'idle';
        if (result === 'lost') return 'lease-lost';
        // a subscription arrived since the claim: poll as usual
      }
      if (isPastTtl(task, new Date(), this.pollOptions())) {
        return await this.apply(
          task,
          lease,
          decidePoll(task, null, new Date(), this.pollOptions()),
        );
      }
      if (isTerminal(task.state)) {
        // cannot normally happen (a terminal task is `completed`); never poll it again
        await this.leases.complete(task.id, { tracking: 'completed', nextPollAt: null });
        return 'completed';
      }

      const credential = this.secrets.uxcCredential(task);
      // lane 0 goes ahead of the deep queue's polls waiting for the credential's
      // tokens too, else the slots full of those would delay it all the same
      const urgent = task.pollLane === 0;
      const outcome: UxcOutcome = await this.uxc.getTask(credential, task.sid, urgent);
      answered();
      this.refusals.observe(task.tenantId, credential.ak, outcome);
      return await this.apply(
        task,
        lease,
        decidePoll(task, outcome, new Date(), this.pollOptions()),
      );
    } catch (error) {
      if (error instanceof LeaseLostError) return 'lease-lost';
      // e.g. a sealed sk that this ENCRYPTION_KEY cannot open, or the database
      // gone for a moment: back off as for an upstream error, and say so
      this.logger.error(`polling sid ${JSON.stringify(task.sid)} failed: ${describe(error)}`);
      await this.leases
        .complete(task.id, {
          nextPollAt: new Date(Date.now() + this.config.env.pollMaxIntervalMs),
        })
        .catch(() => undefined);
      return 'failed';
    }
  }

  private pollOptions(): PollOptions {
    const env = this.config.env;
    return {
      intervalMs: env.pollIntervalMs,
      maxIntervalMs: env.pollMaxIntervalMs,
      taskTtlMs: env.taskTtlMs,
      errorGiveUpMs: env.uxcErrorGiveUpMs,
      statusMap: env.uxcStatusMap,
    };
  }

  /** Writes what `decidePoll` decided, under the lease, and schedules the next claim. */
  private async apply(
    task: ClaimedTask,
    lease: TaskLease,
    decision: PollDecision,
  ): Promise<PollOutcome> {
    if (decision.event === undefined) {
      const held = await this.results.record({
        taskId: task.id,
        nextPollAt: decision.nextPollAt,
        ...decision.changes,
      });
      if (!held) return 'lease-lost';
      this.wakeAt(decision.nextPollAt);
      return decision.outcome;
    }
    await this.history.append(lease, decision.event, decision.changes);
    this.wakeAt(decision.nextPollAt);
    if (decision.outcome === 'expired') {
      const now = decision.event.observedAt;
      this.logger.warn({
        msg: `task ${task.id} (sid ${JSON.stringify(task.sid)}, tenant ${task.tenantId}): not finished ${formatAge(now.getTime() - task.trackingSince.getTime())} after tracking began (TASK_TTL); tracking is now expired`,
        taskId: task.id,
        tenantId: task.tenantId,
        sid: task.sid,
        tracking: 'expired',
      });
    } else if (decision.outcome === 'gave-up') {
      const errorSince = decision.changes.errorSince as Date;
      const { errNo, errMsg } = decision.event;
      this.logger.warn({
        msg: `task ${task.id} (sid ${JSON.stringify(task.sid)}, tenant ${task.tenantId}): UXC kept failing since ${errorSince.toISOString()}; tracking is now error (${errMsg})`,
        taskId: task.id,
        tenantId: task.tenantId,
        sid: task.sid,
        tracking: 'error',
        errNo,
      });
    }
    return decision.outcome;
  }
}

/**
 * Claimed tasks kept waiting for a slot, in POLLER_CONCURRENCY's: a claim's
 * round trip (10–30 ms on a busy machine) is covered by the tasks already
 * claimed, up to this many slots' worth of polls.
 */
const CLAIM_AHEAD = 1;
/** Polls answered but not yet written, at most, in POLLER_CONCURRENCY's. */
const WRITES_PENDING = 2;

/** `90s`, `25m`, `26h`: how long a task was tracked, for a log line. */
function formatAge(ms: number): string {
  if (ms < 120_000) return `${Math.round(ms / 1000)}s`;
  if (ms < 7_200_000) return `${Math.round(ms / 60_000)}m`;
  return `${Math.round(ms / 3_600_000)}h`;
}

function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
