import { Injectable, Logger, OnModuleDestroy } from '@nestjs/common';
import { WorkLoop } from '../common/work-loop';
import { ConfigService } from '../config/config.service';
import { DatabaseConnection } from '../database/database-connection';
import {
  Completion,
  CompletionState,
  DeliveryStore,
  LaneHead,
  LeasedLane,
} from '../outbox/delivery.store';
import { TenantSecrets } from '../tenants/tenant-secrets.service';
import { SendResult, WebhookSender } from './webhook-sender';
import { AdaptiveLimit, hostSignal } from './adaptive-limit';
import { DeliveryWakeups } from './delivery-wakeups';
import { DispatcherMetrics, resultClass } from './dispatcher.metrics';
import { completeAttempt, decideHead, releaseAttempt } from './lane-decision';
import { decideAfterAttempt } from './retry-policy';
import { SigningKeys } from './signing-keys';

/** Completions recorded per statement. */
const COMPLETION_BATCH = 500;
/** Lanes leased per host and claim, at most. */
const CLAIM_BATCH = 200;
/** How long a host's local queue should keep it busy while the next claim runs. */
const QUEUE_AHEAD_MS = 100;
/** Between looks for work when the LISTEN connection is up, and when it is down. */
const DISCOVER_MS = 5000;
const DISCOVER_UNLISTENED_MS = 1000;
/** After a failed statement, before the next try. */
const DATABASE_RETRY_MS = 500;

interface Item {
  lane: LeasedLane;
  head: LaneHead;
}

/** One callback host as this process sees it. */
class HostState {
  readonly queue: Item[] = [];
  inFlight = 0;
  /** it may have due lanes: notified, discovered, or its last claim came back full */
  due = true;
  /** completions per second, smoothed */
  rate = 0;
  private lastDone = 0;

  constructor(
    readonly host: string,
    readonly limit: AdaptiveLimit,
  ) {}

  /** Lanes to hold here so that the pipe stays full until the next claim answers. */
  target(): number {
    return Math.min(1000, this.limit.limit + Math.ceil((this.rate * QUEUE_AHEAD_MS) / 1000));
  }

  completed(now: number): void {
    if (this.lastDone > 0) {
      const gap = Math.max(1, now - this.lastDone);
      this.rate = this.rate * 0.95 + (1000 / gap) * 0.05;
    }
    this.lastDone = now;
  }
}

interface InFlight {
  lane: LeasedLane;
  head: LaneHead;
  abort: AbortController;
  done: Promise<void>;
}

/**
 * The sending loop. Lanes are leased per host into a local queue sized to the
 * host's pace; requests go out within a global cap and a per-host cap that
 * adapts to how the host answers; a host slot is freed when the answer
 * arrives, and the attempts are recorded in batches, one statement each.
 * Wake-ups come from the outbox's NOTIFY; a periodic look covers retries
 * coming due and lanes another process let go.
 */
@Injectable()
export class DispatcherService implements OnModuleDestroy {
  private readonly logger = new Logger(DispatcherService.name);
  /** Owner id, lease, heartbeat and stop deadline, as the poller has them. */
  private readonly loop: WorkLoop;
  /** Names this process in `locked_by`. */
  readonly owner: string;
  private readonly hosts = new Map<string, HostState>();
  /** lanes queued here, by lane id: their leases are renewed */
  private readonly queued = new Map<string, Item>();
  private readonly inFlight = new Map<string, InFlight>();
  private readonly keys: SigningKeys;
  private readonly urls = new Map<string, URL>();
  private readonly wakeups: DeliveryWakeups;
  private readonly leaseMs: number;
  private pending: Completion[] = [];
  /** the batch being recorded now */
  private writing: Completion[] = [];
  private idleLanes: string[] = [];
  private flushing: Promise<void> | null = null;
  private claiming: Promise<void> | null = null;
  private claimAgain = false;
  private rotation = 0;
  private wakeTimer: NodeJS.Timeout | undefined;
  private wakeAt = Infinity;
  private timers: NodeJS.Timeout[] = [];
  private running = false;
  private stopping = false;

  constructor(
    private readonly config: ConfigService,
    private readonly store: DeliveryStore,
    private readonly sender: WebhookSender,
    secrets: TenantSecrets,
    private readonly metrics: DispatcherMetrics,
    connection: DatabaseConnection,
  ) {
    this.keys = new SigningKeys((ciphertext) => secrets.open(ciphertext));
    // a lease outlives the request it covers, and is renewed while the lane is here
    this.loop = new WorkLoop(config.env.webhookTimeoutMs);
    this.owner = this.loop.owner;
    this.leaseMs = this.loop.leaseMs;
    this.wakeups = new DeliveryWakeups(
      connection.url,
      (host) => {
        this.metrics.wakeups.inc({ source: 'notify' });
        this.wake(host);
      },
      () => void this.discover(),
    );
  }

  /** Starts listening, looking for work, renewing leases and keeping the gauges. */
  start(): void {
    if (this.running || this.stopping) return;
    this.running = true;
    this.wakeups.start();
    const every = (ms: number, work: () => unknown): void => {
      this.timers.push(setInterval(() => void work(), ms));
    };
    let ticks = 0;
    every(DISCOVER_UNLISTENED_MS, () => {
      ticks++;
      const listened = this.wakeups.connected;
      if (!listened || ticks % (DISCOVER_MS / DISCOVER_UNLISTENED_MS) === 0) return this.discover();
    });
    every(this.loop.heartbeatMs, () => this.renew());
    every(5000, () => this.gauges());
    every(60_000, () => this.store.sweepIdleLanes().catch(() => undefined));
    void this.discover();
  }

  /** Requests in flight now, in this process. */
  get inFlightCount(): number {
    return this.inFlight.size;
  }

  /** The per-host limit now, for metrics and tests. */
  hostLimit(host: string): number | undefined {
    return this.hosts.get(host)?.limit.limit;
  }

  /** A lane of `host` gained work somewhere: claim for it. */
  wake(host: string): void {
    if (!this.running || this.stopping) return;
    this.host(host).due = true;
    this.claimSoon();
  }

  /**
   * Shutdown: stop claiming, give back what is queued here, let requests in
   * flight finish up to a deadline, tear down the rest, record every attempt,
   * and only then hand the remaining leases back.
   */
  async onModuleDestroy(): Promise<void> {
    this.stopping = true;
    for (const timer of this.timers) clearInterval(timer);
    clearTimeout(this.wakeTimer);
    await this.wakeups.stop();
    await this.claiming;
    const queued = [...this.queued.keys()];
    this.queued.clear();
    for (const state of this.hosts.values()) state.queue.length = 0;
    if (this.inFlight.size > 0) {
      await this.loop.drain([...this.inFlight.values()].map((flight) => flight.done));
      const left = [...this.inFlight.values()];
      for (const flight of left) flight.abort.abort();
      await Promise.allSettled(left.map((flight) => flight.done));
      if (left.length > 0) this.logger.warn(`shutdown: tore down ${left.length} webhook requests`);
    }
    await this.flushAll();
    await this.store.release(this.owner, queued).catch((error: unknown) => {
      this.logger.warn(`shutdown: leases not given back: ${(error as Error).message}`);
    });
  }

  private host(host: string): HostState {
    let state = this.hosts.get(host);
    if (!state) {
      const env = this.config.env;
      state = new HostState(
        host,
        new AdaptiveLimit(env.dispatcherPerHostConcurrency, env.dispatcherPerHostMax),
      );
      this.hosts.set(host, state);
    }
    return state;
  }

  private claimSoon(): void {
    if (this.claiming) {
      this.claimAgain = true;
      return;
    }
    this.claiming = this.claimLoop().finally(() => (this.claiming = null));
  }

  private async claimLoop(): Promise<void> {
    // let the wake-ups of one tick gather into one claim
    await new Promise((done) => setImmediate(done));
    do {
      this.claimAgain = false;
      try {
        await this.claimOnce();
      } catch (error) {
        this.logger.warn(`claim failed: ${(error as Error).message}`);
        await new Promise((done) => setTimeout(done, DATABASE_RETRY_MS));
        this.claimAgain = true;
      }
    } while (this.claimAgain && !this.stopping);
  }

  private async claimOnce(): Promise<void> {
    if (this.stopping) return;
    const room = this.config.env.dispatcherConcurrency * 4 - this.queued.size - this.inFlight.size;
    const wants: { host: string; n: number }[] = [];
    let budget = room;
    for (const state of this.hosts.values()) {
      if (!state.due || budget <= 0) continue;
      const n = Math.min(CLAIM_BATCH, budget, state.target() - state.queue.length - state.inFlight);
      if (n <= 0) continue;
      wants.push({ host: state.host, n });
      budget -= n;
    }
    if (wants.length === 0) return;
    const leased = await this.store.lease(this.owner, this.leaseMs, wants);
    const got = new Map<string, number>();
    for (const lane of leased) got.set(lane.host, (got.get(lane.host) ?? 0) + 1);
    for (const want of wants) {
      const full = (got.get(want.host) ?? 0) >= want.n;
      this.host(want.host).due = full;
      if (full) this.claimAgain = true;
    }
    if (leased.length === 0) return;
    let heads: Map<string, LaneHead>;
    try {
      heads = await this.store.heads(leased);
    } catch (error) {
      await this.store
        .release(
          this.owner,
          leased.map((lane) => lane.id),
        )
        .catch(() => undefined);
      throw error;
    }
    const now = new Date();
    const holdMs = this.config.env.webhookOrderHoldMs;
    for (const lane of leased) {
      const head = heads.get(lane.id);
      const verdict = decideHead(lane, head, now, holdMs);
      if (!verdict.send) {
        if (verdict.completion.outcome === 'superseded') {
          this.metrics.outcomes.inc({ outcome: 'superseded' });
        }
        this.record(verdict.completion);
        continue;
      }
      const item = { lane, head: head as LaneHead };
      this.queued.set(lane.id, item);
      this.host(lane.host).queue.push(item);
    }
    this.pump();
  }

  /** Starts requests while there is room, taking hosts in turn. */
  private pump(): void {
    if (this.stopping) return;
    const cap = this.config.env.dispatcherConcurrency;
    const states = [...this.hosts.values()];
    let idle = 0;
    while (this.inFlight.size < cap && idle < states.length) {
      const state = states[this.rotation++ % states.length];
      if (state.queue.length === 0 || state.inFlight >= state.limit.limit) {
        idle++;
        continue;
      }
      idle = 0;
      this.launch(state, state.queue.shift() as Item);
    }
    if (this.rotation > 1e9) this.rotation = 0;
  }

  private launch(state: HostState, item: Item): void {
    this.queued.delete(item.lane.id);
    const abort = new AbortController();
    const inFlightAtStart = state.inFlight;
    const ticket = state.limit.start();
    state.inFlight++;
    const at = new Date();
    const done = this.send(item.head, at, abort.signal)
      .then((result): void => {
        state.inFlight--;
        state.completed(Date.now());
        state.limit.record(ticket, hostSignal(result), inFlightAtStart);
        this.inFlight.delete(item.lane.id);
        this.metrics.inFlight.set(this.inFlight.size);
        this.metrics.attemptDuration.observe(
          { result: resultClass(result.statusCode) },
          result.durationMs / 1000,
        );
        this.finished(item, at, result, abort.signal.aborted);
        this.pump();
        if (state.queue.length + state.inFlight < state.target()) this.claimSoon();
      })
      .catch((error: unknown) => {
        // the lease runs out and another round sends it again: late, never lost
        this.logger.error(`delivery ${item.head.id} not recorded: ${(error as Error).message}`);
      });
    this.inFlight.set(item.lane.id, { ...item, abort, done });
    this.metrics.inFlight.set(this.inFlight.size);
  }

  private async send(head: LaneHead, at: Date, signal: AbortSignal): Promise<SendResult> {
    let headers: Record<string, string>;
    try {
      headers = this.keys.headers(head, at);
    } catch (error) {
      // e.g. ENCRYPTION_KEY changed: nothing is sent, and the attempt log says why
      return {
        statusCode: null,
        durationMs: 0,
        error: `cannot sign: ${(error as Error).message}`,
        responseBody: null,
        responseHeaders: null,
        retryAfterMs: null,
        refused: false,
      };
    }
    return this.sender.send(this.url(head.callbackUrl), headers, head.payload, signal);
  }

  /** Each callback URL is parsed once, not once per message. */
  private url(text: string): URL | string {
    let url = this.urls.get(text);
    if (!url) {
      try {
        url = new URL(text);
      } catch {
        return text; // the sender reports it
      }
      if (this.urls.size >= 10_000) this.urls.clear();
      this.urls.set(text, url);
    }
    return url;
  }

  private finished(item: Item, at: Date, result: SendResult, aborted: boolean): void {
    const attempt = {
      at,
      statusCode: result.statusCode,
      durationMs: result.durationMs,
      error: result.error,
      responseBody: result.responseBody,
      responseHeaders: result.responseHeaders,
    };
    if (aborted) {
      this.record(releaseAttempt(item.lane, item.head, attempt));
      return;
    }
    const decision = decideAfterAttempt(
      result,
      item.head.attempts + 1,
      this.config.env.webhookRetryScheduleMs,
    );
    const completion = completeAttempt(
      item.lane,
      item.head,
      decision,
      attempt,
      this.config.env.webhookOrderHoldMs,
    );
    this.describe(item.head, completion, result);
    if (completion.outcome === 'succeeded') {
      this.metrics.endToEnd.observe((Date.now() - item.head.observedAt.getTime()) / 1000);
    }
    this.record(completion);
  }

  /** One line for every attempt a person may have to act on, with its ids as fields. */
  private describe(head: LaneHead, completion: Completion, result: SendResult): void {
    const answer = result.statusCode !== null ? `HTTP ${result.statusCode}` : (result.error ?? '');
    const attempt = head.attempts + 1;
    const ids = `delivery ${head.id} (subscription ${head.subscriptionId}, ${head.eventType} #${head.sequence})`;
    const fields = {
      deliveryId: head.id,
      subscriptionId: head.subscriptionId,
      eventType: head.eventType,
      sequence: head.sequence,
      attempt,
      statusCode: result.statusCode,
      error: result.error,
    };
    switch (completion.outcome) {
      case 'retry':
      case 'detach': {
        const next = completion.nextAttemptAt?.toISOString();
        const overtaken =
          completion.outcome === 'detach'
            ? '; later events of the subscription now go ahead of it (WEBHOOK_ORDER_HOLD)'
            : '';
        this.logger.warn({
          msg: `webhook attempt ${attempt} failed: ${ids}: ${answer}; next attempt at ${next}${overtaken}`,
          ...fields,
          nextAttemptAt: next,
        });
        break;
      }
      case 'failed':
        this.logger.warn({
          msg: `webhook delivery failed for good after ${attempt} attempts: ${ids}: ${answer}; POST /v1/deliveries/${head.id}/redeliver sends it again`,
          ...fields,
        });
        break;
      case 'gone':
        this.logger.warn({
          msg:
            head.endpointId !== null
              ? `endpoint ${head.endpointId} disabled: it answered 410 Gone to ${ids}; its deliveries are held until PATCH /v1/endpoints/${head.endpointId} {"state":"active"} or a recovery`
              : `subscription ${head.subscriptionId} disabled: its endpoint answered 410 Gone to ${ids}; its deliveries are held`,
          ...fields,
        });
        break;
      case 'superseded':
        if (result.statusCode === null || result.statusCode >= 300) {
          this.logger.warn({
            msg: `webhook attempt ${attempt} failed: ${ids}: ${answer}; superseded by a newer event`,
            ...fields,
          });
        }
        break;
    }
  }

  /** Queues a completion for the next batch. */
  private record(completion: Completion): void {
    this.pending.push(completion);
    if (!this.flushing) this.flushing = this.flushLoop().finally(() => (this.flushing = null));
  }

  private async flushLoop(): Promise<void> {
    // completions of the same tick go into one statement
    await new Promise((done) => setImmediate(done));
    while (this.pending.length > 0) {
      const batch = this.pending.splice(0, COMPLETION_BATCH);
      const idle = this.idleLanes.splice(0);
      let states: CompletionState[];
      this.writing = batch;
      try {
        states = await this.store.complete(this.owner, batch, idle);
        this.writing = [];
      } catch (error) {
        this.writing = [];
        // kept and tried again: the attempt happened and must be logged
        this.pending.unshift(...batch);
        this.idleLanes.push(...idle);
        this.logger.warn(`recording ${batch.length} attempts failed: ${(error as Error).message}`);
        await new Promise((done) => setTimeout(done, DATABASE_RETRY_MS));
        if (this.stopping && this.pending.length > 0 && !(await this.databaseAnswers())) return;
        continue;
      }
      this.settled(batch, states);
    }
  }

  private async databaseAnswers(): Promise<boolean> {
    try {
      await this.store.hosts(1);
      return true;
    } catch {
      return false;
    }
  }

  private async flushAll(): Promise<void> {
    while (this.flushing || this.pending.length > 0) {
      if (!this.flushing) this.flushing = this.flushLoop().finally(() => (this.flushing = null));
      await this.flushing;
      if (this.pending.length > 0 && !(await this.databaseAnswers())) return;
    }
  }

  private settled(batch: Completion[], states: CompletionState[]): void {
    let again = false;
    batch.forEach((completion, i) => {
      const state = states[i];
      const { lane } = completion;
      if (state === 'lease-lost') {
        this.metrics.outcomes.inc({ outcome: 'lease-lost' });
        if (completion.attempt) {
          this.logger.warn(
            `delivery ${completion.deliveryId}: lease lost before the attempt was recorded`,
          );
        }
        return;
      }
      if (completion.attempt && completion.outcome !== 'release') {
        const outcome =
          completion.outcome === 'detach'
            ? 'retry'
            : completion.outcome === 'gone'
              ? 'gone'
              : state;
        this.metrics.outcomes.inc({ outcome: outcome === 'pending' ? 'retry' : outcome });
      }
      if (completion.laneNext === 'idle') this.idleLanes.push(lane.id);
      if (completion.laneNext === 'now' || completion.outcome === 'detach') {
        this.host(lane.host).due = true;
        again = true;
      }
      if (completion.laneNext === 'at' && completion.laneAt) {
        this.wakeHostAt(lane.host, completion.laneAt.getTime());
      }
      if (completion.outcome === 'detach' && completion.nextAttemptAt) {
        this.wakeHostAt(lane.host, completion.nextAttemptAt.getTime());
      }
    });
    if (again) this.claimSoon();
  }

  /** Looks up which hosts have lanes, and when each is next due. */
  private async discover(): Promise<void> {
    if (!this.running || this.stopping) return;
    let hosts: { host: string; nextDue: Date | null }[];
    try {
      hosts = await this.store.hosts();
    } catch {
      return;
    }
    const now = Date.now();
    let claim = false;
    for (const { host, nextDue } of hosts) {
      if (nextDue === null) continue;
      if (nextDue.getTime() <= now) {
        this.host(host).due = true;
        claim = true;
      } else {
        this.wakeHostAt(host, nextDue.getTime());
      }
    }
    if (claim) {
      this.metrics.wakeups.inc({ source: 'discover' });
      this.claimSoon();
    }
  }

  /** Claims for `host` at `at` (the earliest such time wins one timer). */
  private wakeHostAt(host: string, at: number): void {
    this.host(host);
    if (at >= this.wakeAt || this.stopping) return;
    clearTimeout(this.wakeTimer);
    this.wakeAt = at;
    this.wakeTimer = setTimeout(
      () => {
        this.wakeAt = Infinity;
        void this.discover();
      },
      Math.max(5, at - Date.now() + 5),
    );
  }

  private async renew(): Promise<void> {
    if (this.stopping) return;
    // lanes whose attempt waits to be recorded are still ours: a lease that ran
    // out under a slow batch let this very process claim and send them again
    const held = [
      ...this.queued.keys(),
      ...this.inFlight.keys(),
      ...this.pending.map((completion) => completion.lane.id),
      ...this.writing.map((completion) => completion.lane.id),
    ];
    if (held.length === 0) return;
    let ours: Set<string>;
    try {
      ours = await this.store.renew(this.owner, held, this.leaseMs);
    } catch {
      return;
    }
    for (const id of held) {
      if (ours.has(id)) continue;
      const item = this.queued.get(id);
      if (!item) continue;
      // taken over elsewhere while it waited here: not ours to send any more
      this.queued.delete(id);
      const queue = this.host(item.lane.host).queue;
      const at = queue.indexOf(item);
      if (at >= 0) queue.splice(at, 1);
    }
  }

  private async gauges(): Promise<void> {
    try {
      const stats = await this.store.pendingStats();
      this.metrics.pending.set(stats.count);
      this.metrics.oldestPendingAge.set(stats.oldestAgeMs / 1000);
    } catch {
      // the next round tries again; readiness reports the database
    }
  }
}
