import { Injectable, Logger, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import type { ThrottlerStorage } from '@nestjs/throttler';
import type { ThrottlerStorageRecord } from '@nestjs/throttler/dist/throttler-storage-record.interface';
import { DatabasePool } from '../database/database-pool';

/** Windows that ended are removed this often; a lost sweep only leaves a few dead rows. */
const SWEEP_MS = 60_000;

/**
 * API_RATE_LIMIT counters in PostgreSQL, so a key's budget holds across every
 * API replica on the database, and the one writer of `api_throttle_counters`.
 * A key's window starts at its first hit after the previous window ended and
 * lasts `ttl` (as @nestjs/throttler's own storage counts); past `limit` the key
 * is refused until the window ends. One upsert per request.
 */
export class PgThrottlerStorage implements ThrottlerStorage {
  constructor(private readonly database: DatabasePool) {}

  /** `hit`: counts one request of `key`, opening a new window when the last one ended. */
  async increment(
    key: string,
    ttl: number,
    limit: number,
    _blockDuration: number,
    _throttlerName: string,
  ): Promise<ThrottlerStorageRecord> {
    const { rows } = await this.database.pool.query<{ hits: number; ms_left: number }>({
      name: 'api_throttle_hit',
      text: `
        INSERT INTO api_throttle_counters AS c (key, hits, expires_at)
        VALUES ($1, 1, now() + $2::int * interval '1 millisecond')
        ON CONFLICT (key) DO UPDATE SET
          hits = CASE WHEN c.expires_at <= now() THEN 1 ELSE c.hits + 1 END,
          expires_at = CASE WHEN c.expires_at <= now() THEN EXCLUDED.expires_at ELSE c.expires_at END
        RETURNING hits, (extract(epoch FROM expires_at - now()) * 1000)::float8 AS ms_left`,
      values: [key, Math.round(ttl)],
    });
    const { hits, ms_left: msLeft } = rows[0];
    // seconds, as the guard puts them into Retry-After
    const secondsLeft = Math.max(1, Math.ceil(msLeft / 1000));
    const blocked = hits > limit;
    return {
      totalHits: hits,
      timeToExpire: secondsLeft,
      isBlocked: blocked,
      timeToBlockExpire: blocked ? secondsLeft : 0,
    };
  }

  /** `sweep`: removes counters whose window has ended. */
  async sweep(): Promise<number> {
    const result = await this.database.pool.query({
      name: 'api_throttle_sweep',
      text: `DELETE FROM api_throttle_counters WHERE expires_at < now()`,
    });
    return result.rowCount ?? 0;
  }
}

/** Runs the counters' sweep in every API process; stops before the pool closes. */
@Injectable()
export class ThrottleCounterSweeper implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(ThrottleCounterSweeper.name);
  private readonly storage: PgThrottlerStorage;
  private timer: NodeJS.Timeout | undefined;

  constructor(database: DatabasePool) {
    this.storage = new PgThrottlerStorage(database);
  }

  onModuleInit(): void {
    this.timer = setInterval(() => void this.sweep(), SWEEP_MS);
    this.timer.unref();
  }

  onModuleDestroy(): void {
    clearInterval(this.timer);
  }

  private async sweep(): Promise<void> {
    try {
      await this.storage.sweep();
    } catch (error) {
      this.logger.warn(`removing old API rate-limit counters failed: ${(error as Error).message}`);
    }
  }
}
