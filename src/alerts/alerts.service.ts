import { Injectable } from '@nestjs/common';
import { newId } from '../common/ids';
import type { SqlRunner } from '../outbox/sql';
import {
  buildSubscriptionDisabledPayload,
  serializeWebhookPayload,
  SubscriptionDisabledData,
} from '../webhooks/webhook-payload';
import { AlertStore } from './alert.store';

/** Where a tenant's alerts go. */
export interface AlertReceiver {
  url: string;
}

const ALERT_URL = `SELECT alert_url FROM tenants WHERE id = $1 AND alert_url IS NOT NULL`;

/**
 * Raises a tenant's alerts: one queued message per receiver, in the caller's
 * transaction (the one that disabled the subscription), so an alert is
 * queued exactly when the change it reports commits.
 */
@Injectable()
export class AlertsService {
  constructor(private readonly store: AlertStore) {}

  /**
   * Everyone who hears of a tenant's alerts: today its `alertUrl`. The one
   * place to add receivers (endpoints whose filter asks for alert types
   * join here, each with its own signing secret).
   */
  async receivers(sql: SqlRunner, tenantId: string): Promise<AlertReceiver[]> {
    const rows = await sql.rows<{ alert_url: string }>({
      name: 'alerts.receivers',
      text: ALERT_URL,
      values: [tenantId],
    });
    return rows.map((row) => ({ url: row.alert_url }));
  }

  /** `subscription.disabled` to each of the tenant's receivers; returns how many were queued. */
  async subscriptionDisabled(
    sql: SqlRunner,
    tenantId: string,
    data: SubscriptionDisabledData,
  ): Promise<number> {
    const receivers = await this.receivers(sql, tenantId);
    const payload = serializeWebhookPayload(buildSubscriptionDisabledPayload(data));
    await this.store.enqueue(
      sql,
      receivers.map((receiver) => ({
        id: newId('msg'),
        tenantId,
        url: receiver.url,
        eventType: 'subscription.disabled',
        payload,
      })),
    );
    return receivers.length;
  }
}
