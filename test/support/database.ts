import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { TEST_DATABASE_PREFIX, withDatabase } from './template-database';

/** `uxc_relay_test_<unix seconds>_<random>`: the age tells later runs when to drop it. */
function newDatabaseName(): string {
  return `${TEST_DATABASE_PREFIX}${Math.floor(Date.now() / 1000)}_${randomBytes(5).toString('hex')}`;
}

function adminUrl(): string {
  const url = process.env.TEST_ADMIN_DATABASE_URL;
  if (!url) throw new Error('TEST_ADMIN_DATABASE_URL is unset: run the tests through jest');
  return url;
}

/** A fresh database, copied from the migrated template. Returns its URL. */
export async function createTestDatabase(): Promise<string> {
  const name = newDatabaseName();
  const admin = new Client({ connectionString: adminUrl() });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE "${name}" TEMPLATE "${process.env.TEST_TEMPLATE_DATABASE}"`);
  } finally {
    await admin.end();
  }
  return withDatabase(adminUrl(), name);
}

/** An empty database, for tests of the migrations themselves. */
export async function createEmptyDatabase(): Promise<string> {
  const name = newDatabaseName();
  const admin = new Client({ connectionString: adminUrl() });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE "${name}"`);
  } finally {
    await admin.end();
  }
  return withDatabase(adminUrl(), name);
}
