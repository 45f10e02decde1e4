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

/**
 * A fresh, empty database for one scenario (the relay migrates it at start),
 * so every table starts without statistics, as after a deploy: on the server
 * of `DATABASE_URL` when set, otherwise on an embedded PostgreSQL in a
 * temporary directory.
 */
export async function createBenchDatabase(): Promise<BenchDatabase> {
  const adminUrl = process.env.DATABASE_URL;
  if (adminUrl === undefined || adminUrl === '') {
    const dir = mkdtempSync(join(tmpdir(), 'uxc-relay-bench-pg-'));
    const embedded = await startEmbeddedPostgres({
      dataDir: join(dir, 'pg'),
      persistent: false,
    }).catch((error: unknown) => {
      rmSync(dir, { recursive: true, force: true });
      throw error;
    });
    return {
      url: embedded.url,
      serverVersion: await versionOf(embedded.url),
      connect: connector(embedded.url),
      drop: async () => {
        await embedded.stop();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  }
  const name = `uxc_relay_bench_${randomBytes(5).toString('hex')}`;
  const admin = new Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE "${name}"`);
  await admin.end();
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    serverVersion: await versionOf(url.toString()),
    connect: connector(url.toString()),
    drop: async () => {
      const client = new Client({ connectionString: adminUrl });
      await client.connect();
      await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      await client.end();
    },
  };
}
