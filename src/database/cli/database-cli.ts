import { existsSync } from 'node:fs';
import { config as loadDotEnv } from 'dotenv';
import { ConfigService } from '../../config/config.service';
import { EnvError } from '../../config/env';
import { EmbeddedDatabase } from '../embedded-postgres';
import { resolveDatabase } from '../resolve-database';

/**
 * Runs a database command against `DATABASE_URL`, or against the embedded
 * server under `DATA_DIR` when it is unset, the same database `npm start` uses.
 */
export async function runDatabaseCommand(
  name: string,
  command: (databaseUrl: string, target: { embedded: boolean }) => Promise<void>,
): Promise<never> {
  let embedded: EmbeddedDatabase | undefined;
  try {
    if (existsSync('.env')) loadDotEnv({ path: '.env', quiet: true });
    // migrations read neither the encryption key nor UXC
    const config = ConfigService.fromEnvironment(process.env, {
      requireEncryptionKey: false,
      requireUpstream: false,
    });
    const database = await resolveDatabase(config, {
      log: (message) => process.stdout.write(`${name}: ${message}\n`),
    });
    embedded = database.embedded;
    await command(database.url, { embedded: embedded !== undefined });
    await embedded?.stop();
    // the wasm schema engine keeps the event loop alive once it has run
    process.exit(0);
  } catch (error) {
    await embedded?.stop().catch(() => undefined);
    const message =
      error instanceof EnvError || error instanceof Error ? error.message : String(error);
    process.stderr.write(`${name} failed: ${message}\n`);
    process.exit(1);
  }
}
