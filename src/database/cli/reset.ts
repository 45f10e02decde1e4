import { Client } from 'pg';
import { applyMigrations } from '../migrator';
import { runDatabaseCommand } from './database-cli';

/** `host:port` and database of a connection string, never its password. */
function describeTarget(url: string): string {
  const parsed = new URL(url);
  const database = decodeURIComponent(parsed.pathname.replace(/^\//, '')) || '(default)';
  return `database "${database}" on ${parsed.host || 'localhost'}`;
}

/**
 * Drops everything in the public schema and applies the migrations again. On
 * DATABASE_URL it asks for `--force` first: that database may be someone's
 * production; the embedded one under DATA_DIR is the developer's own.
 */
void runDatabaseCommand('db:reset', async (url, { embedded }) => {
  const target = describeTarget(url);
  if (!embedded && !process.argv.includes('--force')) {
    throw new Error(
      `this drops every table of ${target} (DATABASE_URL). Run npm run db:reset -- --force to do it`,
    );
  }
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    await client.query('DROP SCHEMA public CASCADE; CREATE SCHEMA public;');
  } finally {
    await client.end();
  }
  const applied = await applyMigrations(url);
  process.stdout.write(
    `db:reset: ${embedded ? 'the embedded database' : target} reset; applied ${applied.join(', ')}\n`,
  );
});
