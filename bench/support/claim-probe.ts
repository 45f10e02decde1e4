/**
 * The one place the bench calls into the relay's code instead of its
 * process: the dispatcher's claim, run on its own against a seeded backlog,
 * with every SQL statement it sends captured so that the same statement can
 * be EXPLAINed with the same parameters. When the claim's interface changes,
 * only this file follows it.
 */
import { Client } from 'pg';
import type { DatabaseConnection } from '../../src/database/database-connection';
import { DatabasePool } from '../../src/database/database-pool';
import { DeliveryStore } from '../../src/outbox/delivery.store';

export interface CapturedStatement {
  text: string;
  values: unknown[];
}

interface QueryConfig {
  text?: string;
  values?: unknown[];
}

let capturing: CapturedStatement[] | null = null;
const originalQuery = Client.prototype.query;

/** Records what every pg client in this process sends while `capturing` is set. */
function installCapture(): void {
  if ((Client.prototype.query as { captured?: boolean }).captured) return;
  const patched = function (this: Client, ...args: unknown[]): unknown {
    const first = args[0] as string | QueryConfig;
    if (capturing !== null) {
      if (typeof first === 'string')
        capturing.push({ text: first, values: (args[1] as unknown[]) ?? [] });
      else if (first?.text) capturing.push({ text: first.text, values: first.values ?? [] });
    }
    return (originalQuery as (...a: unknown[]) => unknown).apply(this, args);
  };
  (patched as { captured?: boolean }).captured = true;
  Client.prototype.query = patched as typeof Client.prototype.query;
}

export interface ClaimCall {
  /** lease + heads: what one claim of the dispatcher costs */
  ms: number;
  /** the host discovery that precedes claims (DeliveryStore.hosts) */
  hostsMs: number;
  claimed: number;
  statements: CapturedStatement[];
}

export class ClaimProbe {
  private constructor(
    private readonly database: DatabasePool,
    private readonly store: DeliveryStore,
  ) {}

  static async open(url: string): Promise<ClaimProbe> {
    installCapture();
    const database = new DatabasePool({ url } as DatabaseConnection);
    return new ClaimProbe(database, new DeliveryStore(database));
  }

  /**
   * One claim as the dispatcher makes it (DispatcherService.claimOnce): the
   * due hosts, up to `limit` lanes leased over them in one statement and their
   * heads read in another; then the leases are given back so the backlog
   * stays as it was.
   */
  async claim(limit: number): Promise<ClaimCall> {
    const owner = `bench-claim-${process.pid}`;
    capturing = [];
    const t0 = performance.now();
    const hosts = (await this.store.hosts()).filter(
      (h) => h.nextDue !== null && h.nextDue.getTime() <= Date.now(),
    );
    const t1 = performance.now();
    const n = Math.max(1, Math.floor(limit / Math.max(1, hosts.length)));
    const lanes = await this.store.lease(
      owner,
      20_000,
      hosts.map((h) => ({ host: h.host, n })),
    );
    const heads = await this.store.heads(lanes);
    const t2 = performance.now();
    const statements = capturing;
    capturing = null;
    await this.store.release(
      owner,
      lanes.map((lane) => lane.id),
    );
    return { ms: t2 - t1, hostsMs: t1 - t0, claimed: heads.size, statements };
  }

  async close(): Promise<void> {
    await this.database.pool.end();
  }
}
