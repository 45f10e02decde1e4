import type { ChaosDatabase } from './chaos-database';

/**
 * Tables whose rows change on any request, valid or not, by design: the API
 * rate-limit counters and the idempotency keys count calls, the heartbeats
 * and UXC rate buckets are background bookkeeping.
 */
const BOOKKEEPING = /throttle|idempot|heartbeat|rate_bucket|_prisma_migrations|schema_migrations/;

/**
 * Columns that record a call rather than change data: a key that
 * authenticated a request it then refused was still used.
 */
const BOOKKEEPING_COLUMNS: Record<string, string[]> = { api_keys: ['last_used_at'] };

function rowText(table: string): string {
  const columns = BOOKKEEPING_COLUMNS[table] ?? [];
  return columns.length === 0
    ? 't::text'
    : `(to_jsonb(t) ${columns.map((column) => `- '${column}'`).join(' ')})::text`;
}

/** One md5 per table over every row's text, in a stable order. */
export async function tableDigests(database: ChaosDatabase): Promise<Map<string, string>> {
  const tables = (
    await database.query<{ name: string }>(
      `SELECT tablename AS name FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename`,
    )
  )
    .map((row) => row.name)
    .filter((name) => !BOOKKEEPING.test(name));
  const sql = tables
    .map(
      (name) =>
        `SELECT '${name}' AS name, md5(coalesce(string_agg(${rowText(name)}, '|' ORDER BY ${rowText(name)}), '')) AS digest FROM "${name}" t`,
    )
    .join(' UNION ALL ');
  const rows = await database.query<{ name: string; digest: string }>(sql);
  return new Map(rows.map((row) => [row.name, row.digest]));
}

/** Names of the tables whose digest differs. */
export function changedTables(before: Map<string, string>, after: Map<string, string>): string[] {
  return [...after.keys()].filter((name) => before.get(name) !== after.get(name));
}
