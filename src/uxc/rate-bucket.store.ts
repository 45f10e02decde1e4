import type { Pool } from 'pg';
import { LOOKAHEAD_MS, SlotGrant, SlotSource, slotMs } from './rate-limiter';

/**
 * The one writer of `uxc_rate_buckets`: each credential's UXC_RATE_LIMIT
 * budget, shared by every relay process on the database. The bucket's clock is
 * the database's `now()`, so processes whose clocks differ still agree on it.
 * The rule is `grantSlots` in rate-limiter.ts, written here as one statement.
 */
export class RateBucketStore implements SlotSource {
  private readonly spacingMs: number;
  private readonly known = new Set<string>();

  constructor(
    private readonly pool: Pool,
    rate: number,
  ) {
    this.spacingMs = slotMs(rate);
  }

  /** `take`: up to `want` slots due within the lookahead, in one locked read-and-update of the row. */
  async take(key: string, want: number): Promise<SlotGrant> {
    if (!this.known.has(key)) await this.open(key);
    const { rows } = await this.pool.query<{ first_in_ms: number; granted: number }>({
      name: 'uxc_rate_bucket_take',
      text: `
        WITH cur AS (
          SELECT ak, greatest(next_slot_at, paused_until, now()) AS first_at
          FROM uxc_rate_buckets WHERE ak = $1
          FOR UPDATE
        ), take AS (
          SELECT ak, first_at,
            CASE WHEN first_at > now() + $3::float8 * interval '1 millisecond' THEN 0
                 ELSE least(
                   $2::int,
                   floor(extract(epoch FROM now() + $3::float8 * interval '1 millisecond' - first_at)
                         * 1000 / $4::float8)::int + 1)
            END AS granted
          FROM cur
        )
        UPDATE uxc_rate_buckets b
        SET next_slot_at = take.first_at + take.granted * $4::float8 * interval '1 millisecond'
        FROM take WHERE b.ak = take.ak
        RETURNING (extract(epoch FROM take.first_at - now()) * 1000)::float8 AS first_in_ms,
                  take.granted`,
      values: [key, want, LOOKAHEAD_MS, this.spacingMs],
    });
    if (rows.length === 0) {
      // the row went away under us (a database reset): open it again next time
      this.known.delete(key);
      return { slotsInMs: [], retryInMs: 0 };
    }
    const { first_in_ms: firstInMs, granted } = rows[0];
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
