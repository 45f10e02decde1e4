import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { projectRoot } from '../common/project-root';
import type { MigrationList, SchemaEngine } from '@prisma/schema-engine-wasm';
import { engineError, openSchemaEngine } from './schema-engine';

export const MIGRATIONS_DIR = join(projectRoot(), 'prisma', 'migrations');
export const SCHEMA_PATH = join(projectRoot(), 'prisma', 'schema.prisma');

const NO_FILTERS = { externalTables: [], externalEnums: [] };

async function withEngine<T>(
  databaseUrl: string,
  work: (engine: SchemaEngine) => Promise<T>,
): Promise<T> {
  const handle = await openSchemaEngine(databaseUrl);
  try {
    return await work(handle.engine);
  } catch (error) {
    throw engineError(error);
  } finally {
    await handle.close();
  }
}

/** Reads `prisma/migrations` the way `prisma migrate deploy` does. */
export function readMigrations(baseDir: string = MIGRATIONS_DIR): MigrationList {
  const lockPath = join(baseDir, 'migration_lock.toml');
  const directories = existsSync(baseDir)
    ? readdirSync(baseDir, { withFileTypes: true })
        .filter((entry) => entry.isDirectory())
        .map((entry) => entry.name)
        .sort()
    : [];
  return {
    baseDir,
    lockfile: {
      path: 'migration_lock.toml',
      content: existsSync(lockPath) ? readFileSync(lockPath, 'utf8') : null,
    },
    shadowDbInitScript: '',
    migrationDirectories: directories.map((name) => {
      const file = join(baseDir, name, 'migration.sql');
      let content: { tag: 'ok'; value: string } | { tag: 'error'; value: string };
      try {
        content = { tag: 'ok', value: readFileSync(file, 'utf8') };
      } catch (error) {
        content = { tag: 'error', value: (error as Error).message };
      }
      return { path: name, migrationFile: { path: 'migration.sql', content } };
    }),
  } as MigrationList;
}

/**
 * Applies pending migrations and records them in `_prisma_migrations`, exactly
 * as `prisma migrate deploy` would. Returns the names it applied.
 */
export async function applyMigrations(
  databaseUrl: string,
  baseDir: string = MIGRATIONS_DIR,
): Promise<string[]> {
  const result = await withEngine(databaseUrl, (engine) =>
    engine.applyMigrations({ migrationsList: readMigrations(baseDir), filters: NO_FILTERS }),
  );
  return result.appliedMigrationNames;
}

type DiffSide = { kind: 'empty' } | { kind: 'datamodel'; content: string };

/** The SQL that takes a database described by `from` to one described by `to`. */
export async function diffSchemas(
  databaseUrl: string,
  from: DiffSide,
  to: DiffSide,
): Promise<string> {
  const target = (side: DiffSide) =>
    side.kind === 'empty'
      ? { tag: 'empty' as const }
      : {
          tag: 'schemaDatamodel' as const,
          files: [{ path: 'schema.prisma', content: side.content }],
        };
  const result = await withEngine(databaseUrl, (engine) =>
    engine.diff({
      from: target(from),
      to: target(to),
      script: true,
      exitCode: null,
      filters: NO_FILTERS,
    }),
  );
  return result.stdout ?? '';
}
