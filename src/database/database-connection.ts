import { Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { ConfigService } from '../config/config.service';
import { EmbeddedDatabase } from './embedded-postgres';
import { applyMigrations } from './migrator';
import { resolveDatabase } from './resolve-database';

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
    const { url, embedded } = await resolveDatabase(config, this.logger);
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
