import { Injectable } from '@nestjs/common';
import type { Endpoint } from '../generated/prisma/client';
import type { SqlRunner } from '../outbox/sql';

export interface NewEndpoint {
  id: string;
  tenantId: string;
  url: string;
  events: string[];
  description: string | null;
  webhookSecretEnc: string;
}

export interface EndpointPatch {
  url?: string;
  events?: string[];
  /** null clears it */
  description?: string | null;
  state?: 'active' | 'disabled';
}

const COLUMNS = `
  id, tenant_id AS "tenantId", url, events, description, state,
  webhook_secret_enc AS "webhookSecretEnc", previous_secret_enc AS "previousSecretEnc",
  previous_secret_until AS "previousSecretUntil", created_at AS "createdAt", updated_at AS "updatedAt"`;

const INSERT = `
  INSERT INTO endpoints (id, tenant_id, url, events, description, webhook_secret_enc)
  VALUES ($1, $2, $3, $4::text[], $5, $6)
  RETURNING ${COLUMNS}`;

// $5 tells a description given as null (cleared) from one left out
const PATCH = `
  UPDATE endpoints SET
    url = coalesce($2, url),
    events = coalesce($3::text[], events),
    description = CASE WHEN $5::boolean THEN $4 ELSE description END,
    state = coalesce($6, state),
    updated_at = now()
  WHERE id = $1
  RETURNING ${COLUMNS}`;

// compare-and-set on the current secret: of two rotations at once, the loser
// retries on the winner's secret, so the one rotated out is the one receivers had
const ROTATE = `
  UPDATE endpoints SET
    webhook_secret_enc = $3, previous_secret_enc = webhook_secret_enc,
    previous_secret_until = $4, updated_at = now()
  WHERE id = $1 AND webhook_secret_enc = $2
  RETURNING id`;

// the row lock the disable sweep and a success's completion take on it
const LOCK_ONE = `SELECT ${COLUMNS} FROM endpoints WHERE id = $1 AND tenant_id = $2 FOR UPDATE`;

const LOCK_TENANT = `SELECT pg_advisory_xact_lock(hashtext('uxc-relay:endpoints:' || $1))::text AS locked`;

/**
 * The endpoint transitions the outbox takes in its own multi-table statements
 * (alias `e`): the caller's `where` names the rows.
 */
export const endpointSql = {
  /** disable: a 410 from the endpoint, or every row of it failing for the window. */
  disable(where: string, returning?: string): string {
    return `
    UPDATE endpoints e SET state = 'disabled', updated_at = now()
    WHERE ${where}${returning ? `\n    RETURNING ${returning}` : ''}`;
  },

  /** recordSuccess: `last_success_at` of the endpoints `ids` selects. */
  recordSuccess(ids: string): string {
    return `
    UPDATE endpoints e SET last_success_at = now()
    WHERE e.id = ANY (ARRAY(${ids}))`;
  },
};

/**
 * The endpoints table: every write is one of these named transitions. The
 * 410 that disables an endpoint runs in the outbox's statement
 * (DeliveryStore.complete), from endpointSql, beside the delivery it answered.
 */
@Injectable()
export class EndpointStore {
  /**
   * Serialises, per tenant, creating endpoints against tracking tasks, so
   * that one of the two always sees the other and adds the rows that join them.
   */
  async lockTenant(sql: SqlRunner, tenantId: string): Promise<void> {
    await sql.rows({ name: 'endpoints.lock-tenant', text: LOCK_TENANT, values: [tenantId] });
  }

  /** The tenant's endpoint, locked until the transaction ends; undefined when there is none. */
  async lockOne(sql: SqlRunner, tenantId: string, id: string): Promise<Endpoint | undefined> {
    const [row] = await sql.rows<Endpoint>({
      name: 'endpoints.lock-one',
      text: LOCK_ONE,
      values: [id, tenantId],
    });
    return row;
  }

  async insert(sql: SqlRunner, endpoint: NewEndpoint): Promise<Endpoint> {
    const [row] = await sql.rows<Endpoint>({
      name: 'endpoints.insert',
      text: INSERT,
      values: [
        endpoint.id,
        endpoint.tenantId,
        endpoint.url,
        endpoint.events,
        endpoint.description,
        endpoint.webhookSecretEnc,
      ],
    });
    return row;
  }

  async patch(sql: SqlRunner, id: string, patch: EndpointPatch): Promise<Endpoint> {
    const [row] = await sql.rows<Endpoint>({
      name: 'endpoints.patch',
      text: PATCH,
      values: [
        id,
        patch.url ?? null,
        patch.events ?? null,
        patch.description ?? null,
        patch.description !== undefined,
        patch.state ?? null,
      ],
    });
    return row;
  }

  /** A new secret in place of `current`; false when another rotation got there first. */
  async rotateSecret(
    sql: SqlRunner,
    id: string,
    current: string,
    next: string,
    previousUntil: Date,
  ): Promise<boolean> {
    const rows = await sql.rows({
      name: 'endpoints.rotate-secret',
      text: ROTATE,
      values: [id, current, next, previousUntil],
    });
    return rows.length === 1;
  }

  /** Deletes it, with the rows that carried its deliveries, their deliveries and lanes. */
  async remove(sql: SqlRunner, id: string): Promise<void> {
    await sql.rows({
      name: 'endpoints.remove',
      text: 'DELETE FROM endpoints WHERE id = $1 RETURNING id',
      values: [id],
    });
  }
}
