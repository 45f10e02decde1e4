import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TEST_ENCRYPTION_KEY } from './support/app';
import { createTestDatabase } from './support/database';
import { spawnRelay, waitForOk } from './support/relay-process';

describe('starting the relay as a process', () => {
  it.each([
    [{ PORT: 'abc' }, 'PORT'],
    [{ POLL_INTERVAL_MS: '-1' }, 'POLL_INTERVAL_MS'],
    [{ UXC_STATUS_MAP: '1:finished' }, 'UXC_STATUS_MAP'],
    [{ DATABASE_URL: 'postgresql://127.0.0.1:1/none' }, 'ENCRYPTION_KEY'],
  ])('stops at once on %j, naming %s', async (env, name) => {
    const relay = await spawnRelay({ DATA_DIR: join(tmpdir(), 'uxc-relay-never-used'), ...env });
    expect(await relay.exited).toBe(1);
    expect(relay.output()).toContain(name);
    expect(relay.output()).toMatch(/Invalid configuration/);
  });

  it('fails loudly when the database cannot be reached', async () => {
    const relay = await spawnRelay({
      DATABASE_URL: 'postgresql://postgres@127.0.0.1:1/nothing',
      ENCRYPTION_KEY: TEST_ENCRYPTION_KEY,
      UXC_BASE_URL: 'http://127.0.0.1:9',
    });
    expect(await relay.exited).toBe(1);
    expect(relay.output()).toMatch(/failed to start/);
  });

  it('serves on DATABASE_URL, applies migrations, and stops cleanly on SIGTERM', async () => {
    const relay = await spawnRelay({
      DATABASE_URL: await createTestDatabase(),
      ENCRYPTION_KEY: TEST_ENCRYPTION_KEY,
      UXC_BASE_URL: 'http://127.0.0.1:9',
      POLLER_ENABLED: 'false',
    });
    try {
      await waitForOk(`${relay.url}/health/ready`, 30_000, relay);
    } finally {
      relay.child.kill('SIGTERM');
    }
    expect(await relay.exited).toBe('SIGTERM');
  });

  it('runs on its own embedded PostgreSQL, and a second start reuses the data', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'uxc-relay-local-'));
    try {
      const first = await spawnRelay({ DATA_DIR: dataDir });
      try {
        await waitForOk(`${first.url}/health/ready`, 60_000, first);
        expect(first.output()).toMatch(/embedded PostgreSQL/i);
        expect(first.output()).toMatch(/simulator/i);

        // a second relay on the same DATA_DIR refuses, and leaves the first one serving
        const intruder = await spawnRelay({ DATA_DIR: dataDir });
        expect(await intruder.exited).toBe(1);
        expect(intruder.output()).toMatch(/in use by another uxc-relay process/);
        await waitForOk(`${first.url}/health/ready`, 5_000, first);
      } finally {
        first.child.kill('SIGINT');
      }
      await first.exited;
      expect(first.output()).toMatch(/Embedded PostgreSQL stopped/);
      const key = readFileSync(join(dataDir, 'encryption.key'), 'utf8');

      const second = await spawnRelay({ DATA_DIR: dataDir });
      try {
        await waitForOk(`${second.url}/health/ready`, 60_000, second);
        // the cluster was reused: nothing was migrated the second time
        expect(second.output()).not.toMatch(/Applied migrations/);
        expect(readFileSync(join(dataDir, 'encryption.key'), 'utf8')).toBe(key);
      } finally {
        second.child.kill('SIGTERM');
      }
      await second.exited;
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 150_000);
});
