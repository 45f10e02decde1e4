import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Client } from 'pg';
import { EmbeddedDatabase, startEmbeddedPostgres } from '../../../src/database/embedded-postgres';

/** The machine's own server, as CI and the issue name it. */
export const MACHINE_POSTGRES_URL =
  process.env.CHAOS_POSTGRES_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';

export type DatabaseKind = 'machine' | 'embedded';

/**
 * A fresh database for one scenario, and the ways a scenario breaks it:
 * terminating the relay's connections and restarting the server. On the
 * machine's server only this scenario's database is touched, except by the
 * restart, which is the server's own service command.
 */
export interface ChaosDatabase {
  kind: DatabaseKind;
  url: string;
  query<T extends object>(sql: string, values?: unknown[]): Promise<T[]>;
  /** pg_terminate_backend on every connection to this database but our own; how many */
  terminateConnections(): Promise<number>;
  /**
   * Stops the server and starts it again; resolves once it accepts
   * connections. An embedded server stays stopped for `downMs` in between:
   * its own stop and start take about a second, the machine's service
   * command several (and ignores `downMs`).
   */
  restart(downMs?: number): Promise<void>;
  drop(): Promise<void>;
}

async function withClient<T>(url: string, work: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function untilAccepting(url: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await withClient(url, (client) => client.query('SELECT 1'));
      return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((done) => setTimeout(done, 200));
    }
  }
}

function operations(url: string): Pick<ChaosDatabase, 'query' | 'terminateConnections'> {
  return {
    query: (sql, values) =>
      withClient(url, async (client) => (await client.query(sql, values)).rows),
    terminateConnections: () =>
      withClient(url, async (client) => {
        const { rows } = await client.query<{ pid: number }>(
          `SELECT pg_terminate_backend(pid) AS ok, pid FROM pg_stat_activity
            WHERE datname = current_database() AND pid <> pg_backend_pid()`,
        );
        return rows.length;
      }),
  };
}

/**
 * `pg_ctlcluster <version> <name> restart` for the cluster on port 5432, else
 * `service postgresql restart`. Not execFileSync: it blocked this process's
 * event loop for the whole restart, so the scenario's readiness sampler,
 * which runs here, could not look at the relay while the server was down.
 */
async function restartMachineServer(): Promise<void> {
  const run = promisify(execFile);
  try {
    const { stdout } = await run('pg_lsclusters', ['--no-header'], { encoding: 'utf8' });
    const line = stdout
      .split('\n')
      .map((row) => row.trim().split(/\s+/))
      .find((fields) => fields[2] === '5432');
    if (line) {
      await run('pg_ctlcluster', [line[0], line[1], 'restart']);
      return;
    }
  } catch {
    // no Debian cluster tools: the distribution's service command below
  }
  await run('service', ['postgresql', 'restart']);
}

async function machineDatabase(): Promise<ChaosDatabase> {
  const name = `uxc_relay_chaos_${randomBytes(5).toString('hex')}`;
  await withClient(MACHINE_POSTGRES_URL, (client) => client.query(`CREATE DATABASE "${name}"`));
  const url = new URL(MACHINE_POSTGRES_URL);
  url.pathname = `/${name}`;
  return {
    kind: 'machine',
    url: url.toString(),
    ...operations(url.toString()),
    restart: async () => {
      await restartMachineServer();
      await untilAccepting(url.toString(), 60_000);
    },
    drop: () =>
      withClient(MACHINE_POSTGRES_URL, (client) =>
        client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`),
      ).then(() => undefined),
  };
}

async function embeddedDatabase(): Promise<ChaosDatabase> {
  const dir = mkdtempSync(join(tmpdir(), 'uxc-relay-chaos-pg-'));
  const dataDir = join(dir, 'pg');
  let server: EmbeddedDatabase = await startEmbeddedPostgres({ dataDir, persistent: true });
  const url = server.url;
  const port = Number(new URL(url).port);
  return {
    kind: 'embedded',
    url,
    ...operations(url),
    restart: async (downMs = 0) => {
      await server.stop();
      if (downMs > 0) await new Promise((done) => setTimeout(done, downMs));
      // the same port and password: the relay's DATABASE_URL stays right
      server = await startEmbeddedPostgres({ dataDir, persistent: true, port });
      await untilAccepting(url, 60_000);
    },
    drop: async () => {
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export function createChaosDatabase(kind: DatabaseKind): Promise<ChaosDatabase> {
  return kind === 'machine' ? machineDatabase() : embeddedDatabase();
}
