import type { Client } from 'pg';

export interface DbTime {
  /** ms the database's backends spent executing statements (pg_stat_database.active_time, PostgreSQL 14+) */
  activeMs: number;
  transactions: number;
  blocksRead: number;
  blocksHit: number;
}

/** What this database has cost so far, from the statistics collector. */
export async function dbTime(client: Client): Promise<DbTime> {
  // backends report their counters when idle or every second: a short pause lets the last ones in
  const { rows } = await client.query<{
    active: string | null;
    xacts: string;
    read: string;
    hit: string;
  }>(
    `SELECT active_time AS active, xact_commit + xact_rollback AS xacts, blks_read AS read, blks_hit AS hit
     FROM pg_stat_database WHERE datname = current_database()`,
  );
  const row = rows[0];
  return {
    activeMs: Number(row.active ?? 0),
    transactions: Number(row.xacts),
    blocksRead: Number(row.read),
    blocksHit: Number(row.hit),
  };
}

export function dbTimeDelta(before: DbTime, after: DbTime): DbTime {
  return {
    activeMs: Math.round(after.activeMs - before.activeMs),
    transactions: after.transactions - before.transactions,
    blocksRead: after.blocksRead - before.blocksRead,
    blocksHit: after.blocksHit - before.blocksHit,
  };
}

export interface TopStatement {
  query: string;
  calls: number;
  totalMs: number;
  meanMs: number;
}

/**
 * The costliest statements of this database when pg_stat_statements can be
 * used (it must be in shared_preload_libraries), else null.
 */
export async function topStatements(client: Client, limit = 8): Promise<TopStatement[] | null> {
  try {
    await client.query('CREATE EXTENSION IF NOT EXISTS pg_stat_statements');
    const { rows } = await client.query<{
      query: string;
      calls: string;
      total: number;
      mean: number;
    }>(
      `SELECT query, calls, total_exec_time + total_plan_time AS total, mean_exec_time AS mean
       FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid
       WHERE d.datname = current_database()
       ORDER BY total DESC LIMIT $1`,
      [limit],
    );
    return rows.map((row) => ({
      query: row.query.replace(/\s+/g, ' ').slice(0, 300),
      calls: Number(row.calls),
      totalMs: Math.round(row.total),
      meanMs: Math.round(row.mean * 100) / 100,
    }));
  } catch {
    return null;
  }
}

/** Resets pg_stat_statements' counters (when loaded), so a window counts only itself. */
export async function resetStatements(client: Client): Promise<void> {
  try {
    await client.query('SELECT pg_stat_statements_reset()');
  } catch {
    // not loaded: topStatements answers null
  }
}
