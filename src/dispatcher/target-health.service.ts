import { Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { AlertsService } from '../alerts/alerts.service';
import { ConfigService } from '../config/config.service';
import { DatabasePool } from '../database/database-pool';
import { DeliveryStore, DisabledEndpoint, DisabledTarget } from '../outbox/delivery.store';
import { inPgTransaction } from '../outbox/sql';
import { disableReason, shouldDisable, sweepIntervalMs, TargetHealth } from './target-health';

/** Subscriptions looked at per sweep; the oldest failures first, the rest next time. */
const SWEEP_BATCH = 200;

/**
 * WEBHOOK_DISABLE_AFTER: a periodic sweep (in every dispatcher process)
 * disables subscriptions and endpoints that have failed without a single
 * success for that long (an endpoint as a whole, across the rows that carry
 * its tasks). Their pending deliveries become held, never dropped, and the
 * tenant's alert receivers get a `subscription.disabled` or
 * `endpoint.disabled` alert queued in the same transaction. A sweep rather than a check in the dispatcher's completion:
 * the completion statement is the drain's hot path, and a window of days
 * needs no sub-second reaction. Lanes a dispatcher holds are left alone.
 */
@Injectable()
export class TargetHealthService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(TargetHealthService.name);
  private timer: NodeJS.Timeout | undefined;
  private sweeping: Promise<void> | null = null;

  constructor(
    private readonly config: ConfigService,
    private readonly store: DeliveryStore,
    private readonly alerts: AlertsService,
    private readonly database: DatabasePool,
  ) {}

  onApplicationBootstrap(): void {
    if (!this.config.env.dispatcherEnabled) return;
    this.timer = setInterval(() => {
      if (!this.sweeping) {
        this.sweeping = this.sweep()
          .then(() => undefined)
          .catch((error: Error) => this.logger.warn(`disable sweep failed: ${error.message}`))
          .finally(() => (this.sweeping = null));
      }
    }, sweepIntervalMs(this.config.env.webhookDisableAfterMs));
  }

  async onModuleDestroy(): Promise<void> {
    clearInterval(this.timer);
    await this.sweeping;
  }

  /** One look: disables what has failed long enough and alerts its tenant. */
  async sweep(): Promise<{ subscriptions: DisabledTarget[]; endpoints: DisabledEndpoint[] }> {
    const disableAfterMs = this.config.env.webhookDisableAfterMs;
    const candidates = await this.store.failingTargets(disableAfterMs, SWEEP_BATCH);
    const due = candidates.filter((c) => shouldDisable(c, c.now, disableAfterMs));
    if (due.length === 0) return { subscriptions: [], endpoints: [] };
    const health = new Map<string, TargetHealth>(due.map((c) => [c.id, c]));
    const window = formatDuration(disableAfterMs);
    const { subscriptions, endpoints } = await inPgTransaction(this.database.pool, async (sql) => {
      const subscriptions = await this.store.disableFailing(
        sql,
        due.filter((c) => !c.endpoint).map((c) => c.id),
        disableAfterMs,
      );
      for (const target of subscriptions) {
        const seen = health.get(target.subscriptionId) as TargetHealth;
        await this.alerts.subscriptionDisabled(sql, target.tenantId, {
          subscriptionId: target.subscriptionId,
          sid: target.sid,
          callbackUrl: target.callbackUrl,
          reason: disableReason(seen, 'callbackUrl', window),
          failingSince: seen.failingSince.toISOString(),
          disabledAt: target.disabledAt.toISOString(),
          heldDeliveries: target.heldDeliveries,
        });
      }
      const endpoints = await this.store.disableFailingEndpoints(
        sql,
        due.filter((c) => c.endpoint).map((c) => c.id),
        disableAfterMs,
      );
      for (const target of endpoints) {
        const seen = health.get(target.endpointId) as TargetHealth;
        await this.alerts.endpointDisabled(sql, target.tenantId, {
          endpointId: target.endpointId,
          url: target.url,
          reason: disableReason(seen, 'url', window),
          failingSince: seen.failingSince.toISOString(),
          disabledAt: target.disabledAt.toISOString(),
          heldDeliveries: target.heldDeliveries,
        });
      }
      return { subscriptions, endpoints };
    });
    for (const target of subscriptions) {
      this.logger.warn({
        msg: `subscription ${target.subscriptionId} (sid ${target.sid}, tenant ${target.tenantId}) disabled: its webhooks failed without a success for WEBHOOK_DISABLE_AFTER; ${target.heldDeliveries} deliveries held until PATCH /v1/subscriptions/${target.subscriptionId} {"state":"active"}`,
        subscriptionId: target.subscriptionId,
        tenantId: target.tenantId,
        sid: target.sid,
        heldDeliveries: target.heldDeliveries,
      });
    }
    for (const target of endpoints) {
      this.logger.warn({
        msg: `endpoint ${target.endpointId} (tenant ${target.tenantId}) disabled: its webhooks failed without a success for WEBHOOK_DISABLE_AFTER; ${target.heldDeliveries} deliveries held until PATCH /v1/endpoints/${target.endpointId} {"state":"active"}`,
        endpointId: target.endpointId,
        tenantId: target.tenantId,
        heldDeliveries: target.heldDeliveries,
      });
    }
    return { subscriptions, endpoints };
  }
}

/** A window in the largest unit that divides it (`5d`, `90m`, `1500ms`), for the alert's words. */
function formatDuration(ms: number): string {
  const units: [string, number][] = [
    ['d', 86_400_000],
    ['h', 3_600_000],
    ['m', 60_000],
    ['s', 1000],
  ];
  for (const [suffix, size] of units) if (ms % size === 0) return `${ms / size}${suffix}`;
  return `${ms}ms`;
}
