import { Injectable } from '@nestjs/common';
import type { Subscription } from '../generated/prisma/client';
import type { SqlRunner } from '../outbox/sql';
import { FINISHED_TRACKINGS, REVIVABLE_STATES } from '../common/states';
import { trackTasksSql } from '../tasks/task.store';

/** One registration to write: a subscription wanted for `(tenant, sid, callbackUrl)`. */
export interface RegistrationInput {
  tenantId: string;
  sid: string;
  callbackUrl: string;
  events: string[];
  metadata: Record<string, unknown>;
  includePhotoParameters: boolean;
  /** ids used if the row is new */
  newSubscriptionId: string;
  newTaskId: string;
}

/**
 * What a registration found or became: `inserted` (new), `revived` (a
 * canceled or disabled one active again), `existing` (live already, left
 * as it is). An input that got no row lost a race to a concurrent insert.
 */
export type RegistrationRow = Subscription & {
  index: number;
  outcome: 'inserted' | 'revived' | 'existing';
  /** the task's last sequence after tracking it, for the rows that wrote; null for `existing` */
  taskSequence: number | null;
};

export interface SubscriptionPatch {
  events?: string[];
  metadata?: Record<string, unknown>;
  state?: 'active' | 'disabled';
}

const COLUMNS = (t: string): string => `
  ${t}.id, ${t}.tenant_id AS "tenantId", ${t}.task_id AS "taskId", ${t}.sid,
  ${t}.callback_url AS "callbackUrl", ${t}.events, ${t}.metadata,
  ${t}.include_photo_parameters AS "includePhotoParameters", ${t}.state,
  ${t}.created_at AS "createdAt", ${t}.updated_at AS "updatedAt",
  ${t}.endpoint_id AS "endpointId", ${t}.endpoint_key AS "endpointKey"`;

const REVIVABLE = `('${REVIVABLE_STATES.join("','")}')`;

// Everything a batch of registrations writes, in one statement: the tasks are
// tracked first (TaskOutbox.track's upsert, in one lock order for every batch,
// so two batches on the same tasks never deadlock, and a concurrent cancel
// that holds a task's lock is waited for), and the subscription writes join
// the tracked rows, so they happen only after their task is locked. A live
// existing subscription is only read: it writes nothing, not even its task.
const REGISTER = `
  WITH input AS (
    SELECT * FROM unnest($1::int[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[],
                         $7::text[], $8::text[], $9::boolean[])
      AS i(idx, tenant_id, sid, callback_url, sub_id, task_id, events, metadata, photo)
  ),
  existing AS (
    SELECT i.idx, s.* FROM input i
    JOIN subscriptions s
      ON s.tenant_id = i.tenant_id AND s.sid = i.sid AND s.callback_url = i.callback_url
     AND s.endpoint_key = ''
  ),
  writing AS (
    SELECT i.*, e.id AS existing_id FROM input i LEFT JOIN existing e ON e.idx = i.idx
    WHERE e.id IS NULL OR e.state IN ${REVIVABLE}
  ),
  tracked AS (${trackTasksSql(
    `SELECT DISTINCT ON (tenant_id, sid) task_id AS id, tenant_id, sid FROM writing`,
    'id, tenant_id, sid, sequence',
  )}
  ),
  revived AS (
    UPDATE subscriptions s SET
      events = ARRAY(SELECT jsonb_array_elements_text(w.events::jsonb)),
      metadata = w.metadata::jsonb, include_photo_parameters = w.photo,
      state = 'active', updated_at = now()
    FROM writing w JOIN tracked t ON t.tenant_id = w.tenant_id AND t.sid = w.sid
    WHERE s.id = w.existing_id AND s.state IN ${REVIVABLE}
    RETURNING w.idx, ${COLUMNS('s')}
  ),
  inserted AS (
    INSERT INTO subscriptions
      (id, tenant_id, task_id, sid, callback_url, events, metadata, include_photo_parameters,
       state, created_at, updated_at)
    SELECT w.sub_id, w.tenant_id, t.id, w.sid, w.callback_url,
           ARRAY(SELECT jsonb_array_elements_text(w.events::jsonb)), w.metadata::jsonb, w.photo,
           'active'::subscription_state, now(), now()
    FROM writing w JOIN tracked t ON t.tenant_id = w.tenant_id AND t.sid = w.sid
    WHERE w.existing_id IS NULL
    ON CONFLICT (tenant_id, sid, callback_url, endpoint_key) DO NOTHING
    RETURNING ${COLUMNS('subscriptions')}
  ),
  answered AS (
    SELECT r.idx, 'revived' AS outcome, r.id, r."tenantId", r."taskId", r.sid, r."callbackUrl",
           r.events, r.metadata, r."includePhotoParameters", r.state, r."createdAt", r."updatedAt",
           r."endpointId", r."endpointKey"
    FROM revived r
    UNION ALL
    SELECT i.idx, 'inserted', n.*
    FROM inserted n
    JOIN input i ON i.tenant_id = n."tenantId" AND i.sid = n.sid AND i.callback_url = n."callbackUrl"
    UNION ALL
    SELECT e.idx, 'existing', ${COLUMNS('e')}
    FROM existing e WHERE e.state NOT IN ${REVIVABLE}
  )
  SELECT a.idx AS index, a.outcome, a.id, a."tenantId", a."taskId", a.sid, a."callbackUrl",
         a.events, a.metadata, a."includePhotoParameters", a.state, a."createdAt", a."updatedAt",
         a."endpointId", a."endpointKey",
         CASE WHEN a.outcome = 'existing' THEN NULL ELSE t.sequence END AS "taskSequence"
  FROM answered a LEFT JOIN tracked t ON t.id = a."taskId"`;

const FIND_BY_KEYS = `
  SELECT ${COLUMNS('s')}
  FROM unnest($1::text[], $2::text[], $3::text[]) AS k(tenant_id, sid, callback_url)
  JOIN subscriptions s
    ON s.tenant_id = k.tenant_id AND s.sid = k.sid AND s.callback_url = k.callback_url
   AND s.endpoint_key = ''`;

// null leaves a field as it is
const PATCH = `
  UPDATE subscriptions SET
    events = coalesce($2::text[], events),
    metadata = coalesce($3::jsonb, metadata),
    state = coalesce($4::subscription_state, state),
    updated_at = now()
  WHERE id = $1
  RETURNING ${COLUMNS('subscriptions')}`;

const CANCEL = `
  UPDATE subscriptions SET state = 'canceled', updated_at = now()
  WHERE id = $1
  RETURNING ${COLUMNS('subscriptions')}`;

// The rows that carry endpoints' deliveries, one per (endpoint, tracked task),
// added for what is missing: every endpoint of the tenant (or the ones given)
// times every tracked task (or the ones given; with `unfinished`, only tasks
// still being polled). A row mirrors its endpoint's url, filter and state and
// its task's metadata. Hidden from the subscriptions API.
const ATTACH_ENDPOINTS = `
  INSERT INTO subscriptions
    (id, tenant_id, task_id, sid, callback_url, events, metadata, state,
     endpoint_id, endpoint_key, created_at, updated_at)
  SELECT 'sub_' || replace(gen_random_uuid()::text, '-', ''), t.tenant_id, t.id, t.sid, e.url,
         e.events, coalesce(t.metadata, '{}'::jsonb),
         (CASE WHEN e.state = 'active' THEN 'active' ELSE 'disabled' END)::subscription_state,
         e.id, e.id, now(), now()
  FROM tasks t JOIN endpoints e ON e.tenant_id = t.tenant_id
  WHERE t.tenant_id = $1 AND t.tracked_at IS NOT NULL
    AND ($2::text[] IS NULL OR t.id = ANY ($2::text[]))
    AND ($3::text[] IS NULL OR e.id = ANY ($3::text[]))
    AND (NOT $4::boolean OR t.tracking IN ('active', 'idle'))
  ORDER BY t.id, e.id
  ON CONFLICT (endpoint_id, task_id) DO NOTHING
  RETURNING ${COLUMNS('subscriptions')}`;

// An endpoint's new url or filter, on every row of it
const PATCH_ENDPOINT_ROWS = `
  UPDATE subscriptions SET
    callback_url = coalesce($2::text, callback_url),
    events = coalesce($3::text[], events),
    updated_at = now()
  WHERE endpoint_id = $1
  RETURNING id`;

// A re-enabled endpoint's rows are active again
const ENABLE_ENDPOINT_ROWS = `
  UPDATE subscriptions SET state = 'active', updated_at = now()
  WHERE endpoint_id = $1 AND state = 'disabled'
  RETURNING ${COLUMNS('subscriptions')}`;

const DISABLE_ENDPOINT_ROWS = `
  UPDATE subscriptions SET state = 'disabled', updated_at = now()
  WHERE endpoint_id = $1 AND state IN ('active', 'done')
  RETURNING id`;

// A tracked task's new metadata, on the rows of its endpoints
const TASK_METADATA = `
  UPDATE subscriptions SET metadata = $2::jsonb, updated_at = now()
  WHERE task_id = ANY ($1::text[]) AND endpoint_id IS NOT NULL
  RETURNING id`;

// A finished task's subscriptions with nothing left to send are done (the
// ones still sending become done when their lane goes idle).
export const FINISH_IDLE_SUBSCRIPTIONS = `
  UPDATE subscriptions s SET state = 'done', updated_at = now()
  WHERE s.task_id = ANY ($1::text[]) AND s.state = 'active'
    AND NOT EXISTS (
      SELECT 1 FROM delivery_lanes l
      WHERE l.subscription_id = s.id AND (l.due_at IS NOT NULL OR l.locked_by IS NOT NULL))
  RETURNING s.id`;

/**
 * The subscription transitions the outbox takes as a side effect of its
 * deliveries, as fragments of its own multi-table statements (a row changes
 * in the same statement as the deliveries that decided it). `where`,
 * `returning` and the CTE names are the caller's: they name the rows, these
 * say what happens to them.
 */
export const subscriptionSql = {
  /** disable: a 410, or a target failing for the whole window (alias `s`). */
  disable(where: string, returning?: string): string {
    return `
    UPDATE subscriptions s SET state = 'disabled', updated_at = now()
    WHERE ${where}${returning ? `\n    RETURNING ${returning}` : ''}`;
  },

  /** reactivate: a done subscription sends again (a redelivery, a resend). */
  reactivate(subscriptionIds: string): string {
    return `
  UPDATE subscriptions SET state = 'active', updated_at = now()
  WHERE id IN (${subscriptionIds}) AND state = 'done'`;
  },

  /**
   * finish: a finished task's active subscriptions whose lanes all went idle
   * (`idleLanes`: the lanes the statement idled, `lanes`: every lane it
   * wrote) are done; those in `succeeded` record the success with it, since
   * a row is changed once per statement or one change is lost.
   */
  finishOnIdleLanes(idleLanes: string, lanes: string, succeeded: string): string {
    return `
    UPDATE subscriptions s SET state = 'done', updated_at = now(),
      last_success_at = CASE
        WHEN s.id IN (SELECT id FROM ${succeeded})
          AND (s.last_success_at IS NULL OR s.last_success_at < now() - interval '1 second')
        THEN now() ELSE s.last_success_at END
    FROM tasks t
    WHERE s.id = ANY (ARRAY(${idleLanes}))
      AND s.state = 'active' AND t.id = s.task_id
      AND t.tracking = ANY ('{${FINISHED_TRACKINGS.join(',')}}'::task_tracking[])
      AND NOT EXISTS (
        SELECT 1 FROM delivery_lanes o
        WHERE o.subscription_id = s.id AND o.due_at IS NOT NULL
          AND o.id NOT IN (SELECT id FROM ${lanes}))
    RETURNING s.id, s.endpoint_id, s.id IN (SELECT id FROM ${succeeded}) AS succeeded`;
  },

  /** recordSuccess: `last_success_at` of the rows `ids` selects (locked or skipped by the caller). */
  recordSuccess(ids: string): string {
    return `
    UPDATE subscriptions s SET last_success_at = now()
    WHERE s.id = ANY (ARRAY(${ids}))
    RETURNING s.endpoint_id`;
  },
};

/**
 * The subscriptions table as the API changes it: every write is one of these
 * named transitions, on whatever runner the caller's transaction uses.
 *
 * The delivery transitions that end or revive a subscription as a side
 * effect of its deliveries (disabled on a 410, done when a finished task's
 * lanes go idle, active again on a redelivery) run in DeliveryStore's
 * statements, from the fragments above.
 */
@Injectable()
export class SubscriptionStore {
  /**
   * Registers each input: tracks its task and inserts its subscription, or
   * revives a canceled or disabled one with the fields given, or finds the
   * live one. Inputs must not repeat a key. Returns one row per input that
   * got one, with its index; an input left out lost a race to a concurrent
   * insert of the same key (read it with findByKeys).
   */
  async register(sql: SqlRunner, inputs: RegistrationInput[]): Promise<RegistrationRow[]> {
    if (inputs.length === 0) return [];
    return sql.rows<RegistrationRow>({
      name: 'subscriptions.register',
      text: REGISTER,
      values: [
        inputs.map((_, index) => index),
        inputs.map((input) => input.tenantId),
        inputs.map((input) => input.sid),
        inputs.map((input) => input.callbackUrl),
        inputs.map((input) => input.newSubscriptionId),
        inputs.map((input) => input.newTaskId),
        inputs.map((input) => JSON.stringify(input.events)),
        inputs.map((input) => JSON.stringify(input.metadata)),
        inputs.map((input) => input.includePhotoParameters),
      ],
    });
  }

  /** The subscriptions with these keys, whatever their state. */
  async findByKeys(
    sql: SqlRunner,
    keys: { tenantId: string; sid: string; callbackUrl: string }[],
  ): Promise<Subscription[]> {
    if (keys.length === 0) return [];
    return sql.rows<Subscription>({
      name: 'subscriptions.find-by-keys',
      text: FIND_BY_KEYS,
      values: [keys.map((k) => k.tenantId), keys.map((k) => k.sid), keys.map((k) => k.callbackUrl)],
    });
  }

  /** New filter or metadata for later webhooks; `state: 'active'` re-enables a disabled one. */
  async patch(sql: SqlRunner, id: string, patch: SubscriptionPatch): Promise<Subscription> {
    const [row] = await sql.rows<Subscription>({
      name: 'subscriptions.patch',
      text: PATCH,
      values: [
        id,
        patch.events ?? null,
        patch.metadata !== undefined ? JSON.stringify(patch.metadata) : null,
        patch.state ?? null,
      ],
    });
    return row;
  }

  /**
   * Adds the missing rows that carry endpoints' deliveries (see
   * ATTACH_ENDPOINTS) and returns the rows added.
   */
  async attachEndpoints(
    sql: SqlRunner,
    tenantId: string,
    scope: { taskIds?: string[]; endpointIds?: string[]; unfinished?: boolean },
  ): Promise<Subscription[]> {
    return sql.rows<Subscription>({
      name: 'subscriptions.attach-endpoints',
      text: ATTACH_ENDPOINTS,
      values: [
        tenantId,
        scope.taskIds ?? null,
        scope.endpointIds ?? null,
        scope.unfinished ?? false,
      ],
    });
  }

  /** An endpoint's new url or event filter, on every row that carries its deliveries. */
  async patchEndpointRows(
    sql: SqlRunner,
    endpointId: string,
    patch: { url?: string; events?: string[] },
  ): Promise<void> {
    if (patch.url === undefined && patch.events === undefined) return;
    await sql.rows({
      name: 'subscriptions.patch-endpoint-rows',
      text: PATCH_ENDPOINT_ROWS,
      values: [endpointId, patch.url ?? null, patch.events ?? null],
    });
  }

  /** A re-enabled endpoint's rows are active again; returns them. */
  async enableEndpointRows(sql: SqlRunner, endpointId: string): Promise<Subscription[]> {
    return sql.rows<Subscription>({
      name: 'subscriptions.enable-endpoint-rows',
      text: ENABLE_ENDPOINT_ROWS,
      values: [endpointId],
    });
  }

  /** A disabled endpoint's rows are disabled with it; returns the ids of every row it has. */
  async disableEndpointRows(sql: SqlRunner, endpointId: string): Promise<string[]> {
    await sql.rows({
      name: 'subscriptions.disable-endpoint-rows',
      text: DISABLE_ENDPOINT_ROWS,
      values: [endpointId],
    });
    const rows = await sql.rows<{ id: string }>({
      name: 'subscriptions.endpoint-rows',
      text: 'SELECT id FROM subscriptions WHERE endpoint_id = $1',
      values: [endpointId],
    });
    return rows.map((row) => row.id);
  }

  /** New metadata of tracked tasks, for the later webhooks to their endpoints. */
  async setTrackedMetadata(
    sql: SqlRunner,
    taskIds: string[],
    metadata: Record<string, unknown>,
  ): Promise<void> {
    if (taskIds.length === 0) return;
    await sql.rows({
      name: 'subscriptions.tracked-metadata',
      text: TASK_METADATA,
      values: [taskIds, JSON.stringify(metadata)],
    });
  }

  async cancel(sql: SqlRunner, id: string): Promise<Subscription> {
    const [row] = await sql.rows<Subscription>({
      name: 'subscriptions.cancel',
      text: CANCEL,
      values: [id],
    });
    return row;
  }
}
