import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Client } from 'pg';
import { applyMigrations, diffSchemas, SCHEMA_PATH } from '../src/database/migrator';
import { describeDatabase } from './support/catalog';
import { TEST_ENCRYPTION_KEY } from './support/app';
import { createEmptyDatabase } from './support/database';

const MIGRATE_JS = join(__dirname, '..', 'dist', 'src', 'database', 'cli', 'migrate.js');

async function dbMigrate(databaseUrl: string): Promise<string> {
  const { stdout } = await promisify(execFile)(process.execPath, [MIGRATE_JS], {
    env: { PATH: process.env.PATH, DATABASE_URL: databaseUrl, ENCRYPTION_KEY: TEST_ENCRYPTION_KEY },
  });
  return stdout;
}

const TABLES = [
  'api_keys',
  'api_throttle_counters',
  'deliveries',
  'delivery_attempts',
  'delivery_lanes',
  'endpoints',
  'idempotency_keys',
  'poller_heartbeats',
  'recoveries',
  'queue_observations',
  'subscriptions',
  'task_events',
  'tasks',
  'tenant_alerts',
  'tenants',
  'uxc_rate_buckets',
];

async function tablesOf(url: string): Promise<string[]> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ table_name: string }>(
      `SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1`,
    );
    return rows.map((row) => row.table_name);
  } finally {
    await client.end();
  }
}

describe('migrations', () => {
  it('create every table on an empty database, record themselves, and are a no-op the second time', async () => {
    const url = await createEmptyDatabase();
    const first = await applyMigrations(url);
    expect(first.length).toBeGreaterThan(0);
    expect(await tablesOf(url)).toEqual([...TABLES, '_prisma_migrations'].sort());

    const client = new Client({ connectionString: url });
    await client.connect();
    const recorded = await client.query(
      'SELECT migration_name, checksum, finished_at, applied_steps_count FROM _prisma_migrations ORDER BY migration_name',
    );
    await client.end();
    expect(recorded.rows.map((row) => row.migration_name)).toEqual(first);
    for (const row of recorded.rows) {
      expect(row.finished_at).not.toBeNull();
      expect(row.checksum).toMatch(/^[0-9a-f]{64}$/);
      expect(row.applied_steps_count).toBe(1);
    }

    expect(await applyMigrations(url)).toEqual([]);
  });

  it('are applied by npm run db:migrate, and a second run is a no-op', async () => {
    const url = await createEmptyDatabase();
    expect(await dbMigrate(url)).toMatch(/applied 20\d+_init/);
    expect(await tablesOf(url)).toEqual([...TABLES, '_prisma_migrations'].sort());
    expect(await dbMigrate(url)).toMatch(/up to date/);
  });

  it('describe the same database as prisma/schema.prisma', async () => {
    const fromMigrations = await createEmptyDatabase();
    await applyMigrations(fromMigrations);

    const fromSchema = await createEmptyDatabase();
    const sql = await diffSchemas(
      fromSchema,
      { kind: 'empty' },
      { kind: 'datamodel', content: readFileSync(SCHEMA_PATH, 'utf8') },
    );
    const client = new Client({ connectionString: fromSchema });
    await client.connect();
    await client.query(sql);
    await client.end();

    expect(await describeDatabase(fromMigrations)).toEqual(await describeDatabase(fromSchema));
  });

  it('refuse a state that is none of the enum values, on every state column', async () => {
    const url = await createEmptyDatabase();
    await applyMigrations(url);
    const client = new Client({ connectionString: url });
    await client.connect();
    try {
      for (const [table, column, type] of [
        ['tasks', 'state', 'task_state'],
        ['tasks', 'tracking', 'task_tracking'],
        ['task_events', 'state', 'task_state'],
        ['task_events', 'previous_state', 'task_state'],
        ['subscriptions', 'state', 'subscription_state'],
        ['deliveries', 'state', 'delivery_state'],
        ['endpoints', 'state', 'endpoint_state'],
        ['recoveries', 'state', 'recovery_state'],
        ['tenant_alerts', 'state', 'alert_state'],
      ]) {
        await expect(client.query(`UPDATE ${table} SET ${column} = 'bogus'`)).rejects.toThrow(
          `invalid input value for enum ${type}: "bogus"`,
        );
      }
    } finally {
      await client.end();
    }
  });
});
