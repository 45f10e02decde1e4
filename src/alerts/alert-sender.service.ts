import { Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { WorkLoop } from '../common/work-loop';
import { ConfigService } from '../config/config.service';
import { decideAfterAttempt } from '../dispatcher/retry-policy';
import { TenantSecrets } from '../tenants/tenant-secrets.service';
import { WebhookSender } from '../dispatcher/webhook-sender';
import { buildWebhookHeaders } from '../webhooks/webhook-signer';
import { AlertOutcome, AlertStore, LeasedAlert } from './alert.store';

/** Between looks for due alerts. Alerts are rare: a look is one index probe. */
const TICK_MS = 1000;
/** Alerts leased per look. */
const BATCH = 20;
/** Ended alerts older than HISTORY_RETENTION are deleted this often. */
const PURGE_MS = 60 * 60 * 1000;

/**
 * Sends the tenants' alerts: leases due ones, signs each with its tenant's
 * webhook secret (or, to an endpoint that asked for alerts, the endpoint's) (Standard Webhooks headers, the alert's id as `webhook-id`
 * on every attempt), and retries failures on WEBHOOK_RETRY_SCHEDULE like
 * any delivery. Runs where the dispatcher runs (DISPATCHER_ENABLED), and
 * deletes ended alerts once they are older than HISTORY_RETENTION.
 */
@Injectable()
export class AlertSender implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(AlertSender.name);
  private readonly owner = `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}:alerts`;
  private readonly leaseMs: number;
  private timer: NodeJS.Timeout | undefined;
  private purgeTimer: NodeJS.Timeout | undefined;
  private tick: Promise<void> | null = null;
  private readonly abort = new AbortController();

  constructor(
    private readonly config: ConfigService,
    private readonly store: AlertStore,
    private readonly sender: WebhookSender,
    private readonly secrets: TenantSecrets,
  ) {
    // the dispatcher's lease rules, for a request of the same timeout
    this.leaseMs = new WorkLoop(config.env.webhookTimeoutMs).leaseMs;
  }

  onApplicationBootstrap(): void {
    if (!this.config.env.dispatcherEnabled) return;
    this.timer = setInterval(() => {
      // a look still running is not started twice
      if (!this.tick) {
        this.tick = this.sendDue()
          .then(() => undefined)
          .finally(() => (this.tick = null));
      }
    }, TICK_MS);
    this.purgeTimer = setInterval(() => void this.purge(), PURGE_MS);
    this.purgeTimer.unref();
  }

  async onModuleDestroy(): Promise<void> {
    clearInterval(this.timer);
    clearInterval(this.purgeTimer);
    this.abort.abort();
    await this.tick;
  }

  /** Sends every due alert once; returns how many were attempted. */
  async sendDue(): Promise<number> {
    let alerts: LeasedAlert[];
    try {
      alerts = await this.store.lease(this.owner, this.leaseMs, BATCH);
    } catch (error) {
      this.logger.warn(`looking for due alerts failed: ${(error as Error).message}`);
      return 0;
    }
    await Promise.all(alerts.map((alert) => this.send(alert)));
    return alerts.length;
  }

  private async purge(): Promise<void> {
    try {
      while ((await this.store.purgeEnded(this.config.env.historyRetentionMs)) > 0);
    } catch (error) {
      this.logger.warn(`removing old alerts failed: ${(error as Error).message}`);
    }
  }

  /**
   * An endpoint that asked for alerts verifies them as it verifies its task
   * webhooks: with its own secret, and the rotated-out one beside it while
   * its grace period lasts (as the dispatcher's signing keys do). The
   * alertUrl gets the tenant's.
   */
  private async signingSecrets(alert: LeasedAlert): Promise<string[]> {
    const endpoint = alert.endpoint;
    if (!endpoint) return this.secrets.signingSecrets(alert.tenantId);
    const secrets = [this.secrets.open(endpoint.webhookSecretEnc)];
    if (
      endpoint.previousSecretEnc &&
      endpoint.previousSecretUntil &&
      endpoint.previousSecretUntil > new Date()
    ) {
      secrets.push(this.secrets.open(endpoint.previousSecretEnc));
    }
    return secrets;
  }

  private async send(alert: LeasedAlert): Promise<void> {
    try {
      const headers = buildWebhookHeaders(
        alert.id,
        alert.payload,
        await this.signingSecrets(alert),
      );
      const result = await this.sender.send(alert.url, headers, alert.payload, this.abort.signal);
      if (this.abort.signal.aborted) {
        await this.store.release(this.owner, [alert.id]);
        return;
      }
      const decision = decideAfterAttempt(
        result,
        alert.attempts + 1,
        this.config.env.webhookRetryScheduleMs,
      );
      const outcome: AlertOutcome =
        decision.kind === 'succeeded'
          ? { state: 'succeeded' }
          : decision.kind === 'retry'
            ? { state: 'pending', nextAttemptAt: new Date(Date.now() + decision.delayMs) }
            : { state: 'failed' };
      if (outcome.state !== 'succeeded') {
        const answer = result.statusCode !== null ? `HTTP ${result.statusCode}` : result.error;
        this.logger.warn({
          msg: `alert ${alert.id} (${alert.eventType}, tenant ${alert.tenantId}) to ${alert.endpoint ? `endpoint ${alert.endpoint.id}` : 'alertUrl'} failed: ${answer}; ${outcome.state === 'pending' ? `next attempt at ${outcome.nextAttemptAt.toISOString()}` : 'given up'}`,
          alertId: alert.id,
          tenantId: alert.tenantId,
          statusCode: result.statusCode,
        });
      }
      await this.store.complete(this.owner, alert.id, outcome, result);
    } catch (error) {
      // the lease runs out and the alert comes due again
      this.logger.warn(`sending alert ${alert.id} failed: ${(error as Error).message}`);
    }
  }
}
