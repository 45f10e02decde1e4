import { ConfigService } from '../config/config.service';
import { EmbeddedDatabase, startEmbeddedPostgres } from './embedded-postgres';

export interface ResolvedDatabase {
  url: string;
  /** The server the relay started itself under `DATA_DIR`; whoever resolved it stops it. */
  embedded: EmbeddedDatabase | undefined;
}

/** What `resolveDatabase` says it is doing; Nest's `Logger` fits. */
export interface DatabaseLog {
  log(message: string): void;
  /** the embedded server's own output */
  debug?(message: string): void;
}

/**
 * `DATABASE_URL`, or, when it is unset, the embedded PostgreSQL under
 * `DATA_DIR`: one choice for the relay and the database commands, so both
 * always work on the same database.
 */
export async function resolveDatabase(
  config: ConfigService,
  log: DatabaseLog,
): Promise<ResolvedDatabase> {
  const url = config.env.databaseUrl;
  if (url !== undefined) return { url, embedded: undefined };
  log.log(`DATABASE_URL is not set: starting embedded PostgreSQL under ${config.env.dataDir}`);
  const embedded = await startEmbeddedPostgres({
    dataDir: config.env.dataDir,
    persistent: true,
    log: (line) => log.debug?.(line),
  });
  log.log(`Embedded PostgreSQL is running (data in ${embedded.dataDir})`);
  return { url: embedded.url, embedded };
}
