import { Injectable, OnApplicationShutdown } from '@nestjs/common';
import { Client, ClientConfig, Pool } from 'pg';
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
 * relay waits that long between its own statements (Prisma ends its
 * interactive transactions after 5 s), so only stuck work is ended.
 */
const IDLE_IN_TRANSACTION_MS = 60_000;

/** TCP keepalive: a connection whose server vanished without a FIN is noticed. */
export const KEEPALIVE_INITIAL_DELAY_MS = 10_000;

/**
 * A pool client that never throws an 'error' event. pg emits 'error' on a
 * client whose server ended the connection (a terminated backend, a server
 * stopping) when no query of its own is running; pg-pool listens only while
 * the client is idle in the pool, so a client checked out between two
 * statements, or whose query already settled, had no listener, and the
 * emit threw from inside pg's socket handler: the relay died of an uncaught
 * exception during a database outage, and with the throw in the middle of
 * pg's bookkeeping the pool kept the dead client's slot. The error itself is
 * not lost: the statement that needs the connection fails with it, and the
 * pool drops a client that is no longer queryable when it is released.
 */
class PoolClient extends Client {
  constructor(config?: ClientConfig) {
    super(config);
    this.on('error', () => undefined);
  }
}

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
      Client: PoolClient,
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
