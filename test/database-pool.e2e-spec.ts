import { Client } from 'pg';
import { DatabaseConnection } from '../src/database/database-connection';
import { DatabasePool } from '../src/database/database-pool';
import { createTestDatabase } from './support/database';
import { waitFor } from './support/wait';

/**
 * What a database outage does to a connection the relay holds: PostgreSQL
 * ends it (pg_terminate_backend here, a server stopping in production) while
 * the relay has it checked out between two statements.
 */
describe('the pg pool when the server ends a connection', () => {
  let url: string;
  let database: DatabasePool;
  let admin: Client;

  beforeAll(async () => {
    url = await createTestDatabase();
    database = new DatabasePool({ url } as DatabaseConnection);
    admin = new Client({ connectionString: url });
    await admin.connect();
  });

  afterAll(async () => {
    await admin.end();
    await database.onApplicationShutdown();
  });

  it('survives a connection ended while checked out, and serves the next statement', async () => {
    const client = await database.pool.connect();
    const {
      rows: [{ pid }],
    } = await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
    let ended = false;
    client.once('end', () => (ended = true));
    // no statement of the client runs: before the fix, pg's 'error' event had
    // no listener and threw from its socket handler, killing the process
    await admin.query('SELECT pg_terminate_backend($1)', [pid]);
    await waitFor('the terminated connection to end', () => ended);
    await expect(client.query('SELECT 1')).rejects.toThrow();
    client.release();

    const { rows } = await database.pool.query<{ one: number }>('SELECT 1 AS one');
    expect(rows).toEqual([{ one: 1 }]);
    expect(database.pool.totalCount).toBe(1);
  });
});
