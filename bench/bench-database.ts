import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { startEmbeddedPostgres } from '../src/database/embedded-postgres';

export interface BenchDatabase {
  url: string;
  serverVersion: string;
  /** a connection of the bench's own, for counting and plans (never for writing load) */
  connect(): Promise<Client>;
  drop(): Promise<void>;
}

async function versionOf(url: string): Promise<string> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<{ v: string }>("SELECT current_setting('server_version') AS v"))
      .rows[0].v;
  } finally {
    await client.end();
  }
}

function connector(url: string): () => Promise<Client> {
  return async () => {
    const client = new Client({ connectionString: url });
    await client.connect();
    return client;
  };
}

/** The embedded server of this run, started by the first scenario that needs one. */
let embedded: Promise<{ url: string; stop: () => Promise<void> }> | undefined;

async function startEmbedded(): Promise<{ url: string; stop: () => Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'uxc-relay-bench-pg-'));
  const server = await startEmbeddedPostgres({
    dataDir: join(dir, 'pg'),
    persistent: false,
  }).catch((error: unknown) => {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  });
  return {
    url: server.url,
    stop: async () => {
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The server the scenarios' databases are created on: `DATABASE_URL`'s, else one embedded for the whole run. */
async function adminUrl(): Promise<string> {
  const configured = process.env.DATABASE_URL;
  if (configured !== undefined && configured !== '') return configured;
  embedded ??= startEmbedded();
  return (await embedded).url;
}

/** Stops the embedded server, if the run started one. */
export async function stopBenchServer(): Promise<void> {
  const server = embedded;
  embedded = undefined;
  if (server) await (await server).stop();
}

/**
 * A fresh, empty database for one scenario (the relay migrates it at start),
 * so every table starts without statistics, as after a deploy: on the server
 * of `DATABASE_URL` when set, otherwise on an embedded PostgreSQL that the
 * run's scenarios share (each in a database of its own).
 */
export async function createBenchDatabase(): Promise<BenchDatabase> {
  const admin = await adminUrl();
  const name = `uxc_relay_bench_${randomBytes(5).toString('hex')}`;
  const client = new Client({ connectionString: admin });
  await client.connect();
  await client.query(`CREATE DATABASE "${name}"`);
  await client.end();
  const url = new URL(admin);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    serverVersion: await versionOf(url.toString()),
    connect: connector(url.toString()),
    drop: async () => {
      const client = new Client({ connectionString: admin });
      await client.connect();
      await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      await client.end();
    },
  };
}
