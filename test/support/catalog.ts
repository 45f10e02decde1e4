import { Client } from 'pg';

/**
 * What a database looks like, as PostgreSQL describes it: tables and columns
 * with types, nullability and defaults, indexes and constraints.
 */
export async function describeDatabase(url: string): Promise<Record<string, string[]>> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    const columns = await client.query(`
      SELECT table_name || '.' || column_name || ' ' || data_type || ' ' || udt_name || ' ' ||
             is_nullable || ' ' || coalesce(column_default, '-') AS line
      FROM information_schema.columns
      WHERE table_schema = 'public' AND table_name <> '_prisma_migrations'`);
    const indexes = await client.query(`
      SELECT indexdef AS line FROM pg_indexes
      WHERE schemaname = 'public' AND tablename <> '_prisma_migrations'`);
    const constraints = await client.query(`
      SELECT c.conrelid::regclass::text || ' ' || c.conname || ' ' || pg_get_constraintdef(c.oid) AS line
      FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace
      WHERE n.nspname = 'public' AND c.conrelid::regclass::text <> '_prisma_migrations'`);
    const sort = (rows: { line: string }[]) => rows.map((row) => row.line).sort();
    return {
      columns: sort(columns.rows),
      indexes: sort(indexes.rows),
      constraints: sort(constraints.rows),
    };
  } finally {
    await client.end();
  }
}
