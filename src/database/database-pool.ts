import { Injectable, OnApplicationShutdown } from '@nestjs/common';
import { Pool } from 'pg';
import { DatabaseConnection } from './database-connection';

/**
 * The one pg pool of the process. Prisma's adapter runs on it, and so do the
 * hot statements that cost more in Prisma's runtime than in PostgreSQL.
 * Closed last, after every module's shutdown work has used it.
 */
@Injectable()
export class DatabasePool implements OnApplicationShutdown {
  readonly pool: Pool;

  constructor(connection: DatabaseConnection) {
    this.pool = new Pool({
      connectionString: connection.url,
      max: 20,
      // JIT pays off for analytics, not for statements of a few milliseconds:
      // on a table that grew in a burst and has no statistics yet, the
      // planner's estimates made it compile a 10 ms statement for a second
      options: '-c jit=off',
    });
    // an idle client's error (server restart, terminated backend) must not
    // crash the process: the pool drops the client and opens a new one
    this.pool.on('error', () => undefined);
  }

  async onApplicationShutdown(): Promise<void> {
    await this.pool.end().catch(() => undefined);
  }
}
