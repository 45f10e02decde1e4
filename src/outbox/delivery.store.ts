import { Injectable } from '@nestjs/common';
import { DatabasePool } from '../database/database-pool';
import { endpointSql } from '../endpoints/endpoint.store';
import { FINISH_IDLE_SUBSCRIPTIONS, subscriptionSql } from '../subscriptions/subscription.store';
import { pgRunner, SqlRunner } from './sql';

/** Channel the outbox notifies, with a callback host as payload, when a lane gains work. */
export const DELIVERY_CHANNEL = 'uxc_relay_deliveries';

/** A delivery to queue: one event for one subscription, its body already rendered. */
export interface NewDelivery {
  id: string;
  subscriptionId: string;
  taskId: string;
  eventId: bigint;
  eventType: string;
  sequence: number;
  payload: string;
  /** the subscription's callback host key (see hostKey) */
  host: string;
  /** for a disabled endpoint: kept as `held`, sent when it is re-enabled or recovered */
  held?: boolean;
}

/** A lane leased to this dispatcher. */
export interface LeasedLane {
  id: string;
  subscriptionId: string;
  /** set for a detached delivery's own lane */
  deliveryId: string | null;
  host: string;
  version: number;
}

/** What a leased lane has to send now: its head of line, with what sending it needs. */
export interface LaneHead {
  laneId: string;
  id: string;
  subscriptionId: string;
  eventType: string;
  sequence: number;
  payload: string;
  attempts: number;
  nextAttemptAt: Date;
  firstFailedAt: Date | null;
  detached: boolean;
  callbackUrl: string;
  observedAt: Date;
  tenantId: string;
  /** whose secrets sign it: the tenant's id, or the endpoint's for an endpoint's delivery */
  secretOwner: string;
  /** the endpoint the delivery is for, or null for a subscription's own */
  endpointId: string | null;
  webhookSecretEnc: string;
  previousSecretEnc: string | null;
  previousSecretUntil: Date | null;
  /** another pending delivery of the lane's subscription follows this one */
  more: boolean;
}

export interface AttemptRecord {
  at: Date;
  statusCode: number | null;
  durationMs: number;
  error: string | null;
  responseBody: string | null;
  responseHeaders: Record<string, string | string[]> | null;
}

/**
 * How an attempt (or a decision without one) ends for a delivery:
 * - `succeeded`, `failed` (schedule used up), `superseded`: the delivery is done;
 * - `gone`: 410, the subscription (or the endpoint) is disabled, and this and
 *   its other pending deliveries are held;
 * - `retry`: pending again at `nextAttemptAt`;
 * - `detach`: it failed past WEBHOOK_ORDER_HOLD while others wait: it leaves
 *   the subscription's lane for one of its own, due at `nextAttemptAt`;
 * - `release`: nothing changes (shutdown tore the request down).
 */
export type DeliveryOutcome =
  'succeeded' | 'failed' | 'superseded' | 'gone' | 'retry' | 'detach' | 'release';

/** What becomes of the lane: due again now, idle (deleted once nobody added work), or due at `laneAt`. */
export type LaneNext = 'now' | 'idle' | 'at';

export interface Completion {
  lane: LeasedLane;
  /** null when the lane had no head (its deliveries ended under it) */
  deliveryId: string | null;
  outcome: DeliveryOutcome;
  nextAttemptAt: Date | null;
  laneNext: LaneNext;
  laneAt: Date | null;
  /** while the head keeps failing: until when it holds later deliveries back */
  holdUntil: Date | null;
  attempt: AttemptRecord | null;
}

/** Where a completion left its delivery; `lease-lost` when the lane was no longer ours. */
export type CompletionState =
  'succeeded' | 'pending' | 'failed' | 'superseded' | 'held' | 'lease-lost';

/** What the disable sweep reads of a subscription whose webhooks keep failing. */
export interface FailingTarget {
  /** the subscription's id, or the endpoint's */
  id: string;
  endpoint: boolean;
  /** the first failure of its oldest pending delivery's current run of failures */
  failingSince: Date;
  lastSuccessAt: Date | null;
  /** the database's clock when read */
  now: Date;
}

/** An endpoint the sweep disabled, with how many deliveries its rows hold. */
export interface DisabledEndpoint {
  endpointId: string;
  tenantId: string;
  url: string;
  disabledAt: Date;
  heldDeliveries: number;
}

/**
 * The completion writes a target's last_success_at only when the stored one
 * is over a second old, for a row and then for its endpoint: the true last
 * success may be up to this much later than the stored one.
 */
export const SUCCESS_SLACK_MS = 2000;

/** A subscription the sweep disabled, with how many deliveries it holds. */
export interface DisabledTarget {
  subscriptionId: string;
  tenantId: string;
  sid: string;
  callbackUrl: string;
  disabledAt: Date;
  heldDeliveries: number;
}

const ENQUEUE = `
  WITH input AS (
    SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::text[], $6::int[], $7::text[], $8::text[], $9::boolean[])
      AS i(id, subscription_id, task_id, event_id, event_type, sequence, payload, host, held)
  ),
  inserted AS (
    INSERT INTO deliveries (id, subscription_id, task_id, event_id, event_type, sequence, payload, state)
    SELECT id, subscription_id, task_id, event_id, event_type, sequence, payload,
           (CASE WHEN held THEN 'held' ELSE 'pending' END)::delivery_state
    FROM input
    ON CONFLICT (subscription_id, event_id, resend) DO NOTHING
    RETURNING subscription_id, state
  ),
  lanes AS (
    INSERT INTO delivery_lanes (id, subscription_id, host, due_at)
    SELECT DISTINCT ON (i.subscription_id) i.subscription_id, i.subscription_id, i.host, now()
    FROM input i WHERE i.subscription_id IN (SELECT subscription_id FROM inserted WHERE state = 'pending')
    ORDER BY i.subscription_id
    ON CONFLICT (id) DO UPDATE SET
      version = delivery_lanes.version + 1,
      due_at = CASE
        WHEN delivery_lanes.locked_by IS NULL
         AND (delivery_lanes.due_at IS NULL OR delivery_lanes.hold_until <= now()) THEN now()
        ELSE delivery_lanes.due_at END
    RETURNING host
  ),
  notified AS (
    SELECT pg_notify('${DELIVERY_CHANNEL}', host) FROM (SELECT DISTINCT host FROM lanes) h
  )
  SELECT (SELECT count(*) FROM inserted)::int AS inserted, (SELECT count(*) FROM notified)::int AS hosts`;

const WAKE = `
  WITH lanes AS (
    INSERT INTO delivery_lanes (id, subscription_id, host, due_at)
    SELECT DISTINCT ON (w.subscription_id) w.subscription_id, w.subscription_id, w.host, now()
    FROM unnest($1::text[], $2::text[]) AS w(subscription_id, host)
    ORDER BY w.subscription_id
    ON CONFLICT (id) DO UPDATE SET
      version = delivery_lanes.version + 1,
      due_at = CASE WHEN delivery_lanes.locked_by IS NULL THEN now() ELSE delivery_lanes.due_at END,
      retrying = false
    RETURNING host
  )
  SELECT count(*)::int AS hosts
  FROM (SELECT pg_notify('${DELIVERY_CHANNEL}', host) FROM (SELECT DISTINCT host FROM lanes) h) n`;

// Each host's lanes are read in due order off (host, retrying, due_at), fresh
// heads before retries, at most `n` of them, skipping the ones another claim
// is locking: the claim reads what it returns and nothing else, however long
// the backlog, and a backlog of due retries never holds a fresh event back.
// Leasing moves due_at to the end of the lease, out of every other claim's range.
const LEASE = `
  WITH want AS (SELECT * FROM unnest($1::text[], $2::int[]) AS w(host, n)),
  fresh AS (
    SELECT w.host, p.id FROM want w
    CROSS JOIN LATERAL (
      SELECT l.id FROM delivery_lanes l
      WHERE l.host = w.host AND NOT l.retrying AND l.due_at <= now()
      ORDER BY l.due_at LIMIT w.n
      FOR UPDATE SKIP LOCKED
    ) p
  ),
  -- retries get what fresh heads left, and an eighth of the batch in any case
  room AS (
    SELECT w.host, greatest(w.n - count(f.id), ceil(w.n / 8.0))::int AS n
    FROM want w LEFT JOIN fresh f ON f.host = w.host
    GROUP BY w.host, w.n
  ),
  retries AS (
    SELECT p.id FROM room r
    CROSS JOIN LATERAL (
      SELECT l.id FROM delivery_lanes l
      WHERE l.host = r.host AND l.retrying AND l.due_at <= now()
      ORDER BY l.due_at LIMIT r.n
      FOR UPDATE SKIP LOCKED
    ) p
  ),
  picked AS (SELECT id FROM fresh UNION ALL SELECT id FROM retries)
  -- by primary key, whatever the planner believes of a table without statistics
  UPDATE delivery_lanes l
  SET locked_by = $3, due_at = now() + $4 * interval '1 millisecond'
  WHERE l.id = ANY (ARRAY(SELECT id FROM picked))
  RETURNING l.id, l.subscription_id, l.delivery_id, l.host, l.version`;

// Run after LEASE, in a snapshot that sees every enqueue that bumped the
// versions LEASE read: so "no head" with an unchanged version really is idle.
const HEADS = `
  SELECT l.id AS lane_id, d.id, d.subscription_id, d.event_type, d.sequence, d.payload, d.attempts,
         d.next_attempt_at, d.first_failed_at, d.detached, s.callback_url, ev.observed_at,
         t.id AS tenant_id, coalesce(e.id, t.id) AS secret_owner, e.id AS endpoint_id,
         -- an endpoint's deliveries are signed with the endpoint's own secrets
         CASE WHEN e.id IS NULL THEN t.webhook_secret_enc ELSE e.webhook_secret_enc END AS webhook_secret_enc,
         CASE WHEN e.id IS NULL THEN t.previous_secret_enc ELSE e.previous_secret_enc END AS previous_secret_enc,
         CASE WHEN e.id IS NULL THEN t.previous_secret_until ELSE e.previous_secret_until END AS previous_secret_until,
         EXISTS (
           SELECT 1 FROM deliveries n
           WHERE n.subscription_id = l.subscription_id AND n.state = 'pending'
             AND NOT n.detached AND n.sequence > d.sequence) AS more
  FROM unnest($1::text[], $2::text[], $3::text[]) AS l(id, subscription_id, delivery_id)
  JOIN LATERAL (
    SELECT * FROM deliveries d
    WHERE d.subscription_id = l.subscription_id AND d.state = 'pending'
      AND CASE WHEN l.delivery_id IS NULL THEN NOT d.detached ELSE d.id = l.delivery_id AND d.detached END
    ORDER BY d.sequence
    LIMIT 1
  ) d ON true
  JOIN subscriptions s ON s.id = d.subscription_id
  JOIN tenants t ON t.id = s.tenant_id
  LEFT JOIN endpoints e ON e.id = s.endpoint_id
  JOIN task_events ev ON ev.id = d.event_id`;

// One statement records a whole batch of attempts and moves their deliveries
// and lanes on. Only lanes still leased to `owner` change (the attempt is
// logged whoever holds the lease now: it happened). A lane whose version moved
// since it was leased gained work meanwhile, so it is due again rather than idle.
const COMPLETE = `
  WITH input AS (
    SELECT * FROM unnest(
      $2::text[], $3::int[], $4::text[], $5::text[], $6::timestamptz[], $7::text[], $8::timestamptz[],
      $9::timestamptz[], $10::timestamptz[], $11::int[], $12::int[], $13::text[], $14::text[], $15::text[])
      AS i(lane_id, lane_version, delivery_id, outcome, next_attempt_at, lane_next, lane_at,
           hold_until, at, status_code, duration_ms, error, response_body, response_headers)
  ),
  -- the batch's lanes joined on the primary key: a probe each, or one scan
  -- of the lanes when the batch is large against the table
  mine AS (
    SELECT l.id, l.version, l.subscription_id, l.host
    FROM (SELECT DISTINCT lane_id FROM input) w JOIN delivery_lanes l ON l.id = w.lane_id
    WHERE l.locked_by = $1
    ORDER BY l.id
    FOR UPDATE OF l
  ),
  -- the completions of the lanes still ours, joined once here: the planner
  -- believes a CTE holds a row or so, and joined inside each statement below
  -- it looped over one CTE for every row of the other (batch² comparisons)
  ours AS MATERIALIZED (
    SELECT i.*, m.version AS leased_version, m.host
    FROM input i JOIN mine m ON m.id = i.lane_id
  ),
  attempt AS (
    INSERT INTO delivery_attempts (delivery_id, at, status_code, duration_ms, error, response_body, response_headers)
    SELECT delivery_id, at, status_code, duration_ms, error, response_body, response_headers::jsonb
    FROM input WHERE at IS NOT NULL AND delivery_id IS NOT NULL
  ),
  done AS (
    UPDATE deliveries d SET
      state = CASE i.outcome
        WHEN 'succeeded' THEN 'succeeded' WHEN 'failed' THEN 'failed' WHEN 'gone' THEN 'held'
        WHEN 'superseded' THEN 'superseded' ELSE 'pending' END::delivery_state,
      attempts = d.attempts + CASE WHEN i.at IS NOT NULL AND i.outcome <> 'release' THEN 1 ELSE 0 END,
      next_attempt_at = CASE WHEN i.outcome IN ('retry', 'detach') THEN i.next_attempt_at ELSE d.next_attempt_at END,
      first_failed_at = CASE WHEN i.outcome IN ('retry', 'detach') THEN coalesce(d.first_failed_at, i.at) ELSE d.first_failed_at END,
      detached = d.detached OR i.outcome = 'detach',
      completed_at = CASE WHEN i.outcome IN ('succeeded', 'failed', 'superseded') THEN now() END,
      updated_at = now()
    FROM ours i
    WHERE d.id = i.delivery_id
      -- a delivery held by a disable while its request was in flight was
      -- still taken by the receiver: it is delivered, not to be sent again
      AND (d.state = 'pending' OR (d.state = 'held' AND i.outcome = 'succeeded'))
      AND i.outcome <> 'release'
    RETURNING d.id, d.state, d.subscription_id, i.outcome
  ),
  -- = ANY (ARRAY(...)): an index probe per id (none at all, mostly), where a
  -- semi-join on a table without statistics was planned as a scan of it,
  -- every batch, and made this statement the drain's bottleneck
  -- a 410 from an endpoint disables the endpoint: every row that carries
  -- its deliveries (one per task) is disabled with it
  gone_endpoints AS (
    SELECT DISTINCT s.endpoint_id AS id FROM subscriptions s
    WHERE s.id = ANY (ARRAY(SELECT subscription_id FROM done WHERE outcome = 'gone'))
      AND s.endpoint_id IS NOT NULL
  ),
  endpoints_disabled AS (${endpointSql.disable(
    `e.id = ANY (ARRAY(SELECT id FROM gone_endpoints)) AND e.state = 'active'`,
  )}
  ),
  gone AS (
    SELECT subscription_id AS id FROM done WHERE outcome = 'gone'
    UNION
    SELECT s.id FROM subscriptions s WHERE s.endpoint_id = ANY (ARRAY(SELECT id FROM gone_endpoints))
  ),
  disabled AS (${subscriptionSql.disable(
    `s.id = ANY (ARRAY(SELECT id FROM gone)) AND s.state IN ('active', 'done')`,
  )}
  ),
  -- nothing is dropped: what was still to send waits, held, for a re-enable or a recovery
  held AS (
    UPDATE deliveries SET state = 'held', updated_at = now()
    WHERE subscription_id = ANY (ARRAY(SELECT id FROM gone))
      AND state = 'pending' AND id NOT IN (SELECT id FROM done)
  ),
  own_lanes AS (
    INSERT INTO delivery_lanes (id, subscription_id, delivery_id, host, due_at)
    SELECT done.id, done.subscription_id, done.id, o.host, o.next_attempt_at
    FROM ours o JOIN done ON done.id = o.delivery_id
    -- most batches detach nothing: then no row of ours is joined at all
    WHERE o.delivery_id = ANY (ARRAY(SELECT id FROM done WHERE outcome = 'detach'))
    ON CONFLICT (id) DO UPDATE SET due_at = excluded.due_at, locked_by = NULL, hold_until = NULL
  ),
  lanes AS (
    UPDATE delivery_lanes l SET
      locked_by = NULL,
      due_at = CASE
        WHEN i.leased_version <> i.lane_version OR i.lane_next = 'now' THEN now()
        WHEN i.lane_next = 'idle' THEN NULL
        ELSE i.lane_at END,
      hold_until = i.hold_until,
      -- only a head that failed waits for a time of its own
      retrying = i.lane_next = 'at' 
    FROM ours i
    WHERE l.id = i.lane_id
    RETURNING l.id, l.subscription_id, l.due_at
  ),
  -- a success moves its target's last_success_at (for the disable sweep) only
  -- when the stored one is over a second old (hence SUCCESS_SLACK_MS): at most
  -- one write a second to a busy target, a HOT update (the column is in no
  -- index). The rows this statement disables or finishes are written there
  -- instead: a row is changed once per statement or one change is lost.
  succeeded AS (
    SELECT subscription_id AS id FROM done WHERE state = 'succeeded'
  ),
  finished AS (${subscriptionSql.finishOnIdleLanes(
    'SELECT subscription_id FROM lanes WHERE due_at IS NULL',
    'lanes',
    'succeeded',
  )}
  ),
  -- a target row that a PATCH or the disable sweep holds is skipped, not
  -- waited for: they lock the target before its deliveries, this statement
  -- the other way round, and waiting would deadlock; a success a second later
  -- records it
  row_success AS (${subscriptionSql.recordSuccess(`
        SELECT c.id FROM subscriptions c
        WHERE c.id = ANY (ARRAY(SELECT id FROM succeeded))
          AND (c.last_success_at IS NULL OR c.last_success_at < now() - interval '1 second')
          AND c.id NOT IN (SELECT id FROM gone)
          AND c.id NOT IN (SELECT id FROM finished)
        FOR UPDATE SKIP LOCKED`)}
  ),
  endpoint_success AS (${endpointSql.recordSuccess(`
        SELECT c.id FROM endpoints c
        WHERE c.id = ANY (ARRAY(
            SELECT endpoint_id FROM row_success WHERE endpoint_id IS NOT NULL
            UNION SELECT endpoint_id FROM finished WHERE succeeded AND endpoint_id IS NOT NULL))
          AND (c.last_success_at IS NULL OR c.last_success_at < now() - interval '1 second')
          AND c.id NOT IN (SELECT id FROM gone_endpoints)
        FOR UPDATE SKIP LOCKED`)}
  ),
  -- an idle lane that another transaction holds is skipped, not waited for:
  -- it is an outbox write waking it, which may wait in turn for a lane this
  -- statement locked above (a deadlock); SWEEP_IDLE removes it if it stays idle
  swept AS (
    DELETE FROM delivery_lanes
    WHERE id = ANY (ARRAY(
      SELECT id FROM delivery_lanes
      WHERE id = ANY ($16::text[]) AND due_at IS NULL AND locked_by IS NULL
      FOR UPDATE SKIP LOCKED))
  )
  SELECT i.lane_id, i.delivery_id, (m.id IS NOT NULL) AS mine, d.state
  FROM input i LEFT JOIN mine m ON m.id = i.lane_id LEFT JOIN done d ON d.id = i.delivery_id`;

// A redelivery goes back into its subscription's lane (a detached one too):
// sent in sequence order, now, with its id and so its webhook-id.
const REDELIVER = `
  WITH d AS (
    UPDATE deliveries SET state = 'pending', next_attempt_at = now(), completed_at = NULL,
      detached = false, first_failed_at = NULL, updated_at = now()
    WHERE id = $1
    RETURNING subscription_id
  )${subscriptionSql.reactivate('SELECT subscription_id FROM d')}`;

// A copy of a delivery as a new message: a new id (so a new webhook-id), the
// same event and body, queued in the subscription's lane in sequence order.
// Its resend number keeps it apart from the event's own delivery, which
// the enqueue's conflict key still finds.
const RESEND = `
  WITH src AS (SELECT * FROM deliveries WHERE id = $1),
  copy AS (
    INSERT INTO deliveries (id, subscription_id, task_id, event_id, event_type, sequence, payload, resend)
    SELECT $2, s.subscription_id, s.task_id, s.event_id, s.event_type, s.sequence, s.payload,
      (SELECT max(d.resend) + 1 FROM deliveries d
       WHERE d.subscription_id = s.subscription_id AND d.event_id = s.event_id)
    FROM src s
    RETURNING subscription_id
  )${subscriptionSql.reactivate('SELECT subscription_id FROM copy')}`;

const REOPEN_CANCELED = `
  UPDATE deliveries SET state = 'pending', next_attempt_at = now(), completed_at = NULL,
    detached = false, first_failed_at = NULL, updated_at = now()
  WHERE subscription_id = $1 AND event_id = $2::bigint AND state = 'canceled'
  RETURNING id`;

const RELEASE_HELD = `
  UPDATE deliveries SET state = 'pending', next_attempt_at = now(), updated_at = now(),
    detached = false, first_failed_at = NULL
  WHERE subscription_id = ANY ($1::text[]) AND state = 'held'
  RETURNING subscription_id`;

// A disable by hand: every pending delivery held, back in sequence order (no
// longer detached, no failure run), the lanes idle. A lane a dispatcher holds
// keeps its lease: the attempt in flight ends, its completion records a 2xx
// as delivered and leaves any other outcome held, so nothing more goes out.
const HOLD_PENDING = `
  WITH held AS (
    UPDATE deliveries SET state = 'held', detached = false, first_failed_at = NULL,
      next_attempt_at = now(), updated_at = now()
    WHERE subscription_id = ANY ($1::text[]) AND state = 'pending'
    RETURNING id
  ),
  idled AS (
    UPDATE delivery_lanes SET due_at = NULL, hold_until = NULL, retrying = false
    WHERE subscription_id = ANY ($1::text[]) AND locked_by IS NULL
  )
  SELECT count(*)::int AS held FROM held`;

// One batch of a recovery: the window's deliveries that ended failed, canceled
// or held, not yet sent again by this recovery, pending again in their lanes
// (so in sequence order, with their ids and so their webhook-ids).
const RECOVER = `
  WITH picked AS (
    SELECT d.id FROM deliveries d
    WHERE d.subscription_id = ANY ($2::text[])
      AND d.state IN ('failed', 'canceled', 'held')
      AND d.created_at >= $3 AND d.created_at < $4
      AND d.recovery_id IS DISTINCT FROM $1
    ORDER BY d.subscription_id, d.sequence
    LIMIT $5
    FOR UPDATE SKIP LOCKED
  )
  UPDATE deliveries d SET state = 'pending', next_attempt_at = now(), completed_at = NULL,
    detached = false, first_failed_at = NULL, recovery_id = $1, updated_at = now()
  FROM picked WHERE d.id = picked.id
  RETURNING d.subscription_id`;

const RECOVERY_COUNTS = `
  SELECT state, count(*)::int AS n FROM deliveries WHERE recovery_id = $1 GROUP BY state`;

const CANCEL_PENDING = `
  UPDATE deliveries SET state = 'canceled', completed_at = now(), updated_at = now()
  WHERE subscription_id = $1 AND state = 'pending'
  RETURNING id`;

const RENEW = `
  UPDATE delivery_lanes SET due_at = now() + $3 * interval '1 millisecond'
  WHERE id = ANY ($1::text[]) AND locked_by = $2
  RETURNING id`;

const RELEASE = `
  UPDATE delivery_lanes SET locked_by = NULL, due_at = now()
  WHERE id = ANY ($1::text[]) AND locked_by = $2`;

// One index probe per distinct host, in host order (a skip scan), and two for
// its earliest due time (fresh and retrying heads are two ranges of the
// index), so finding the hosts with work costs the number of hosts, not the
// number of lanes.
const HOSTS = `
  WITH RECURSIVE h AS (
    (SELECT host FROM delivery_lanes ORDER BY host LIMIT 1)
    UNION ALL
    SELECT (SELECT l.host FROM delivery_lanes l WHERE l.host > h.host ORDER BY l.host LIMIT 1)
    FROM h WHERE h.host IS NOT NULL
  )
  SELECT h.host, least(
      (SELECT min(l.due_at) FROM delivery_lanes l WHERE l.host = h.host AND NOT l.retrying),
      (SELECT min(l.due_at) FROM delivery_lanes l WHERE l.host = h.host AND l.retrying)
    ) AS next_due,
    -- the first one still ahead: a claim takes what is due now, and this is when to look again
    least(
      (SELECT min(l.due_at) FROM delivery_lanes l
        WHERE l.host = h.host AND NOT l.retrying AND l.due_at > now()),
      (SELECT min(l.due_at) FROM delivery_lanes l
        WHERE l.host = h.host AND l.retrying AND l.due_at > now())
    ) AS next_later
  FROM h WHERE h.host IS NOT NULL
  LIMIT $1`;

// Targets whose webhooks keep failing, for the disable sweep: the lanes whose
// head failed (retrying), found host by host off (host, retrying, due_at)
// after the same skip scan as HOSTS, so the read costs the number of hosts
// and failing lanes, not the size of the outbox. A target is a subscription
// of its own or an endpoint (all its rows, one per task, are one target). For
// each: the first failure of its failing rows' oldest pending delivery, and
// its last success as the completion keeps it (no scan of its deliveries).
const FAILING_TARGETS = `
  WITH RECURSIVE h AS (
    (SELECT host FROM delivery_lanes ORDER BY host LIMIT 1)
    UNION ALL
    SELECT (SELECT l.host FROM delivery_lanes l WHERE l.host > h.host ORDER BY l.host LIMIT 1)
    FROM h WHERE h.host IS NOT NULL
  ),
  failing AS (
    SELECT DISTINCT f.subscription_id FROM h
    CROSS JOIN LATERAL (
      SELECT l.subscription_id FROM delivery_lanes l
      WHERE l.host = h.host AND l.retrying AND l.locked_by IS NULL
    ) f
    WHERE h.host IS NOT NULL
  ),
  rows AS (
    SELECT s.id, s.endpoint_id, s.last_success_at, f.failing_since
    FROM failing
    JOIN subscriptions s ON s.id = failing.subscription_id AND s.state IN ('active', 'done')
    CROSS JOIN LATERAL (
      SELECT min(d.first_failed_at) AS failing_since FROM deliveries d
      WHERE d.subscription_id = s.id AND d.state = 'pending'
    ) f
    WHERE f.failing_since IS NOT NULL
  ),
  targets AS (
    SELECT r.id, false AS endpoint, r.failing_since, r.last_success_at
    FROM rows r WHERE r.endpoint_id IS NULL
    UNION ALL
    SELECT e.id, true, min(r.failing_since), e.last_success_at
    FROM rows r JOIN endpoints e ON e.id = r.endpoint_id AND e.state = 'active'
    GROUP BY e.id, e.last_success_at
  )
  SELECT id, endpoint, failing_since, last_success_at, now() AS now FROM targets
  WHERE failing_since <= now() - $1 * interval '1 millisecond'
  ORDER BY failing_since
  LIMIT $2`;

// Disables subscriptions that have failed without a success for the whole
// window, checked again here under the row lock (a success's completion
// writes last_success_at under the same lock), so a success recorded since
// the read keeps one alive. A lane leased to a dispatcher is left alone (its
// attempt may succeed; a later sweep decides). Pending deliveries become
// held, back in sequence order (no longer detached, no failure run) for the
// re-enable; idle lanes are swept later. An endpoint's rows are never
// disabled here one by one: DISABLE_FAILING_ENDPOINTS takes them together.
const DISABLE_FAILING = `
  WITH target AS (
    SELECT s.id FROM subscriptions s
    WHERE s.id = ANY ($1::text[]) AND s.state IN ('active', 'done') AND s.endpoint_id IS NULL
      AND EXISTS (
        SELECT 1 FROM deliveries d
        WHERE d.subscription_id = s.id AND d.state = 'pending'
          AND d.first_failed_at <= now() - $2 * interval '1 millisecond')
      AND coalesce(s.last_success_at, '-infinity') <= now() - ($2::float8 + $3::float8) * interval '1 millisecond'
      AND NOT EXISTS (
        SELECT 1 FROM delivery_lanes l WHERE l.subscription_id = s.id AND l.locked_by IS NOT NULL)
    ORDER BY s.id
    FOR UPDATE OF s SKIP LOCKED
  ),
  held AS (
    UPDATE deliveries d SET state = 'held', detached = false, first_failed_at = NULL,
      next_attempt_at = now(), updated_at = now()
    WHERE d.subscription_id = ANY (ARRAY(SELECT id FROM target)) AND d.state = 'pending'
    RETURNING d.subscription_id
  ),
  idled AS (
    UPDATE delivery_lanes l SET due_at = NULL, hold_until = NULL, retrying = false
    WHERE l.subscription_id = ANY (ARRAY(SELECT id FROM target)) AND l.locked_by IS NULL
  ),
  disabled AS (${subscriptionSql.disable(
    's.id = ANY (ARRAY(SELECT id FROM target))',
    's.id, s.tenant_id, s.sid, s.callback_url, s.updated_at',
  )}
  )
  SELECT d.id, d.tenant_id, d.sid, d.callback_url, d.updated_at AS disabled_at,
    (SELECT count(*) FROM held h WHERE h.subscription_id = d.id)::int AS held
  FROM disabled d`;

// The same for endpoints, as a whole: an endpoint whose rows (one per task)
// have failed without a success on any of them for the window is disabled
// with all its rows; every row's pending deliveries are held and its lanes
// idle. Left alone while a dispatcher holds a lane of any of its rows. The
// endpoint's row lock is the one a success's completion takes to write
// last_success_at, and the one a PATCH takes.
const DISABLE_FAILING_ENDPOINTS = `
  WITH target AS (
    SELECT e.id FROM endpoints e
    WHERE e.id = ANY ($1::text[]) AND e.state = 'active'
      AND coalesce(e.last_success_at, '-infinity') <= now() - ($2::float8 + $3::float8) * interval '1 millisecond'
      AND EXISTS (
        SELECT 1 FROM subscriptions r
        JOIN delivery_lanes l ON l.subscription_id = r.id AND l.retrying
        JOIN deliveries d ON d.subscription_id = r.id AND d.state = 'pending'
          AND d.first_failed_at <= now() - $2 * interval '1 millisecond'
        WHERE r.endpoint_id = e.id)
      AND NOT EXISTS (
        SELECT 1 FROM subscriptions r
        JOIN delivery_lanes l ON l.subscription_id = r.id AND l.locked_by IS NOT NULL
        WHERE r.endpoint_id = e.id)
    ORDER BY e.id
    FOR UPDATE OF e SKIP LOCKED
  ),
  target_rows AS (
    SELECT r.id, r.endpoint_id FROM subscriptions r
    WHERE r.endpoint_id = ANY (ARRAY(SELECT id FROM target))
  ),
  held AS (
    UPDATE deliveries d SET state = 'held', detached = false, first_failed_at = NULL,
      next_attempt_at = now(), updated_at = now()
    WHERE d.subscription_id = ANY (ARRAY(SELECT id FROM target_rows)) AND d.state = 'pending'
    RETURNING d.subscription_id
  ),
  idled AS (
    UPDATE delivery_lanes l SET due_at = NULL, hold_until = NULL, retrying = false
    WHERE l.subscription_id = ANY (ARRAY(SELECT id FROM target_rows)) AND l.locked_by IS NULL
  ),
  rows_disabled AS (${subscriptionSql.disable(
    `s.id = ANY (ARRAY(SELECT id FROM target_rows)) AND s.state IN ('active', 'done')`,
  )}
  ),
  disabled AS (${endpointSql.disable(
    'e.id = ANY (ARRAY(SELECT id FROM target))',
    'e.id, e.tenant_id, e.url, e.updated_at',
  )}
  )
  SELECT d.id, d.tenant_id, d.url, d.updated_at AS disabled_at,
    (SELECT count(*) FROM held h JOIN target_rows r ON r.id = h.subscription_id
     WHERE r.endpoint_id = d.id)::int AS held
  FROM disabled d`;

// Idle lanes, except those another transaction holds (an outbox write waking
// them, which may wait for another lane this statement took: a deadlock).
const SWEEP_IDLE = `
  DELETE FROM delivery_lanes
  WHERE id = ANY (ARRAY(
    SELECT id FROM delivery_lanes WHERE due_at IS NULL AND locked_by IS NULL
    FOR UPDATE SKIP LOCKED))`;

const STATS = `
  SELECT count(*)::int AS pending,
         coalesce(extract(epoch FROM now() - min(created_at)) * 1000, 0)::float8 AS oldest_age_ms
  FROM deliveries WHERE state = 'pending'`;

interface HeadRow {
  lane_id: string;
  id: string;
  subscription_id: string;
  event_type: string;
  sequence: number;
  payload: string;
  attempts: number;
  next_attempt_at: Date;
  first_failed_at: Date | null;
  detached: boolean;
  callback_url: string;
  observed_at: Date;
  tenant_id: string;
  secret_owner: string;
  endpoint_id: string | null;
  webhook_secret_enc: string;
  previous_secret_enc: string | null;
  previous_secret_until: Date | null;
  more: boolean;
}

/**
 * The outbox's tables (deliveries, delivery_lanes, delivery_attempts) as the
 * rest of the relay changes them: every write is one of these named
 * transitions. The poller's transaction enqueues; the dispatcher leases lanes,
 * reads their heads and completes them in batches.
 */
@Injectable()
export class DeliveryStore {
  private readonly pool: SqlRunner;

  constructor(database: DatabasePool) {
    this.pool = pgRunner(database.pool);
  }

  /**
   * Queues deliveries and makes their subscriptions' lanes due (a lane that is
   * busy or waiting on a failing head keeps its time), then notifies the
   * dispatchers of the hosts. Returns how many were new.
   */
  async enqueue(sql: SqlRunner, deliveries: NewDelivery[]): Promise<number> {
    if (deliveries.length === 0) return 0;
    const [row] = await sql.rows<{ inserted: number }>({
      name: 'outbox.enqueue',
      text: ENQUEUE,
      values: [
        deliveries.map((d) => d.id),
        deliveries.map((d) => d.subscriptionId),
        deliveries.map((d) => d.taskId),
        deliveries.map((d) => d.eventId.toString()),
        deliveries.map((d) => d.eventType),
        deliveries.map((d) => d.sequence),
        deliveries.map((d) => d.payload),
        deliveries.map((d) => d.host),
        deliveries.map((d) => d.held ?? false),
      ],
    });
    return row.inserted;
  }

  /** Makes these subscriptions' lanes due now: a delivery of theirs became pending again. */
  async wake(sql: SqlRunner, lanes: { subscriptionId: string; host: string }[]): Promise<void> {
    if (lanes.length === 0) return;
    await sql.rows({
      name: 'outbox.wake',
      text: WAKE,
      values: [lanes.map((lane) => lane.subscriptionId), lanes.map((lane) => lane.host)],
    });
  }

  /** Wakes the lanes of the subscriptions that have a delivery among `moved` (pending again). */
  private async wakeWhereMoved(
    sql: SqlRunner,
    lanes: { subscriptionId: string; host: string }[],
    moved: { subscription_id: string }[],
  ): Promise<void> {
    const woken = new Set(moved.map((row) => row.subscription_id));
    await this.wake(
      sql,
      lanes.filter((lane) => woken.has(lane.subscriptionId)),
    );
  }

  /**
   * One more attempt of a delivery, whatever state it ended in, and soon: it
   * is pending again in its subscription's lane; a finished subscription is
   * active again for it.
   */
  async redeliver(
    sql: SqlRunner,
    deliveryId: string,
    lane: { subscriptionId: string; host: string },
  ): Promise<void> {
    await sql.rows({ name: 'outbox.redeliver', text: REDELIVER, values: [deliveryId] });
    await this.wake(sql, [lane]);
  }

  /**
   * The event of a delivery again, as a new message: a new pending delivery
   * `newId` with the same body, in the subscription's lane, due now; the
   * original is left as it ended.
   */
  async resend(
    sql: SqlRunner,
    deliveryId: string,
    newId: string,
    lane: { subscriptionId: string; host: string },
  ): Promise<void> {
    await sql.rows({ name: 'outbox.resend', text: RESEND, values: [deliveryId, newId] });
    await this.wake(sql, [lane]);
  }

  /** A revived subscription's canceled delivery of an event is pending again. Returns how many were. */
  async reopenCanceled(
    sql: SqlRunner,
    lane: { subscriptionId: string; host: string },
    eventId: bigint,
  ): Promise<number> {
    const rows = await sql.rows({
      name: 'outbox.reopen-canceled',
      text: REOPEN_CANCELED,
      values: [lane.subscriptionId, eventId.toString()],
    });
    if (rows.length > 0) await this.wake(sql, [lane]);
    return rows.length;
  }

  /**
   * Re-enabled subscriptions' held deliveries are pending again, each in its
   * subscription's lane, in order.
   */
  async releaseHeld(
    sql: SqlRunner,
    lanes: { subscriptionId: string; host: string }[],
  ): Promise<number> {
    if (lanes.length === 0) return 0;
    const rows = await sql.rows<{ subscription_id: string }>({
      name: 'outbox.release-held',
      text: RELEASE_HELD,
      values: [lanes.map((lane) => lane.subscriptionId)],
    });
    await this.wakeWhereMoved(sql, lanes, rows);
    return rows.length;
  }

  /** Disabled by hand: these subscriptions' pending deliveries are held. Returns how many. */
  async holdPending(sql: SqlRunner, subscriptionIds: string[]): Promise<number> {
    if (subscriptionIds.length === 0) return 0;
    const [row] = await sql.rows<{ held: number }>({
      name: 'outbox.hold-pending',
      text: HOLD_PENDING,
      values: [subscriptionIds],
    });
    return row.held;
  }

  /**
   * One batch of a recovery: up to `limit` deliveries of these subscriptions
   * created in [since, until) that ended failed, canceled or held are pending
   * again, marked as this recovery's, and their lanes woken. Returns how many.
   */
  async recover(
    sql: SqlRunner,
    recoveryId: string,
    lanes: { subscriptionId: string; host: string }[],
    window: { since: Date; until: Date },
    limit: number,
  ): Promise<number> {
    if (lanes.length === 0) return 0;
    const rows = await sql.rows<{ subscription_id: string }>({
      name: 'outbox.recover',
      text: RECOVER,
      values: [
        recoveryId,
        lanes.map((lane) => lane.subscriptionId),
        window.since,
        window.until,
        limit,
      ],
    });
    await this.wakeWhereMoved(sql, lanes, rows);
    return rows.length;
  }

  /** How many of a recovery's deliveries are in each state now. */
  async recoveryCounts(sql: SqlRunner, recoveryId: string): Promise<Record<string, number>> {
    const rows = await sql.rows<{ state: string; n: number }>({
      name: 'outbox.recovery-counts',
      text: RECOVERY_COUNTS,
      values: [recoveryId],
    });
    return Object.fromEntries(rows.map((row) => [row.state, row.n]));
  }

  /** A canceled subscription's pending deliveries are canceled; its lanes find nothing and go idle. */
  async cancelPending(sql: SqlRunner, subscriptionId: string): Promise<number> {
    const rows = await sql.rows({
      name: 'outbox.cancel-pending',
      text: CANCEL_PENDING,
      values: [subscriptionId],
    });
    return rows.length;
  }

  /** Subscriptions of these finished tasks that have nothing left to send become `done`. */
  async finishIdleSubscriptions(sql: SqlRunner, taskIds: string[]): Promise<number> {
    if (taskIds.length === 0) return 0;
    const rows = await sql.rows({
      name: 'outbox.finish-idle',
      text: FINISH_IDLE_SUBSCRIPTIONS,
      values: [taskIds],
    });
    return rows.length;
  }

  /** Leases up to `n` due lanes of each host. */
  async lease(
    owner: string,
    leaseMs: number,
    wants: { host: string; n: number }[],
  ): Promise<LeasedLane[]> {
    if (wants.length === 0) return [];
    const rows = await this.pool.rows<{
      id: string;
      subscription_id: string;
      delivery_id: string | null;
      host: string;
      version: number;
    }>({
      name: 'dispatcher.lease',
      text: LEASE,
      values: [wants.map((w) => w.host), wants.map((w) => w.n), owner, leaseMs],
    });
    return rows.map((row) => ({
      id: row.id,
      subscriptionId: row.subscription_id,
      deliveryId: row.delivery_id,
      host: row.host,
      version: row.version,
    }));
  }

  /** The head of line of each leased lane; a lane missing from the answer has nothing pending. */
  async heads(lanes: LeasedLane[]): Promise<Map<string, LaneHead>> {
    const heads = new Map<string, LaneHead>();
    if (lanes.length === 0) return heads;
    const rows = await this.pool.rows<HeadRow>({
      name: 'dispatcher.heads',
      text: HEADS,
      values: [
        lanes.map((lane) => lane.id),
        lanes.map((lane) => lane.subscriptionId),
        lanes.map((lane) => lane.deliveryId),
      ],
    });
    for (const row of rows) {
      heads.set(row.lane_id, {
        laneId: row.lane_id,
        id: row.id,
        subscriptionId: row.subscription_id,
        eventType: row.event_type,
        sequence: row.sequence,
        payload: row.payload,
        attempts: row.attempts,
        nextAttemptAt: row.next_attempt_at,
        firstFailedAt: row.first_failed_at,
        detached: row.detached,
        callbackUrl: row.callback_url,
        observedAt: row.observed_at,
        tenantId: row.tenant_id,
        secretOwner: row.secret_owner,
        endpointId: row.endpoint_id,
        webhookSecretEnc: row.webhook_secret_enc,
        previousSecretEnc: row.previous_secret_enc,
        previousSecretUntil: row.previous_secret_until,
        more: row.more,
      });
    }
    return heads;
  }

  /**
   * Records a batch of completions in one statement; also deletes the lanes
   * that an earlier batch left idle (`idleLanes`), if nothing woke them since.
   */
  async complete(
    owner: string,
    completions: Completion[],
    idleLanes: string[] = [],
  ): Promise<CompletionState[]> {
    if (completions.length === 0 && idleLanes.length === 0) return [];
    const col = <T>(pick: (c: Completion) => T): T[] => completions.map(pick);
    const rows = await this.pool.rows<{
      lane_id: string;
      delivery_id: string | null;
      mine: boolean;
      state: string | null;
    }>({
      name: 'dispatcher.complete',
      text: COMPLETE,
      values: [
        owner,
        col((c) => c.lane.id),
        col((c) => c.lane.version),
        col((c) => c.deliveryId),
        col((c) => c.outcome),
        col((c) => c.nextAttemptAt),
        col((c) => c.laneNext),
        col((c) => c.laneAt),
        col((c) => c.holdUntil),
        col((c) => c.attempt?.at ?? null),
        col((c) => c.attempt?.statusCode ?? null),
        col((c) => c.attempt?.durationMs ?? null),
        col((c) => c.attempt?.error ?? null),
        col((c) => c.attempt?.responseBody ?? null),
        col((c) => (c.attempt?.responseHeaders ? JSON.stringify(c.attempt.responseHeaders) : null)),
        idleLanes,
      ],
    });
    // the answer's rows come in no particular order: match them up by lane
    const byLane = new Map(rows.map((row) => [row.lane_id, row]));
    return completions.map((c) => {
      const row = byLane.get(c.lane.id);
      if (!row?.mine) return 'lease-lost';
      if (c.outcome === 'release' || c.deliveryId === null) return 'pending';
      // ours, yet not pending any more: a cancel or redelivery got there first
      return (row.state ?? 'lease-lost') as CompletionState;
    });
  }

  /** Extends the leases of lanes still held here; returns the ids that are still ours. */
  async renew(owner: string, laneIds: string[], leaseMs: number): Promise<Set<string>> {
    if (laneIds.length === 0) return new Set();
    const rows = await this.pool.rows<{ id: string }>({
      name: 'dispatcher.renew',
      text: RENEW,
      values: [laneIds, owner, leaseMs],
    });
    return new Set(rows.map((row) => row.id));
  }

  /** Gives leases back, due now: another dispatcher may take them at once. */
  async release(owner: string, laneIds: string[]): Promise<void> {
    if (laneIds.length === 0) return;
    await this.pool.rows({ name: 'dispatcher.release', text: RELEASE, values: [laneIds, owner] });
  }

  /** Hosts with lanes, each with its earliest due time (null when every lane there is idle). */
  async hosts(
    limit = 10_000,
  ): Promise<{ host: string; nextDue: Date | null; nextLater: Date | null }[]> {
    const rows = await this.pool.rows<{
      host: string;
      next_due: Date | null;
      next_later: Date | null;
    }>({
      name: 'dispatcher.hosts',
      text: HOSTS,
      values: [limit],
    });
    return rows.map((row) => ({
      host: row.host,
      nextDue: row.next_due,
      nextLater: row.next_later,
    }));
  }

  /**
   * Subscriptions with a failing head whose oldest pending delivery has been
   * failing for at least `disableAfterMs`, oldest first, at most `limit`.
   */
  async failingTargets(disableAfterMs: number, limit: number): Promise<FailingTarget[]> {
    const rows = await this.pool.rows<{
      id: string;
      endpoint: boolean;
      failing_since: Date;
      last_success_at: Date | null;
      now: Date;
    }>({
      name: 'outbox.failing-targets',
      text: FAILING_TARGETS,
      values: [disableAfterMs, limit],
    });
    return rows.map((row) => ({
      id: row.id,
      endpoint: row.endpoint,
      failingSince: row.failing_since,
      // the true last success may be up to the slack later than the stored one
      lastSuccessAt: row.last_success_at
        ? new Date(row.last_success_at.getTime() + SUCCESS_SLACK_MS)
        : null,
      now: row.now,
    }));
  }

  /**
   * Disables these subscriptions (of their own, not an endpoint's rows) if
   * they still have failed without a success for `disableAfterMs` and no
   * dispatcher holds one of their lanes: their pending deliveries become held
   * (releaseHeld sends them on re-enable). Returns the ones it disabled.
   */
  async disableFailing(
    sql: SqlRunner,
    subscriptionIds: string[],
    disableAfterMs: number,
  ): Promise<DisabledTarget[]> {
    if (subscriptionIds.length === 0) return [];
    const rows = await sql.rows<{
      id: string;
      tenant_id: string;
      sid: string;
      callback_url: string;
      disabled_at: Date;
      held: number;
    }>({
      name: 'outbox.disable-failing',
      text: DISABLE_FAILING,
      values: [subscriptionIds, disableAfterMs, SUCCESS_SLACK_MS],
    });
    return rows.map((row) => ({
      subscriptionId: row.id,
      tenantId: row.tenant_id,
      sid: row.sid,
      callbackUrl: row.callback_url,
      disabledAt: row.disabled_at,
      heldDeliveries: row.held,
    }));
  }

  /**
   * The same for endpoints, each as a whole: the endpoint and all its rows
   * disabled, every row's pending deliveries held. Returns the ones it disabled.
   */
  async disableFailingEndpoints(
    sql: SqlRunner,
    endpointIds: string[],
    disableAfterMs: number,
  ): Promise<DisabledEndpoint[]> {
    if (endpointIds.length === 0) return [];
    const rows = await sql.rows<{
      id: string;
      tenant_id: string;
      url: string;
      disabled_at: Date;
      held: number;
    }>({
      name: 'outbox.disable-failing-endpoints',
      text: DISABLE_FAILING_ENDPOINTS,
      values: [endpointIds, disableAfterMs, SUCCESS_SLACK_MS],
    });
    return rows.map((row) => ({
      endpointId: row.id,
      tenantId: row.tenant_id,
      url: row.url,
      disabledAt: row.disabled_at,
      heldDeliveries: row.held,
    }));
  }

  /** Deletes idle lanes left behind (a batch's clean-up that never ran). */
  async sweepIdleLanes(): Promise<void> {
    await this.pool.rows({ name: 'dispatcher.sweep-idle', text: SWEEP_IDLE, values: [] });
  }

  /** How many deliveries are pending, and how old the oldest one is. */
  async pendingStats(): Promise<{ count: number; oldestAgeMs: number }> {
    const [row] = await this.pool.rows<{ pending: number; oldest_age_ms: number }>({
      name: 'dispatcher.stats',
      text: STATS,
      values: [],
    });
    return { count: row.pending, oldestAgeMs: row.oldest_age_ms };
  }
}
