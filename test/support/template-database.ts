import { createHash } from 'node:crypto';
import { Client } from 'pg';
import { applyMigrations, readMigrations } from '../../src/database/migrator';

export const TEST_DATABASE_PREFIX = 'uxc_relay_test_';
const TEMPLATE_PREFIX = 'uxc_relay_template_';

export function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}

async function databasesLike(admin: Client, prefix: string): Promise<string[]> {
  const { rows } = await admin.query<{ datname: string }>(
    'SELECT datname FROM pg_database WHERE datname LIKE $1',
    [`${prefix}%`],
  );
  return rows.map((row) => row.datname);
}

/**
 * Builds (once per migration set) a template database from the migrations;
 * every test file then copies it, which is how each file gets a fresh,
 * migrated database in milliseconds. Test databases are kept for an hour for
 * inspection (a failed test's data is still there), then dropped by a later run.
 */
export async function prepareTemplate(adminUrl: string): Promise<string> {
  const migrations = readMigrations();
  const digest = createHash('sha256');
  for (const dir of migrations.migrationDirectories) {
    digest.update(dir.path);
    if (dir.migrationFile.content.tag === 'ok') digest.update(dir.migrationFile.content.value);
  }
  const template = TEMPLATE_PREFIX + digest.digest('hex').slice(0, 12);

  const admin = new Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    // an hour old at least: another run on the same server may still be using younger ones
    const cutoff = Math.floor(Date.now() / 1000) - 3600;
    for (const name of await databasesLike(admin, TEST_DATABASE_PREFIX)) {
      const created = Number(/_(\d{10})_/.exec(name)?.[1] ?? 0);
      if (created < cutoff) await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    }
    const existing = await databasesLike(admin, TEMPLATE_PREFIX);
    for (const name of existing.filter((name) => name !== template)) {
      await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    }
    if (!existing.includes(template)) {
      const building = `${template}_building`;
      await admin.query(`DROP DATABASE IF EXISTS "${building}" WITH (FORCE)`);
      await admin.query(`CREATE DATABASE "${building}"`);
      await applyMigrations(withDatabase(adminUrl, building));
      await admin.query(`ALTER DATABASE "${building}" RENAME TO "${template}"`);
    }
  } finally {
    await admin.end();
  }
  return template;
}
