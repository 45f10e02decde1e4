import { Client } from 'pg';
import { applyMigrations } from '../migrator';
import { runDatabaseCommand } from './database-cli';

/** Drops everything in the public schema and applies the migrations again. */
void runDatabaseCommand('db:reset', async (url) => {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    await client.query('DROP SCHEMA public CASCADE; CREATE SCHEMA public;');
  } finally {
    await client.end();
  }
  const applied = await applyMigrations(url);
  process.stdout.write(`db:reset: applied ${applied.join(', ')}\n`);
});
