import { Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { ConfigService } from '../config/config.service';
import { EmbeddedDatabase, startEmbeddedPostgres } from './embedded-postgres';
import { applyMigrations } from './migrator';

/**
 * Where the relay's data lives: `DATABASE_URL`, or a PostgreSQL server the
 * relay starts itself under `DATA_DIR`. Pending migrations are applied before
 * anything else touches the database.
 */
@Injectable()
export class DatabaseConnection implements OnApplicationShutdown {
  private static readonly logger = new Logger('Database');

  private constructor(
    readonly url: string,
    private readonly embedded: EmbeddedDatabase | undefined,
  ) {}

  static async open(config: ConfigService): Promise<DatabaseConnection> {
    let embedded: EmbeddedDatabase | undefined;
    let url = config.env.databaseUrl;
    if (url === undefined) {
      this.logger.log(
        `DATABASE_URL is not set: starting embedded PostgreSQL under ${config.env.dataDir}`,
      );
      embedded = await startEmbeddedPostgres({
        dataDir: config.env.dataDir,
        persistent: true,
        log: (line) => this.logger.debug(line),
      });
      this.logger.log(`Embedded PostgreSQL is running (data in ${embedded.dataDir})`);
      url = embedded.url;
    }
    try {
      const applied = await applyMigrations(url);
      if (applied.length > 0) this.logger.log(`Applied migrations: ${applied.join(', ')}`);
    } catch (error) {
      await embedded?.stop();
      throw error;
    }
    return new DatabaseConnection(url, embedded);
  }

  async onApplicationShutdown(): Promise<void> {
    if (this.embedded) {
      await this.embedded.stop();
      DatabaseConnection.logger.log('Embedded PostgreSQL stopped');
    }
  }
}
