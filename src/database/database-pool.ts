import { Injectable, OnApplicationShutdown } from '@nestjs/common';
import { Pool } from 'pg';
import { DatabaseConnection } from './database-connection';

/**
 * No wait for a client is unbounded. Without it, a pool whose 20 clients are
 * all held (by transactions that wait for a second client, or by clients
 * orphaned when a database restart broke them mid-work) makes every later
 * `connect()` wait forever: the relay stays up but never answers
 * `/health/ready` with 200 again, and no loop makes progress. With it, the
 * waiter fails, its transaction rolls back and gives its client back, and the
 * loops retry on their next tick. Generous, so a loaded machine is not an error.
 */
export const POOL_CONNECT_TIMEOUT_MS = 10_000;

/**
 * The server ends a transaction left idle this long: row locks held by work
 * that stopped midway (its process stuck, its connection half-open) would
 * otherwise block every loop that touches those rows. No transaction of the
 * relay waits on anything but its own statements, so 60 s is never reached
 * by work that is alive.
 */
const IDLE_IN_TRANSACTION_MS = 60_000;

/** TCP keepalive: a connection whose server vanished without a FIN is noticed. */
export const KEEPALIVE_INITIAL_DELAY_MS = 10_000;

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
      options: `-c jit=off -c idle_in_transaction_session_timeout=${IDLE_IN_TRANSACTION_MS}`,
      connectionTimeoutMillis: POOL_CONNECT_TIMEOUT_MS,
      keepAlive: true,
      keepAliveInitialDelayMillis: KEEPALIVE_INITIAL_DELAY_MS,
    });
    // an idle client's error (server restart, terminated backend) must not
    // crash the process: the pool drops the client and opens a new one
    this.pool.on('error', () => undefined);
  }

  async onApplicationShutdown(): Promise<void> {
    await this.pool.end().catch(() => undefined);
  }
}
