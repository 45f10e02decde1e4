import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { Client } from 'pg';
import { createEmptyDatabase } from './support/database';

const CLI = join(__dirname, '..', 'dist', 'src', 'database', 'cli');

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** A database command as `npm run db:*` runs it, with only the environment given. */
function run(script: string, env: Record<string, string>, args: string[] = []): Promise<Run> {
  return new Promise((done) =>
    execFile(
      process.execPath,
      [join(CLI, script), ...args],
      { env: { PATH: process.env.PATH ?? '', ...env } },
      (error, stdout, stderr) =>
        done({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
    ),
  );
}

async function tableCount(url: string): Promise<number> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ count: string }>(
      `SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'`,
    );
    return Number(rows[0].count);
  } finally {
    await client.end();
  }
}

describe('the database commands', () => {
  it('db:migrate runs on DATABASE_URL without ENCRYPTION_KEY or UXC_BASE_URL, which it never reads', async () => {
    const url = await createEmptyDatabase();
    const migrate = await run('migrate.js', { DATABASE_URL: url });
    expect(migrate).toMatchObject({ code: 0, stderr: '' });
    expect(migrate.stdout).toMatch(/applied 20\d+_init/);
  });

  it('db:reset on DATABASE_URL names the host and database and refuses without --force', async () => {
    const url = await createEmptyDatabase();
    await run('migrate.js', { DATABASE_URL: url });
    const tables = await tableCount(url);
    expect(tables).toBeGreaterThan(0);
    const { host, pathname } = new URL(url);

    const refused = await run('reset.js', { DATABASE_URL: url });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`database "${pathname.slice(1)}" on ${host}`);
    expect(refused.stderr).toContain('--force');
    expect(refused.stderr).not.toContain(new URL(url).password || 'no password in the URL');
    expect(await tableCount(url)).toBe(tables);

    const forced = await run('reset.js', { DATABASE_URL: url }, ['--force']);
    expect(forced.code).toBe(0);
    expect(forced.stdout).toContain(`database "${pathname.slice(1)}" on ${host} reset`);
    expect(await tableCount(url)).toBe(tables);
  });
});
