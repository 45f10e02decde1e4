import { Injectable, Logger, OnModuleDestroy } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { ConfigService } from '../config/config.service';
import { TenantSecrets } from '../tenants/tenant-secrets.service';
import { buildWebhookHeaders } from '../webhooks/webhook-signer';
import { SendResult, WebhookSender } from '../webhooks/webhook-sender';
import { ClaimedDelivery, CompletionState, DeliveryQueue } from './delivery-queue';
import { DispatcherMetrics, resultClass } from './dispatcher.metrics';
import { HostSlots } from './host-slots';
import { AttemptDecision, decideAfterAttempt } from './retry-policy';

/** The longest a shutdown waits for requests in flight before giving their leases back. */
const SHUTDOWN_DEADLINE_MAX_MS = 10_000;

/**
 * A lease outlives the request it covers (WEBHOOK_TIMEOUT_MS) by this much, so
 * recording the attempt fits in it; a crashed dispatcher's deliveries are
 * taken over once it runs out.
 */
export function leaseMs(webhookTimeoutMs: number): number {
  return webhookTimeoutMs + Math.min(5000, Math.max(1000, webhookTimeoutMs));
}

/**
 * The sending loop's work: lease due deliveries within the global and
 * per-host caps, send each one signed, record the attempt and move the
 * delivery on. A tick that is still running is not started again; the
 * scheduler and every completion merely ask for another round.
 */
@Injectable()
export class DispatcherService implements OnModuleDestroy {
  private readonly logger = new Logger(DispatcherService.name);
  /** Names this process in `locked_by`. */
  readonly owner = `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
  private readonly hostSlots: HostSlots;
  private readonly inFlight = new Map<string, Promise<void>>();
  private ticking: Promise<void> | null = null;
  private again = false;
  private stopping = false;

  constructor(
    private readonly config: ConfigService,
    private readonly queue: DeliveryQueue,
    private readonly sender: WebhookSender,
    private readonly secrets: TenantSecrets,
    private readonly metrics: DispatcherMetrics,
  ) {
    this.hostSlots = new HostSlots(config.env.dispatcherPerHostConcurrency);
  }

  /** Claims and starts as many deliveries as there is room for. Resolves once they are started. */
  tick(): Promise<void> {
    if (this.stopping) return Promise.resolve();
    if (this.ticking) {
      this.again = true;
      return this.ticking;
    }
    this.ticking = this.run().finally(() => (this.ticking = null));
    return this.ticking;
  }

  /** Periodic housekeeping: stale progress, finished subscriptions, queue gauges. */
  async sweep(): Promise<void> {
    if (this.stopping) return;
    try {
      await this.queue.supersedeStaleProgress();
      await this.queue.finishSubscriptions();
      const stats = await this.queue.pendingStats();
      this.metrics.pending.set(stats.count);
      this.metrics.oldestPendingAge.set(stats.oldestAgeMs / 1000);
    } catch (error) {
      this.logger.warn(`dispatcher sweep failed: ${(error as Error).message}`);
    }
  }

  /** Requests in flight now, in this process. */
  get inFlightCount(): number {
    return this.inFlight.size;
  }

  /**
   * Shutdown: stop claiming, let requests in flight finish up to a deadline,
   * then give the leases of the rest back so another dispatcher takes them
   * over at once instead of after the lease runs out.
   */
  async onModuleDestroy(): Promise<void> {
    this.stopping = true;
    await this.ticking;
    if (this.inFlight.size === 0) return;
    const deadlineMs = Math.min(this.config.env.webhookTimeoutMs + 500, SHUTDOWN_DEADLINE_MAX_MS);
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.allSettled([...this.inFlight.values()]),
      new Promise<void>((done) => (timer = setTimeout(done, deadlineMs))),
    ]);
    clearTimeout(timer);
    const left = [...this.inFlight.keys()];
    if (left.length > 0) {
      const released = await this.queue.release(this.owner, left).catch(() => 0);
      this.logger.warn(`shutdown: released ${released} deliveries still in flight`);
    }
  }

  private async run(): Promise<void> {
    try {
      do {
        this.again = false;
        await this.claimAndStart();
      } while (this.again && !this.stopping);
    } catch (error) {
      this.logger.error(`dispatcher tick failed: ${(error as Error).message}`);
    }
  }

  private async claimAndStart(): Promise<void> {
    const room = this.config.env.dispatcherConcurrency - this.inFlight.size;
    if (room <= 0) return;
    const claimed = await this.queue.claim({
      owner: this.owner,
      limit: room,
      leaseMs: leaseMs(this.config.env.webhookTimeoutMs),
      perHost: this.hostSlots.perHost,
      ...this.hostSlots.snapshot(),
    });
    if (claimed.length === 0) return;
    const progress = claimed.filter((delivery) => delivery.eventType === 'task.progress');
    const superseded = new Set(
      await this.queue.supersedeOvertaken(
        this.owner,
        progress.map((delivery) => delivery.id),
      ),
    );
    if (superseded.size > 0) this.metrics.outcomes.inc({ outcome: 'superseded' }, superseded.size);
    for (const delivery of claimed) {
      if (!superseded.has(delivery.id)) this.start(delivery);
    }
  }

  private start(delivery: ClaimedDelivery): void {
    this.hostSlots.acquire(delivery.host);
    const work = this.deliver(delivery)
      .catch((error: unknown) => {
        // the lease runs out and another round sends it again: late, never lost
        this.logger.error(`delivery ${delivery.id} not recorded: ${(error as Error).message}`);
      })
      .finally(() => {
        this.hostSlots.release(delivery.host);
        this.inFlight.delete(delivery.id);
        this.metrics.inFlight.set(this.inFlight.size);
        void this.tick();
      });
    this.inFlight.set(delivery.id, work);
    this.metrics.inFlight.set(this.inFlight.size);
  }

  private async deliver(delivery: ClaimedDelivery): Promise<void> {
    const at = new Date();
    const result = await this.send(delivery, at);
    const attemptsMade = delivery.attempts + 1;
    const decision = decideAfterAttempt(
      result,
      attemptsMade,
      this.config.env.webhookRetryScheduleMs,
    );
    const state = await this.queue.complete(this.owner, delivery, { at, ...result }, decision);
    this.observe(delivery, result, decision, state);
    // the periodic sweep catches tasks that finished while this was in flight
    if (delivery.taskFinished && state !== 'pending' && state !== 'lease-lost') {
      await this.queue.finishSubscriptions([delivery.subscriptionId]);
    }
  }

  private async send(delivery: ClaimedDelivery, at: Date): Promise<SendResult> {
    let headers: Record<string, string>;
    try {
      const secrets = await this.secrets.signingSecrets(delivery.tenant, at);
      headers = buildWebhookHeaders(delivery.id, delivery.payload, secrets, at);
    } catch (error) {
      // e.g. ENCRYPTION_KEY changed: nothing is sent, and the attempt log says why
      return {
        statusCode: null,
        durationMs: 0,
        error: `cannot sign: ${(error as Error).message}`,
        responseBody: null,
        retryAfterMs: null,
        refused: false,
      };
    }
    return this.sender.send(delivery.callbackUrl, headers, delivery.payload);
  }

  private observe(
    delivery: ClaimedDelivery,
    result: SendResult,
    decision: AttemptDecision,
    state: CompletionState,
  ): void {
    this.metrics.attemptDuration.observe(
      { result: resultClass(result.statusCode) },
      result.durationMs / 1000,
    );
    const outcome =
      state === 'lease-lost' || state === 'superseded'
        ? state
        : decision.kind === 'retry'
          ? 'retry'
          : decision.kind;
    this.metrics.outcomes.inc({ outcome });
    if (state === 'succeeded') {
      this.metrics.endToEnd.observe((Date.now() - delivery.observedAt.getTime()) / 1000);
    }
    if (state === 'lease-lost') {
      this.logger.warn(`delivery ${delivery.id}: lease lost before the attempt was recorded`);
    }
  }
}
