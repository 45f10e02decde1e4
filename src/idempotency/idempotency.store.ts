import { Injectable } from '@nestjs/common';
import { DatabasePool } from '../database/database-pool';
import { pgRunner, SqlRunner } from '../outbox/sql';
import { IDEMPOTENCY_STALE_CLAIM_MS, IDEMPOTENCY_TTL_MS, StoredKey } from './idempotency-key';

// The claim is the insert: of two requests with one key, exactly one gets the
// row back. An expired key, or a claim whose process died before answering,
// is taken over in the same statement.
const CLAIM = `
  INSERT INTO idempotency_keys (scope, key, fingerprint, created_at, expires_at)
  VALUES ($1, $2, $3, now(), now() + $4 * interval '1 millisecond')
  ON CONFLICT (scope, key) DO UPDATE SET
    fingerprint = excluded.fingerprint, status_code = NULL, body = NULL,
    created_at = now(), expires_at = excluded.expires_at
  WHERE idempotency_keys.expires_at <= now()
     OR (idempotency_keys.status_code IS NULL
         AND idempotency_keys.created_at <= now() - $5 * interval '1 millisecond')
  RETURNING key`;

const FIND = `
  SELECT fingerprint, status_code AS "statusCode", body
  FROM idempotency_keys WHERE scope = $1 AND key = $2 AND expires_at > now()`;

const ANSWER = `
  UPDATE idempotency_keys SET status_code = $3, body = $4
  WHERE scope = $1 AND key = $2 AND status_code IS NULL`;

const RELEASE = `
  DELETE FROM idempotency_keys WHERE scope = $1 AND key = $2 AND status_code IS NULL`;

// off the expires_at index, a bounded batch per statement
const PURGE = `
  DELETE FROM idempotency_keys WHERE ctid = ANY (ARRAY(
    SELECT ctid FROM idempotency_keys WHERE expires_at <= now() ORDER BY expires_at LIMIT $1))`;

/** The idempotency_keys table: claim a key, record its answer, give it back, purge old ones. */
@Injectable()
export class IdempotencyStore {
  private readonly pool: SqlRunner;

  constructor(database: DatabasePool) {
    this.pool = pgRunner(database.pool);
  }

  /** True when this request now holds the key; false when another request has it. */
  async claim(scope: string, key: string, fingerprint: string): Promise<boolean> {
    const rows = await this.pool.rows({
      name: 'idempotency.claim',
      text: CLAIM,
      values: [scope, key, fingerprint, IDEMPOTENCY_TTL_MS, IDEMPOTENCY_STALE_CLAIM_MS],
    });
    return rows.length === 1;
  }

  /** The live key's row, or null when it expired or was given back meanwhile. */
  async find(scope: string, key: string): Promise<StoredKey | null> {
    const [row] = await this.pool.rows<StoredKey>({
      name: 'idempotency.find',
      text: FIND,
      values: [scope, key],
    });
    return row ?? null;
  }

  /** The claimed key's answer (its body sealed by the caller), replayed to every later request with the same key and body. */
  async answer(scope: string, key: string, statusCode: number, body: string | null): Promise<void> {
    await this.pool.rows({
      name: 'idempotency.answer',
      text: ANSWER,
      values: [scope, key, statusCode, body],
    });
  }

  /** The request failed: the key is free for a retry. */
  async release(scope: string, key: string): Promise<void> {
    await this.pool.rows({ name: 'idempotency.release', text: RELEASE, values: [scope, key] });
  }

  /** Deletes up to `limit` expired keys; returns how many. */
  async purgeExpired(limit = 5000): Promise<number> {
    const rows = await this.pool.rows<unknown>({
      name: 'idempotency.purge',
      text: `${PURGE} RETURNING 1`,
      values: [limit],
    });
    return rows.length;
  }
}
