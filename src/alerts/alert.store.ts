import { Injectable } from '@nestjs/common';
import { DatabasePool } from '../database/database-pool';
import { pgRunner, SqlRunner } from '../outbox/sql';

/** An alert to queue for one receiver, its body already rendered. */
export interface NewAlert {
  id: string;
  tenantId: string;
  url: string;
  /** the endpoint receiving it (signed with its secrets), or null for the tenant's alertUrl */
  endpointId: string | null;
  eventType: string;
  payload: string;
}

/** An alert leased to this sender. */
export interface LeasedAlert {
  id: string;
  tenantId: string;
  url: string;
  /** the receiving endpoint's sealed secrets, when an endpoint receives it */
  endpoint: EndpointSecretColumns | null;
  eventType: string;
  payload: string;
  attempts: number;
}

export interface EndpointSecretColumns {
  id: string;
  webhookSecretEnc: string;
  previousSecretEnc: string | null;
  previousSecretUntil: Date | null;
}

export type AlertOutcome =
  { state: 'succeeded' | 'failed' } | { state: 'pending'; nextAttemptAt: Date };

const ENQUEUE = `
  INSERT INTO tenant_alerts (id, tenant_id, url, event_type, payload, endpoint_id)
  SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[])`;

// Leasing moves next_attempt_at to the lease's end: a sender that dies leaves
// the alert to come due again then, for any sender to take.
const LEASE = `
  WITH next AS (
    SELECT id FROM tenant_alerts
    WHERE state = 'pending' AND next_attempt_at <= now()
    ORDER BY next_attempt_at
    LIMIT $3
    FOR UPDATE SKIP LOCKED
  )
  UPDATE tenant_alerts a SET locked_by = $1,
    locked_until = now() + $2 * interval '1 millisecond',
    next_attempt_at = now() + $2 * interval '1 millisecond'
  FROM next WHERE a.id = next.id
  RETURNING a.id, a.tenant_id, a.url, a.event_type, a.payload, a.attempts, a.endpoint_id,
    (SELECT e.webhook_secret_enc FROM endpoints e WHERE e.id = a.endpoint_id) AS webhook_secret_enc,
    (SELECT e.previous_secret_enc FROM endpoints e WHERE e.id = a.endpoint_id) AS previous_secret_enc,
    (SELECT e.previous_secret_until FROM endpoints e WHERE e.id = a.endpoint_id) AS previous_secret_until`;

const COMPLETE = `
  UPDATE tenant_alerts SET
    state = $3::alert_state, attempts = attempts + 1,
    next_attempt_at = coalesce($4, next_attempt_at),
    completed_at = CASE WHEN $3::alert_state = 'pending' THEN NULL ELSE now() END,
    last_status_code = $5, last_error = $6, locked_by = NULL, locked_until = NULL
  WHERE id = $1 AND locked_by = $2 AND state = 'pending'`;

const RELEASE = `
  UPDATE tenant_alerts SET locked_by = NULL, locked_until = NULL, next_attempt_at = now()
  WHERE id = ANY ($1::text[]) AND locked_by = $2 AND state = 'pending'`;

// ended alerts past HISTORY_RETENTION, a bounded batch at a time
const PURGE = `
  DELETE FROM tenant_alerts WHERE id = ANY (ARRAY(
    SELECT id FROM tenant_alerts
    WHERE state <> 'pending' AND completed_at < now() - $1 * interval '1 millisecond'
    LIMIT $2))
  RETURNING id`;

/**
 * The tenant_alerts table: the outbox of a tenant's own alerts. Queued in the
 * transaction that raises them, leased and completed by AlertSender.
 */
@Injectable()
export class AlertStore {
  private readonly pool: SqlRunner;

  constructor(database: DatabasePool) {
    this.pool = pgRunner(database.pool);
  }

  async enqueue(sql: SqlRunner, alerts: NewAlert[]): Promise<void> {
    if (alerts.length === 0) return;
    await sql.rows({
      name: 'alerts.enqueue',
      text: ENQUEUE,
      values: [
        alerts.map((a) => a.id),
        alerts.map((a) => a.tenantId),
        alerts.map((a) => a.url),
        alerts.map((a) => a.eventType),
        alerts.map((a) => a.payload),
        alerts.map((a) => a.endpointId),
      ],
    });
  }

  /** Leases up to `n` due alerts for `leaseMs`. */
  async lease(owner: string, leaseMs: number, n: number): Promise<LeasedAlert[]> {
    const rows = await this.pool.rows<{
      id: string;
      tenant_id: string;
      url: string;
      event_type: string;
      payload: string;
      attempts: number;
      endpoint_id: string | null;
      webhook_secret_enc: string | null;
      previous_secret_enc: string | null;
      previous_secret_until: Date | null;
    }>({ name: 'alerts.lease', text: LEASE, values: [owner, leaseMs, n] });
    return rows.map((row) => ({
      id: row.id,
      tenantId: row.tenant_id,
      url: row.url,
      endpoint:
        row.endpoint_id && row.webhook_secret_enc
          ? {
              id: row.endpoint_id,
              webhookSecretEnc: row.webhook_secret_enc,
              previousSecretEnc: row.previous_secret_enc,
              previousSecretUntil: row.previous_secret_until,
            }
          : null,
      eventType: row.event_type,
      payload: row.payload,
      attempts: row.attempts,
    }));
  }

  /** Records an attempt's outcome, if the lease is still ours. */
  async complete(
    owner: string,
    id: string,
    outcome: AlertOutcome,
    answer: { statusCode: number | null; error: string | null },
  ): Promise<void> {
    await this.pool.rows({
      name: 'alerts.complete',
      text: COMPLETE,
      values: [
        id,
        owner,
        outcome.state,
        outcome.state === 'pending' ? outcome.nextAttemptAt : null,
        answer.statusCode,
        answer.error,
      ],
    });
  }

  /** Deletes up to `limit` alerts that ended more than `retentionMs` ago; returns how many. */
  async purgeEnded(retentionMs: number, limit = 1000): Promise<number> {
    const rows = await this.pool.rows<{ id: string }>({
      name: 'alerts.purge',
      text: PURGE,
      values: [retentionMs, limit],
    });
    return rows.length;
  }

  /** Gives leases back, due now (shutdown). */
  async release(owner: string, ids: string[]): Promise<void> {
    if (ids.length === 0) return;
    await this.pool.rows({ name: 'alerts.release', text: RELEASE, values: [ids, owner] });
  }
}
