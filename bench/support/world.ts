import type { BenchContext } from '../bench-scenario';
import { BenchDatabase, createBenchDatabase } from '../bench-database';
import type { FakeUxcClock, FakeUxcStats } from '../peers/fake-uxc';
import type { Receipt, ReceiverCounts } from '../peers/receiver';
import { ApiClient } from './http';
import { Peer } from './peer';
import type { PlanSpec } from './plans';
import { BENCH_API_KEY, BENCH_UXC, RelayProcess } from './relay';

/**
 * One scenario's processes: a fresh database, the fake UXC, the receivers
 * and (started by the scenario, as many times as it needs) the relay.
 */
export class World {
  relay: RelayProcess | null = null;
  api: ApiClient | null = null;

  private constructor(
    readonly database: BenchDatabase,
    readonly uxc: Peer,
    readonly uxcUrl: string,
    readonly receiver: Peer,
    readonly ports: number[],
  ) {}

  static async start(
    context: BenchContext,
    options: { spec: PlanSpec; hosts: number },
  ): Promise<World> {
    const database = await createBenchDatabase();
    context.serverVersion(database.serverVersion);
    const uxc = await Peer.start<{ url: string }>('fake-uxc', {
      spec: options.spec,
      ...BENCH_UXC,
    });
    const receiver = await Peer.start<{ ports: number[] }>('receiver', { hosts: options.hosts });
    return new World(database, uxc.peer, uxc.ready.url, receiver.peer, receiver.ready.ports);
  }

  /** Starts the relay (stopping the one before, if any) on this world's database and fake UXC. */
  async startRelay(env: Record<string, string>, nodeArgs: string[] = []): Promise<RelayProcess> {
    await this.stopRelay();
    // BENCH_CPU_PROF=<dir>: a V8 CPU profile of every relay process, written when it stops
    const profileDir = process.env.BENCH_CPU_PROF;
    if (profileDir) nodeArgs = ['--cpu-prof', '--cpu-prof-dir', profileDir, ...nodeArgs];
    this.relay = await RelayProcess.start(
      { DATABASE_URL: this.database.url, UXC_BASE_URL: this.uxcUrl, ...env, ...relayEnvOverride() },
      nodeArgs,
    );
    this.api = new ApiClient(this.relay.url, BENCH_API_KEY);
    return this.relay;
  }

  async stopRelay(): Promise<void> {
    this.api?.close();
    this.api = null;
    await this.relay?.stop();
    this.relay = null;
  }

  callbackUrl(host: number, path: string): string {
    return `http://127.0.0.1:${this.ports[host]}${path}`;
  }

  go(delayMs: number): Promise<number> {
    return this.uxc.call('go', { delayMs });
  }

  phase(k: number, from?: number, to?: number): Promise<number> {
    return this.uxc.call('phase', { k, from, to });
  }

  clock(): Promise<FakeUxcClock> {
    return this.uxc.call('clock');
  }

  uxcStats(resetGaps = false): Promise<FakeUxcStats> {
    return this.uxc.call('stats', { resetGaps });
  }

  counts(): Promise<ReceiverCounts> {
    return this.receiver.call('counts');
  }

  receipts(): Promise<Receipt[]> {
    return this.receiver.call('receipts');
  }

  resetReceiver(record = true): Promise<void> {
    return this.receiver.call('reset', { record });
  }

  /** deliveries by state, read off the table (a read: load only ever goes through the API) */
  async deliveryStates(): Promise<Record<string, number>> {
    const client = await this.database.connect();
    try {
      const { rows } = await client.query<{ state: string; n: string }>(
        'SELECT state, count(*) AS n FROM deliveries GROUP BY state',
      );
      return Object.fromEntries(rows.map((row) => [row.state, Number(row.n)]));
    } finally {
      await client.end();
    }
  }

  /**
   * Every notified change as the relay's poller saw it (`task_events`), shaped
   * like a receipt whose `at` is when the poll observed it: with the receipts,
   * it splits notify latency into polling and delivery.
   */
  async observations(): Promise<Receipt[]> {
    const client = await this.database.connect();
    try {
      const { rows } = await client.query<{ sid: string; message: string; at: string }>(
        `SELECT t.sid, e.message, (extract(epoch FROM e.observed_at) * 1000)::float8 AS at
           FROM task_events e JOIN tasks t ON t.id = e.task_id
          WHERE e.type LIKE 'task.%'`,
      );
      return rows.map(
        (row) => ({ sid: row.sid, message: row.message, at: Number(row.at) }) as Receipt,
      );
    } finally {
      await client.end();
    }
  }

  async stop(): Promise<void> {
    await this.stopRelay().catch(() => undefined);
    await this.uxc.stop();
    await this.receiver.stop();
    await this.database.drop();
  }
}

/**
 * BENCH_RELAY_ENV='{"POLLER_CONCURRENCY":"128"}': settings laid over every
 * scenario's own, to try a setting without editing the scenario (the results
 * file records them).
 */
export function relayEnvOverride(): Record<string, string> {
  const text = process.env.BENCH_RELAY_ENV;
  if (!text) return {};
  const parsed: unknown = JSON.parse(text);
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new Error('BENCH_RELAY_ENV must be a JSON object of settings');
  }
  return Object.fromEntries(Object.entries(parsed).map(([key, value]) => [key, String(value)]));
}
