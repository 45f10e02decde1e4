import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { diffSchemas, MIGRATIONS_DIR, readMigrations, SCHEMA_PATH } from '../migrator';
import { runDatabaseCommand } from './database-cli';

/**
 * `npm run db:migration <name>`: writes the SQL that takes the schema of the
 * last migration to the current `prisma/schema.prisma`. Each migration keeps
 * beside its SQL the schema it leads to, which is what the next one diffs from.
 */
const name = (process.argv[2] ?? '').trim();
if (!/^[a-z0-9_]+$/i.test(name)) {
  process.stderr.write('usage: npm run db:migration <name>   (letters, digits and _)\n');
  process.exit(2);
}

void runDatabaseCommand('db:migration', async (url) => {
  const directories = readMigrations().migrationDirectories.map((dir) => dir.path);
  const last = directories.at(-1);
  const previousPath = last ? join(MIGRATIONS_DIR, last, 'schema.prisma') : undefined;
  if (previousPath && !existsSync(previousPath)) {
    throw new Error(
      `${previousPath} is missing: it records the schema the last migration leads to`,
    );
  }
  const current = readFileSync(SCHEMA_PATH, 'utf8');
  const sql = await diffSchemas(
    url,
    previousPath
      ? { kind: 'datamodel', content: readFileSync(previousPath, 'utf8') }
      : { kind: 'empty' },
    { kind: 'datamodel', content: current },
  );
  if (!/\S/.test(sql.replace(/^--.*$/gm, ''))) {
    process.stdout.write('db:migration: schema.prisma has no change since the last migration\n');
    return;
  }
  const stamp = new Date().toISOString().replace(/\D/g, '').slice(0, 14);
  const dir = join(MIGRATIONS_DIR, `${stamp}_${name}`);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'migration.sql'), sql);
  writeFileSync(join(dir, 'schema.prisma'), current);
  process.stdout.write(`db:migration: wrote ${dir}/migration.sql\n`);
});
