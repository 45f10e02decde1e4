import { Pool } from 'pg';
import { PgThrottlerStorage } from '../src/common/pg-throttler-storage';
import { DatabasePool } from '../src/database/database-pool';
import { RateBucketStore } from '../src/uxc/rate-bucket.store';
import { LOOKAHEAD_MS, WINDOW_MS } from '../src/uxc/rate-limiter';
import { createTestDatabase } from './support/database';
import { waitFor } from './support/wait';

describe('the shared rate stores on PostgreSQL', () => {
  let pools: Pool[];

  beforeAll(async () => {
    const url = await createTestDatabase();
    pools = [new Pool({ connectionString: url }), new Pool({ connectionString: url })];
  });
  afterAll(async () => {
    for (const pool of pools) await pool.end();
  });

  it('hands out each slot of a credential once, spaced, however many processes ask at once', async () => {
    const rate = 20;
    const stores = pools.map((pool) => new RateBucketStore(pool, rate));
    const started = Date.now();
    const grants = await Promise.all(
      Array.from({ length: 10 }, (_, i) => stores[i % 2].take('ak-spaced', 3)),
    );
    const elapsed = Date.now() - started;
    const granted = grants.reduce((sum, grant) => sum + grant.slotsInMs.length, 0);
    // one lookahead holds LOOKAHEAD_MS / spacing + 1 slots; the asks took `elapsed`
    // to arrive, which brings that many more slots within reach, and no more
    const spacing = WINDOW_MS / rate;
    expect(granted).toBeGreaterThanOrEqual(Math.floor(LOOKAHEAD_MS / spacing) + 1);
    expect(granted).toBeLessThanOrEqual(Math.floor((LOOKAHEAD_MS + elapsed) / spacing) + 1);
    const { rows } = await pools[0].query<{ ahead_ms: number }>(
      `SELECT (extract(epoch FROM next_slot_at - now()) * 1000)::float8 AS ahead_ms
       FROM uxc_rate_buckets WHERE ak = 'ak-spaced'`,
    );
    expect(rows[0].ahead_ms).toBeGreaterThan(LOOKAHEAD_MS - 100);
    const refused = grants.filter((grant) => grant.slotsInMs.length === 0);
    expect(refused.length).toBeGreaterThan(0);
    for (const grant of refused) expect(grant.retryInMs).toBeGreaterThanOrEqual(0);
  });

  it('hands out no slot that was already past when a take waited for another process to let go of the credential', async () => {
    const rate = 5;
    const [a, b] = pools.map((pool) => new RateBucketStore(pool, rate));
    expect((await a.take('ak-waited', 1)).slotsInMs).toHaveLength(1);
    await pools[0].query(
      `UPDATE uxc_rate_buckets SET next_slot_at = now() - interval '1 minute' WHERE ak = 'ak-waited'`,
    );
    // another process's take, caught between locking the row and committing
    const holder = await pools[0].connect();
    try {
      await holder.query('BEGIN');
      await holder.query(`SELECT 1 FROM uxc_rate_buckets WHERE ak = 'ak-waited' FOR UPDATE`);
      const waiting = b.take('ak-waited', 1);
      // asked outside the holder's transaction, which would see one snapshot of pg_stat_activity
      await waitFor('the take waiting for the row', async () => {
        const { rows } = await pools[0].query<{ n: number }>(
          `SELECT count(*)::int AS n FROM pg_stat_activity
           WHERE wait_event_type = 'Lock' AND query LIKE '%uxc_rate_buckets%FOR UPDATE%'`,
        );
        return rows[0].n > 0;
      });
      const { rows } = await holder.query<{ released_at: Date }>(
        'SELECT clock_timestamp() AS released_at',
      );
      await holder.query('COMMIT');
      expect((await waiting).slotsInMs).toHaveLength(1);
      // the slot is on the clock as it read once it had the row, so the next
      // one is a whole spacing after that moment, not after the take began
      const bucket = await pools[0].query<{ gap_ms: number }>(
        `SELECT (extract(epoch FROM next_slot_at - $1::timestamptz) * 1000)::float8 AS gap_ms
         FROM uxc_rate_buckets WHERE ak = 'ak-waited'`,
        [rows[0].released_at],
      );
      expect(bucket.rows[0].gap_ms).toBeGreaterThanOrEqual(WINDOW_MS / rate);
    } finally {
      holder.release();
    }
  });

  it("pauses a credential for every process on the database's clock", async () => {
    const [a, b] = pools.map((pool) => new RateBucketStore(pool, 5));
    expect((await b.take('ak-paused', 1)).slotsInMs).toHaveLength(1);
    await a.pause('ak-paused', 3000);
    const during = await b.take('ak-paused', 1);
    expect(during.slotsInMs).toEqual([]);
    expect(during.retryInMs).toBeGreaterThan(3000 - LOOKAHEAD_MS - 200);
    expect(during.retryInMs).toBeLessThanOrEqual(3000 - LOOKAHEAD_MS);
    // a shorter pause asked later never cuts the longer one short
    await b.pause('ak-paused', 100);
    expect((await a.take('ak-paused', 1)).retryInMs).toBeGreaterThan(2000);
  });

  it('admits no more than the limit over two processes for a busy key, with a round trip per reservation rather than per request', async () => {
    const limit = 320;
    let roundTrips = 0;
    const counted = (pool: Pool): DatabasePool =>
      ({
        pool: {
          query: (...args: Parameters<Pool['query']>) => {
            roundTrips += 1;
            return (pool.query as (...a: unknown[]) => unknown)(...args);
          },
        },
      }) as unknown as DatabasePool;
    const storages = pools.map((pool) => new PgThrottlerStorage(counted(pool)));
    // 32 callers at a time, alternating between the processes, 1,000 requests in all
    const answers = [];
    for (let round = 0; round < 1000 / 32; round++) {
      answers.push(
        ...(await Promise.all(
          Array.from({ length: 32 }, (_, i) =>
            storages[i % 2].increment('default:key:busy', 60_000, limit, 60_000, 'default'),
          ),
        )),
      );
    }
    const admitted = answers.filter((answer) => !answer.isBlocked);
    expect(admitted.length).toBeLessThanOrEqual(limit);
    // hits reserved but still unused in one process can only refuse early, by
    // at most a sixteenth of the limit for each
    expect(admitted.length).toBeGreaterThanOrEqual(limit - 2 * (limit / 16));
    // every admitted hit has its own number in the shared window
    expect(new Set(admitted.map((answer) => answer.totalHits)).size).toBe(admitted.length);
    expect(roundTrips).toBeLessThan(60);
    const refused = answers.filter((answer) => answer.isBlocked);
    expect(refused.length).toBe(answers.length - admitted.length);
    for (const answer of refused) expect(answer.timeToBlockExpire).toBeGreaterThan(50);
  });

  it('counts API hits per key in one window and sweeps ended windows', async () => {
    const storage = new PgThrottlerStorage({ pool: pools[0] } as DatabasePool);
    const other = new PgThrottlerStorage({ pool: pools[1] } as DatabasePool);
    const first = await storage.increment('default:key:a', 60_000, 2, 60_000, 'default');
    expect(first).toMatchObject({ totalHits: 1, isBlocked: false, timeToBlockExpire: 0 });
    await other.increment('default:key:a', 60_000, 2, 60_000, 'default');
    const third = await storage.increment('default:key:a', 60_000, 2, 60_000, 'default');
    expect(third.totalHits).toBe(3);
    expect(third.isBlocked).toBe(true);
    expect(third.timeToBlockExpire).toBeGreaterThan(55);
    expect(third.timeToBlockExpire).toBeLessThanOrEqual(60);

    // a window that ended starts again at 1, and the sweep removes ended windows
    await storage.increment('default:key:short', 1, 10, 1, 'default');
    await pools[0].query(
      `UPDATE api_throttle_counters SET expires_at = now() - interval '1 second'
       WHERE key = 'default:key:short'`,
    );
    expect((await other.increment('default:key:short', 60_000, 10, 1, 'default')).totalHits).toBe(
      1,
    );
    await pools[0].query(
      `UPDATE api_throttle_counters SET expires_at = now() - interval '1 second'
       WHERE key = 'default:key:short'`,
    );
    expect(await storage.sweep()).toBe(1);
    const { rows } = await pools[0].query(`SELECT key FROM api_throttle_counters`);
    const keys = rows.map((row: { key: string }) => row.key);
    expect(keys).toContain('default:key:a');
    expect(keys).not.toContain('default:key:short');
  });
});
