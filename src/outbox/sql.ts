import type { Pool, PoolClient } from 'pg';
import type { Prisma } from '../generated/prisma/client';

/**
 * One SQL statement: its text with `$n` placeholders, its values, and a name
 * under which the pool prepares it once per connection (the dispatcher's
 * statements were re-planned on every call before, which was most of their time).
 */
export interface Statement {
  name: string;
  text: string;
  values: unknown[];
}

/** Where a statement runs: the shared pool, one pool client (its open transaction), or an open Prisma transaction. */
export interface SqlRunner {
  rows<T>(statement: Statement): Promise<T[]>;
}

/**
 * Runs on the pool, or on one checked-out client so that the statements share
 * the transaction open on it.
 */
export function pgRunner(db: Pool | PoolClient): SqlRunner {
  return {
    async rows<T>(statement: Statement): Promise<T[]> {
      const result = await db.query({
        name: statement.name,
        text: statement.text,
        values: statement.values,
      });
      return result.rows as T[];
    },
  };
}

/**
 * Runs `work` in one transaction on one client of the pool, its statements
 * on that client. A ROLLBACK that fails means the connection is gone: the
 * pool drops the client instead of handing it out again.
 */
export async function inPgTransaction<T>(
  pool: Pool,
  work: (sql: SqlRunner) => Promise<T>,
): Promise<T> {
  const client = await pool.connect();
  let broken: Error | undefined;
  try {
    await client.query('BEGIN');
    const result = await work(pgRunner(client));
    await client.query('COMMIT');
    return result;
  } catch (error) {
    await client.query('ROLLBACK').catch((rollbackError: Error) => (broken = rollbackError));
    throw error;
  } finally {
    client.release(broken);
  }
}

export function txRunner(tx: Prisma.TransactionClient): SqlRunner {
  return {
    rows<T>(statement: Statement): Promise<T[]> {
      return tx.$queryRawUnsafe<T[]>(statement.text, ...statement.values);
    },
  };
}
