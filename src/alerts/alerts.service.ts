import { Injectable } from '@nestjs/common';
import { newId } from '../common/ids';
import type { SqlRunner } from '../outbox/sql';
import {
  AlertEventType,
  buildEndpointDisabledPayload,
  buildSubscriptionDisabledPayload,
  EndpointDisabledData,
  serializeWebhookPayload,
  SubscriptionDisabledData,
} from '../webhooks/webhook-payload';
import { AlertStore } from './alert.store';

/** Where a tenant's alerts go. */
export interface AlertReceiver {
  url: string;
  /** an endpoint that asked for the alert's type (signed with its secrets); null for the alertUrl */
  endpointId: string | null;
}

// The tenant's alertUrl, then every active endpoint of the tenant whose
// filter lists the type (an empty filter is all types), but the one the
// alert is about: it is the one that stopped answering.
const RECEIVERS = `
  SELECT alert_url AS url, NULL::text AS endpoint_id FROM tenants
  WHERE id = $1 AND alert_url IS NOT NULL
  UNION ALL
  SELECT url, id FROM endpoints
  WHERE tenant_id = $1 AND state = 'active'
    AND (cardinality(events) = 0 OR $2::text = ANY (events))
    AND id IS DISTINCT FROM $3::text
  ORDER BY endpoint_id NULLS FIRST`;

/**
 * Raises a tenant's alerts: one queued message per receiver, in the caller's
 * transaction (the one that disabled the subscription or endpoint), so an
 * alert is queued exactly when the change it reports commits.
 */
@Injectable()
export class AlertsService {
  constructor(private readonly store: AlertStore) {}

  /**
   * Everyone who hears of a tenant's alert of this type: its `alertUrl`, and
   * every other active endpoint that asks for the type, each signing with
   * its own secret.
   */
  async receivers(
    sql: SqlRunner,
    tenantId: string,
    type: AlertEventType,
    aboutEndpointId: string | null = null,
  ): Promise<AlertReceiver[]> {
    const rows = await sql.rows<{ url: string; endpoint_id: string | null }>({
      name: 'alerts.receivers',
      text: RECEIVERS,
      values: [tenantId, type, aboutEndpointId],
    });
    return rows.map((row) => ({ url: row.url, endpointId: row.endpoint_id }));
  }

  /** `subscription.disabled` to each of the tenant's receivers; returns how many were queued. */
  async subscriptionDisabled(
    sql: SqlRunner,
    tenantId: string,
    data: SubscriptionDisabledData,
  ): Promise<number> {
    const payload = serializeWebhookPayload(buildSubscriptionDisabledPayload(data));
    return this.raise(sql, tenantId, 'subscription.disabled', payload, null);
  }

  /** `endpoint.disabled` to each of the tenant's receivers but that endpoint; returns how many. */
  async endpointDisabled(
    sql: SqlRunner,
    tenantId: string,
    data: EndpointDisabledData,
  ): Promise<number> {
    const payload = serializeWebhookPayload(buildEndpointDisabledPayload(data));
    return this.raise(sql, tenantId, 'endpoint.disabled', payload, data.endpointId);
  }

  private async raise(
    sql: SqlRunner,
    tenantId: string,
    type: AlertEventType,
    payload: string,
    aboutEndpointId: string | null,
  ): Promise<number> {
    const receivers = await this.receivers(sql, tenantId, type, aboutEndpointId);
    await this.store.enqueue(
      sql,
      receivers.map((receiver) => ({
        id: newId('msg'),
        tenantId,
        url: receiver.url,
        endpointId: receiver.endpointId,
        eventType: type,
        payload,
      })),
    );
    return receivers.length;
  }
}
