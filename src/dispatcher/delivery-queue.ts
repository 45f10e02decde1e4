import { Injectable } from '@nestjs/common';
import { PrismaService } from '../database/prisma.service';
import type { TenantSecretColumns } from '../tenants/tenant-secrets.service';
import { Prisma } from '../generated/prisma/client';
import { HOST_KEY_SQL } from './host-slots';
import type { AttemptDecision } from './retry-policy';

/** A delivery leased to this dispatcher, with what sending it needs. */
export interface ClaimedDelivery {
  id: string;
  subscriptionId: string;
  eventType: string;
  sequence: number;
  payload: string;
  /** attempts made before this one */
  attempts: number;
  callbackUrl: string;
  host: string;
  /** when the event was observed, for the end-to-end latency */
  observedAt: Date;
  /** the task will have no new event: the subscription may be done after this one */
  taskFinished: boolean;
  tenant: TenantSecretColumns;
}

export interface ClaimRequest {
  owner: string;
  limit: number;
  leaseMs: number;
  perHost: number;
  /** this process's requests in flight per host (see HostSlots.snapshot) */
  hosts: string[];
  counts: number[];
  saturated: string[];
}

export interface AttemptRecord {
  at: Date;
  statusCode: number | null;
  durationMs: number;
  error: string | null;
  responseBody: string | null;
}

/** Where a delivery ended up after an attempt; `lease-lost` when another dispatcher had taken it over. */
export type CompletionState = 'succeeded' | 'pending' | 'failed' | 'superseded' | 'lease-lost';

interface ClaimedRow {
  id: string;
  subscription_id: string;
  event_type: string;
  sequence: number;
  payload: string;
  attempts: number;
  callback_url: string;
  host: string | null;
  observed_at: Date;
  task_finished: boolean;
  tenant_id: string;
  uxc_ak: string;
  uxc_sk_enc: string;
  webhook_secret_enc: string;
  previous_secret_enc: string | null;
  previous_secret_until: Date | null;
}

/** Task trackings after which no new event comes. */
const FINISHED_TRACKINGS = ['completed', 'expired', 'error'];

/**
 * The outbox as the dispatcher sees it: every read and write of deliveries
 * the sending loop makes, each in as few statements as it can, and each
 * completion guarded by the lease (`locked_by = owner`).
 */
@Injectable()
export class DeliveryQueue {
  constructor(private readonly prisma: PrismaService) {}

  /**
   * Leases up to `limit` due deliveries in one statement. A delivery is due
   * when it is pending, its time has come, nobody holds a live lease on it,
   * its subscription still wants messages, and no earlier delivery of the
   * same subscription is pending or another of it in flight (so events arrive
   * in sequence order, one at a time). No host gets more than `perHost`
   * requests in flight from here; within a claim, fresh deliveries go before
   * retries.
   * `done` and `disabled` subscriptions are included so that a redelivery by
   * hand is sent: nothing else leaves one of theirs pending (a 410 cancels the
   * rest, and the outbox enqueues for active subscriptions only).
   */
  async claim(request: ClaimRequest): Promise<ClaimedDelivery[]> {
    if (request.limit <= 0) return [];
    // Candidates are read in due order straight off the (state,
    // next_attempt_at) index and the scan stops after `scan` of them, so a
    // claim costs the same with 100 or 100 000 pending: sorting every due row
    // by another key made each claim read the whole backlog. Fresh deliveries
    // are read the same way off the (state, attempts, next_attempt_at) index
    // as well: they are the newest due rows, so a backlog of more than `scan`
    // due retries would otherwise keep them out of every claim until it had
    // drained. They are read without locks (window functions and FOR UPDATE
    // do not mix); the locking step re-checks them row by row.
    const scan = Math.max(100, request.limit * 4);
    const due = Prisma.sql`
        SELECT d.id, d.attempts, d.next_attempt_at, h.host
        FROM deliveries d
        JOIN subscriptions s ON s.id = d.subscription_id
        CROSS JOIN LATERAL (SELECT ${Prisma.raw(HOST_KEY_SQL)} AS host) h
        WHERE d.state = 'pending'
          AND d.next_attempt_at <= now()
          AND (d.locked_until IS NULL OR d.locked_until < now())
          AND s.state IN ('active', 'done', 'disabled')
          AND NOT EXISTS (
            SELECT 1 FROM deliveries e
            WHERE e.subscription_id = d.subscription_id
              AND e.state = 'pending'
              AND e.id <> d.id
              AND (e.sequence < d.sequence OR e.locked_until >= now()))
          AND h.host <> ALL (${request.saturated}::text[])`;
    const rows = await this.prisma.$queryRaw<ClaimedRow[]>`
      WITH candidates AS (
        (${due} ORDER BY d.next_attempt_at LIMIT ${scan})
        UNION
        (${due} AND d.attempts = 0 ORDER BY d.next_attempt_at LIMIT ${scan})
      ),
      busy AS (
        SELECT * FROM unnest(${request.hosts}::text[], ${request.counts}::int[]) AS b(host, n)
      ),
      chosen AS (
        SELECT ranked.id, ranked.host FROM (
          SELECT c.*, row_number() OVER (
            PARTITION BY c.host ORDER BY (c.attempts = 0) DESC, c.next_attempt_at
          ) AS host_rank
          FROM candidates c
        ) ranked
        LEFT JOIN busy ON busy.host = ranked.host
        WHERE ranked.host_rank <= ${request.perHost} - coalesce(busy.n, 0)
        ORDER BY (ranked.attempts = 0) DESC, ranked.next_attempt_at
        LIMIT ${request.limit}
      ),
      locked AS (
        SELECT d.id, chosen.host FROM deliveries d
        JOIN chosen ON chosen.id = d.id
        WHERE d.state = 'pending'
          AND (d.locked_until IS NULL OR d.locked_until < now())
        FOR UPDATE OF d SKIP LOCKED
      )
      UPDATE deliveries d
      SET locked_by = ${request.owner},
          locked_until = now() + ${request.leaseMs} * interval '1 millisecond',
          updated_at = now()
      FROM locked, subscriptions s, tenants t, task_events ev, tasks tk
      WHERE d.id = locked.id AND s.id = d.subscription_id AND t.id = s.tenant_id
        AND ev.id = d.event_id AND tk.id = d.task_id
      RETURNING d.id, d.subscription_id, d.event_type, d.sequence, d.payload, d.attempts,
        s.callback_url, locked.host, ev.observed_at,
        tk.tracking = ANY (${FINISHED_TRACKINGS}::text[]) AS task_finished, t.id AS tenant_id, t.uxc_ak, t.uxc_sk_enc,
        t.webhook_secret_enc, t.previous_secret_enc, t.previous_secret_until`;
    return rows.map(toClaimed);
  }

  /**
   * Of the given leased progress deliveries, marks those that a newer pending
   * delivery of the same subscription has overtaken as superseded, and returns
   * their ids: they are not sent. Receivers get the latest state, not a backlog.
   */
  async supersedeOvertaken(owner: string, ids: string[]): Promise<string[]> {
    if (ids.length === 0) return [];
    const rows = await this.prisma.$queryRaw<{ id: string }[]>`
      UPDATE deliveries d
      SET state = 'superseded', completed_at = now(), updated_at = now(),
          locked_by = NULL, locked_until = NULL
      WHERE d.id = ANY (${ids}::text[]) AND d.locked_by = ${owner}
        AND d.event_type = 'task.progress'
        AND EXISTS (
          SELECT 1 FROM deliveries n
          WHERE n.subscription_id = d.subscription_id AND n.state = 'pending'
            AND n.sequence > d.sequence)
      RETURNING d.id`;
    return rows.map((row) => row.id);
  }

  /**
   * Records one attempt and moves the delivery on, in one statement (so
   * atomically, and in one round trip), if the lease is still ours. The
   * attempt is logged whoever holds the lease now: it happened. A 410 disables
   * the subscription and cancels its other pending deliveries. A progress
   * delivery that failed while a newer event queued up behind it is
   * superseded rather than retried.
   */
  async complete(
    owner: string,
    delivery: ClaimedDelivery,
    attempt: AttemptRecord,
    decision: AttemptDecision,
  ): Promise<CompletionState> {
    const logAttempt = Prisma.sql`
      INSERT INTO delivery_attempts (delivery_id, at, status_code, duration_ms, error, response_body)
      VALUES (${delivery.id}, ${attempt.at}, ${attempt.statusCode}, ${attempt.durationMs},
              ${attempt.error}, ${attempt.responseBody})`;
    let rows: { state: CompletionState }[];
    switch (decision.kind) {
      case 'succeeded':
      case 'failed':
        rows = await this.prisma.$queryRaw`
          WITH attempt AS (${logAttempt})
          UPDATE deliveries
          SET state = ${decision.kind}, attempts = attempts + 1,
              completed_at = now(), updated_at = now(), locked_by = NULL, locked_until = NULL
          WHERE id = ${delivery.id} AND locked_by = ${owner} AND state = 'pending'
          RETURNING state`;
        break;
      case 'gone':
        // the CTEs share one snapshot: the cancel leaves this delivery to `ended`
        rows = await this.prisma.$queryRaw`
          WITH attempt AS (${logAttempt}),
          ended AS (
            UPDATE deliveries
            SET state = 'failed', attempts = attempts + 1,
                completed_at = now(), updated_at = now(), locked_by = NULL, locked_until = NULL
            WHERE id = ${delivery.id} AND locked_by = ${owner} AND state = 'pending'
            RETURNING subscription_id, state
          ),
          disabled AS (
            UPDATE subscriptions SET state = 'disabled', updated_at = now()
            WHERE id IN (SELECT subscription_id FROM ended) AND state IN ('active', 'done')
          ),
          canceled AS (
            UPDATE deliveries
            SET state = 'canceled', completed_at = now(), updated_at = now(),
                locked_by = NULL, locked_until = NULL
            WHERE subscription_id IN (SELECT subscription_id FROM ended)
              AND state = 'pending' AND id <> ${delivery.id}
          )
          SELECT state FROM ended`;
        break;
      case 'retry':
        rows = await this.prisma.$queryRaw`
          WITH attempt AS (${logAttempt})
          UPDATE deliveries d
          SET state = CASE WHEN overtaken THEN 'superseded' ELSE 'pending' END,
              completed_at = CASE WHEN overtaken THEN now() END,
              attempts = attempts + 1,
              next_attempt_at = now() + ${decision.delayMs} * interval '1 millisecond',
              updated_at = now(), locked_by = NULL, locked_until = NULL
          FROM (
            SELECT d2.event_type = 'task.progress' AND EXISTS (
              SELECT 1 FROM deliveries n
              WHERE n.subscription_id = d2.subscription_id AND n.state = 'pending'
                AND n.sequence > d2.sequence) AS overtaken
            FROM deliveries d2 WHERE d2.id = ${delivery.id}
          ) o
          WHERE d.id = ${delivery.id} AND d.locked_by = ${owner} AND d.state = 'pending'
          RETURNING d.state`;
        break;
    }
    return rows.length === 0 ? 'lease-lost' : rows[0].state;
  }

  /** Gives leases back early (shutdown): another dispatcher may take them at once. */
  async release(owner: string, ids: string[]): Promise<number> {
    if (ids.length === 0) return 0;
    return this.prisma.$executeRaw`
      UPDATE deliveries SET locked_by = NULL, locked_until = NULL, updated_at = now()
      WHERE id = ANY (${ids}::text[]) AND locked_by = ${owner}`;
  }

  /**
   * Subscriptions (all, or the given ones) whose task will have no new event
   * and which have nothing pending become `done`. Returns how many did.
   */
  async finishSubscriptions(subscriptionIds?: string[]): Promise<number> {
    const only = subscriptionIds ?? null;
    return this.prisma.$executeRaw`
      UPDATE subscriptions s SET state = 'done', updated_at = now()
      FROM tasks t
      WHERE s.state = 'active' AND t.id = s.task_id
        AND t.tracking = ANY (${FINISHED_TRACKINGS}::text[])
        AND (${only}::text[] IS NULL OR s.id = ANY (${only}::text[]))
        AND NOT EXISTS (
          SELECT 1 FROM deliveries d WHERE d.subscription_id = s.id AND d.state = 'pending')`;
  }

  /**
   * Pending progress deliveries that a newer pending delivery of the same
   * subscription has overtaken and that nobody is sending: superseded. The
   * outbox does this when it inserts; this catches the ones that were in
   * flight at that moment and are waiting for a retry.
   */
  async supersedeStaleProgress(): Promise<number> {
    return this.prisma.$executeRaw`
      UPDATE deliveries d
      SET state = 'superseded', completed_at = now(), updated_at = now()
      WHERE d.state = 'pending' AND d.event_type = 'task.progress'
        AND (d.locked_until IS NULL OR d.locked_until < now())
        AND EXISTS (
          SELECT 1 FROM deliveries n
          WHERE n.subscription_id = d.subscription_id AND n.state = 'pending'
            AND n.sequence > d.sequence)`;
  }

  /** How many deliveries are pending, and how old the oldest one is. */
  async pendingStats(): Promise<{ count: number; oldestAgeMs: number }> {
    const [row] = await this.prisma.$queryRaw<{ count: bigint; oldest_age_ms: number | null }[]>`
      SELECT count(*) AS count,
             (extract(epoch FROM now() - min(created_at)) * 1000)::float8 AS oldest_age_ms
      FROM deliveries WHERE state = 'pending'`;
    return { count: Number(row.count), oldestAgeMs: row.oldest_age_ms ?? 0 };
  }
}

function toClaimed(row: ClaimedRow): ClaimedDelivery {
  return {
    id: row.id,
    subscriptionId: row.subscription_id,
    eventType: row.event_type,
    sequence: row.sequence,
    payload: row.payload,
    attempts: row.attempts,
    callbackUrl: row.callback_url,
    host: row.host ?? '',
    observedAt: row.observed_at,
    taskFinished: row.task_finished,
    tenant: {
      id: row.tenant_id,
      uxcAk: row.uxc_ak,
      uxcSkEnc: row.uxc_sk_enc,
      webhookSecretEnc: row.webhook_secret_enc,
      previousSecretEnc: row.previous_secret_enc,
      previousSecretUntil: row.previous_secret_until,
    },
  };
}
