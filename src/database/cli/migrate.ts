import { applyMigrations } from '../migrator';
import { runDatabaseCommand } from './database-cli';

void runDatabaseCommand('db:migrate', async (url) => {
  const applied = await applyMigrations(url);
  process.stdout.write(
    applied.length === 0
      ? 'db:migrate: the database is up to date\n'
      : `db:migrate: applied ${applied.join(', ')}\n`,
  );
});
