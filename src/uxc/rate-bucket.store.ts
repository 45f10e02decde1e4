import type { Pool } from 'pg';
import { DatabaseClock } from './database-clock';
import { LOOKAHEAD_MS, SlotGrant, SlotSource, slotMs } from './rate-limiter';
import { Clock, REAL_CLOCK } from './rate-limiter-clock';

/**
 * The one writer of `uxc_rate_buckets`: each credential's UXC_RATE_LIMIT
 * budget, shared by every relay process on the database. The bucket's clock is
 * the database's, so processes whose clocks differ still agree on it; each
 * process maps its slots onto its own clock with a `DatabaseClock`.
 * The rule is `grantSlots` in rate-limiter.ts, written here as one statement.
 */
export class RateBucketStore implements SlotSource {
  private readonly spacingMs: number;
  private readonly known = new Set<string>();
  private readonly databaseClock = new DatabaseClock();

  constructor(
    private readonly pool: Pool,
    rate: number,
    private readonly clock: Clock = REAL_CLOCK,
  ) {
    this.spacingMs = slotMs(rate);
  }

  /** `take`: up to `want` slots due within the lookahead, in one locked read-and-update of the row. */
  async take(key: string, want: number): Promise<SlotGrant> {
    if (!this.known.has(key)) await this.open(key);
    const sentAt = this.clock.now();
    const { rows } = await this.pool.query<{ at_ms: number; first_at_ms: number; granted: number }>(
      {
        name: 'uxc_rate_bucket_take',
        // the clock is read once the row is locked (clock_timestamp(), not the
        // statement's start): a take that waited for another's lock would
        // otherwise hand out a slot that was already past when it got the row
        text: `
        WITH cur AS MATERIALIZED (
          SELECT ak, next_slot_at, paused_until FROM uxc_rate_buckets WHERE ak = $1
          FOR UPDATE
        ), stamped AS MATERIALIZED (
          SELECT ak, at, greatest(next_slot_at, paused_until, at) AS first_at
          FROM (SELECT cur.*, clock_timestamp() AS at FROM cur) c
        ), take AS (
          SELECT ak, at, first_at,
            CASE WHEN first_at > at + $3::float8 * interval '1 millisecond' THEN 0
                 ELSE least(
                   $2::int,
                   floor(extract(epoch FROM at + $3::float8 * interval '1 millisecond' - first_at)
                         * 1000 / $4::float8)::int + 1)
            END AS granted
          FROM stamped
        )
        UPDATE uxc_rate_buckets b
        SET next_slot_at = take.first_at + take.granted * $4::float8 * interval '1 millisecond'
        FROM take WHERE b.ak = take.ak
        RETURNING (extract(epoch FROM take.at) * 1000)::float8 AS at_ms,
                  (extract(epoch FROM take.first_at) * 1000)::float8 AS first_at_ms,
                  take.granted`,
        values: [key, want, LOOKAHEAD_MS, this.spacingMs],
      },
    );
    const answeredAt = this.clock.now();
    if (rows.length === 0) {
      // the row went away under us (a database reset): open it again next time
      this.known.delete(key);
      return { slotsInMs: [], retryInMs: 0 };
    }
    const { at_ms: atMs, first_at_ms: firstAtMs, granted } = rows[0];
    this.databaseClock.observe(sentAt, atMs, answeredAt);
    // slots keep the spacing the database gave them, whenever this answer arrived
    const firstInMs = this.databaseClock.toLocal(firstAtMs) - answeredAt;
    if (granted === 0) return { slotsInMs: [], retryInMs: Math.max(0, firstInMs - LOOKAHEAD_MS) };
    return {
      slotsInMs: Array.from({ length: granted }, (_, i) => firstInMs + i * this.spacingMs),
      retryInMs: 0,
    };
  }

  /** `pause`: nobody gets a slot of `key` until `ms` from now (later pauses win, earlier ones never shorten it). */
  async pause(key: string, ms: number): Promise<void> {
    await this.pool.query({
      name: 'uxc_rate_bucket_pause',
      text: `
        INSERT INTO uxc_rate_buckets (ak, next_slot_at, paused_until)
        VALUES ($1, now(), now() + $2::float8 * interval '1 millisecond')
        ON CONFLICT (ak) DO UPDATE
        SET paused_until = greatest(uxc_rate_buckets.paused_until, EXCLUDED.paused_until)`,
      values: [key, ms],
    });
    this.known.add(key);
  }

  /** `open`: the credential's row, created on its first call. */
  private async open(key: string): Promise<void> {
    await this.pool.query({
      name: 'uxc_rate_bucket_open',
      text: `
        INSERT INTO uxc_rate_buckets (ak, next_slot_at, paused_until)
        VALUES ($1, now(), now())
        ON CONFLICT (ak) DO NOTHING`,
      values: [key],
    });
    this.known.add(key);
  }
}
