import { Injectable, Logger, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import type { ThrottlerStorage } from '@nestjs/throttler';
import type { ThrottlerStorageRecord } from '@nestjs/throttler/dist/throttler-storage-record.interface';
import { DatabasePool } from '../database/database-pool';

/** Windows that ended are removed this often; a lost sweep only leaves a few dead rows. */
const SWEEP_MS = 60_000;

/**
 * A key's busiest share of its limit taken in one reservation: a process
 * holding hits it has not used yet can make other processes refuse the key
 * that much early, so it stays a small part of the limit.
 */
const MAX_RESERVATION_SHARE = 1 / 16;
/** Expired allowances are dropped once this many keys are held. */
const PRUNE_AT = 10_000;

/** Hits of one key's current window that this process reserved and may hand out. */
interface Allowance {
  /** When the window ends, on `Date.now()`'s clock. */
  endsAt: number;
  /** The next hit's number in the window, counted over every process. */
  next: number;
  /** The last hit number reserved here that is within the limit. */
  last: number;
  /** Reservations made in this window; each one takes twice as many hits as the one before. */
  reservations: number;
}

/**
 * API_RATE_LIMIT counters in PostgreSQL, so a key's budget holds across every
 * API replica on the database, and the one writer of `api_throttle_counters`.
 * A key's window starts at its first hit after the previous window ended and
 * lasts `ttl` (as @nestjs/throttler's own storage counts); past `limit` the key
 * is refused until the window ends.
 *
 * A busy key does not cost a database round trip per request: a process
 * reserves hits in the shared counter ahead (1, 2, 4, … up to a sixteenth of
 * the limit in one window) and hands them out from memory, and a key found
 * over its limit is refused from memory until its window ends. Every hit
 * handed out was counted in the shared row first, so the replicas together
 * never admit more than the limit.
 */
export class PgThrottlerStorage implements ThrottlerStorage {
  private readonly allowances = new Map<string, Allowance>();
  private readonly reserving = new Map<string, Promise<void>>();

  constructor(private readonly database: DatabasePool) {}

  /** `hit`: counts one request of `key`, from this process's reserve or by reserving more. */
  async increment(
    key: string,
    ttl: number,
    limit: number,
    _blockDuration: number,
    _throttlerName: string,
  ): Promise<ThrottlerStorageRecord> {
    for (;;) {
      const now = Date.now();
      const stored = this.allowances.get(key);
      const held = stored && stored.endsAt > now ? stored : undefined;
      if (held) {
        if (held.next <= held.last) return record(held.next++, limit, held.endsAt - now);
        if (held.last >= limit) return record(held.next, limit, held.endsAt - now);
      }
      // one reservation per key at a time in this process: the others wait for it
      const pending = this.reserving.get(key);
      if (pending) {
        await pending;
        continue;
      }
      const reservation = this.reserve(key, ttl, limit, held);
      this.reserving.set(key, reservation);
      try {
        await reservation;
      } finally {
        this.reserving.delete(key);
      }
    }
  }

  /** `reserve`: takes the next hits of `key`'s window in the shared row, opening a new window when the last one ended. */
  private async reserve(
    key: string,
    ttl: number,
    limit: number,
    current: Allowance | undefined,
  ): Promise<void> {
    const most = Math.max(1, Math.floor(limit * MAX_RESERVATION_SHARE));
    const take = current ? Math.min(most, 2 ** current.reservations) : 1;
    const { rows } = await this.database.pool.query<{
      hits: number;
      ms_left: number;
      fresh: boolean;
    }>({
      name: 'api_throttle_reserve',
      text: `
        INSERT INTO api_throttle_counters AS c (key, hits, expires_at)
        VALUES ($1, $3, now() + $2::int * interval '1 millisecond')
        ON CONFLICT (key) DO UPDATE SET
          hits = CASE WHEN c.expires_at <= now() THEN EXCLUDED.hits ELSE c.hits + EXCLUDED.hits END,
          expires_at = CASE WHEN c.expires_at <= now() THEN EXCLUDED.expires_at ELSE c.expires_at END
        RETURNING hits, (extract(epoch FROM expires_at - now()) * 1000)::float8 AS ms_left,
                  hits = $3 AS fresh`,
      values: [key, Math.round(ttl), take],
    });
    const { hits, ms_left: msLeft, fresh } = rows[0];
    if (this.allowances.size >= PRUNE_AT) this.prune();
    this.allowances.set(key, {
      endsAt: Date.now() + Math.max(1, msLeft),
      next: hits - take + 1,
      last: Math.min(hits, limit),
      reservations: fresh || !current ? 1 : current.reservations + 1,
    });
  }

  private prune(): void {
    const now = Date.now();
    for (const [key, allowance] of this.allowances) {
      if (allowance.endsAt <= now) this.allowances.delete(key);
    }
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

/** The guard's view of hit number `hits` with `msLeft` of the window to go. */
function record(hits: number, limit: number, msLeft: number): ThrottlerStorageRecord {
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
