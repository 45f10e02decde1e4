import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TEST_ENCRYPTION_KEY } from './support/app';
import { createTestDatabase } from './support/database';
import { freePort } from '../src/database/embedded-postgres';
import { spawnRelay, waitForOk } from './support/relay-process';
import { waitFor } from './support/wait';

const SID = 'BT|restart-1';
const LOCAL = (dataDir: string) => ({
  DATA_DIR: dataDir,
  DISPATCHER_ENABLED: 'false',
  CALLBACK_ALLOW_PRIVATE_NETWORKS: 'true',
});

async function subscribe(url: string, apiKey: string): Promise<void> {
  const answer = await fetch(`${url}/v1/subscriptions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ sid: SID, callbackUrl: 'http://127.0.0.1:9/hook' }),
  });
  expect(answer.status).toBe(201);
}

async function waitForState(
  url: string,
  apiKey: string,
  state: string,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let seen: unknown;
  while (Date.now() < deadline) {
    const answer = await fetch(`${url}/v1/tasks/${encodeURIComponent(SID)}`, {
      headers: { authorization: `Bearer ${apiKey}` },
    });
    seen = ((await answer.json()) as { state?: unknown }).state;
    if (seen === state) return;
    await new Promise((done) => setTimeout(done, 250));
  }
  throw new Error(
    `${SID} did not become ${state} within ${timeoutMs} ms (last seen: ${String(seen)})`,
  );
}

describe('starting the relay as a process', () => {
  it.each([
    [{ PORT: 'abc' }, 'PORT'],
    [{ POLL_INTERVAL_MS: '-1' }, 'POLL_INTERVAL_MS'],
    [{ UXC_STATUS_MAP: '1:finished' }, 'UXC_STATUS_MAP'],
    [{ DATABASE_URL: 'postgresql://127.0.0.1:1/none', UXC_BASE_URL: 'http://x' }, 'ENCRYPTION_KEY'],
    // production must never poll the simulator with real credentials
    [
      { DATABASE_URL: 'postgresql://127.0.0.1:1/none', ENCRYPTION_KEY: TEST_ENCRYPTION_KEY },
      'UXC_BASE_URL is required when DATABASE_URL is set',
    ],
    [{ DATA_DIR: '/proc/nope' }, '/proc/nope cannot be created'],
  ])('stops at once on %j, naming %s', async (env, name) => {
    const relay = await spawnRelay({ DATA_DIR: join(tmpdir(), 'uxc-relay-never-used'), ...env });
    expect(await relay.exited).toBe(1);
    expect(relay.output()).toContain(name);
    expect(relay.output()).toMatch(/Invalid configuration/);
  });

  it('with PORT taken, stops at once naming the port, before any PostgreSQL is started', async () => {
    const taken = createServer();
    await new Promise<void>((done) => taken.listen(0, () => done()));
    const port = (taken.address() as AddressInfo).port;
    const dataDir = mkdtempSync(join(tmpdir(), 'uxc-relay-port-'));
    try {
      const relay = await spawnRelay({ DATA_DIR: dataDir, PORT: String(port) });
      expect(await relay.exited).toBe(1);
      expect(relay.output()).toContain(`PORT ${port} is already in use by another process`);
      // no cluster, no server, and no curl hint pointing at the other process
      expect(existsSync(join(dataDir, 'postgres', 'postmaster.pid'))).toBe(false);
      expect(relay.output()).not.toContain('curl');
      expect(relay.output()).not.toContain('listening');
    } finally {
      taken.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('with PORT taken while it starts, stops the embedded PostgreSQL it started before exiting', async () => {
    const port = await freePort();
    const dataDir = mkdtempSync(join(tmpdir(), 'uxc-relay-port-'));
    const taken = createServer();
    try {
      const relay = await spawnRelay({ DATA_DIR: dataDir, PORT: String(port) });
      // the port was free when it checked; it is taken while PostgreSQL starts
      await waitFor('the embedded PostgreSQL start', () =>
        relay.output().includes('starting embedded PostgreSQL'),
      );
      await new Promise<void>((done) => taken.listen(port, () => done()));
      expect(await relay.exited).toBe(1);
      expect(relay.output()).toContain(`PORT ${port} is already in use by another process`);
      expect(relay.output()).toContain('Embedded PostgreSQL stopped');
      expect(existsSync(join(dataDir, 'postgres', 'postmaster.pid'))).toBe(false);
      expect(relay.output()).not.toContain('curl');
    } finally {
      taken.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 60_000);

  it('with UXC_SIMULATOR=true, serves on DATABASE_URL against the simulator and says so', async () => {
    const relay = await spawnRelay({
      DATABASE_URL: await createTestDatabase(),
      ENCRYPTION_KEY: TEST_ENCRYPTION_KEY,
      UXC_SIMULATOR: 'true',
      POLL_INTERVAL: '1000',
    });
    try {
      await waitForOk(`${relay.url}/health/ready`, 30_000, relay);
      const lines = relay
        .output()
        .split('\n')
        .filter((line) => line.startsWith('{'));
      const messages = lines.map((line) => JSON.parse(line) as { level: string; msg: string });
      expect(messages).toContainEqual(
        expect.objectContaining({
          level: 'warn',
          msg: expect.stringMatching(/^UXC_SIMULATOR=true: polling the built-in UXC simulator at/),
        }),
      );
      expect(messages).toContainEqual(
        expect.objectContaining({
          level: 'warn',
          msg: 'POLL_INTERVAL is not a uxc-relay variable and is ignored: did you mean POLL_INTERVAL_MS?',
        }),
      );
      expect(messages).toContainEqual(
        expect.objectContaining({
          level: 'warn',
          msg: expect.stringMatching(/nobody can use this relay/),
        }),
      );
      // JSON with ISO times, and Nest's start-up chatter kept below info
      for (const line of lines) expect(line).toMatch(/"time":"\d{4}-\d\d-\d\dT[\d:.]+Z"/);
      expect(relay.output()).not.toMatch(/RouterExplorer|RoutesResolver|InstanceLoader/);
    } finally {
      relay.child.kill('SIGTERM');
    }
    expect(await relay.exited).toBe('SIGTERM');
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

  it('runs on its own embedded PostgreSQL, and a second start reuses the data and carries tasks on', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'uxc-relay-local-'));
    let apiKey = '';
    try {
      const first = await spawnRelay(LOCAL(dataDir));
      try {
        await waitForOk(`${first.url}/health/ready`, 60_000, first);
        expect(first.output()).toMatch(/embedded PostgreSQL/i);
        expect(first.output()).toMatch(/simulator/i);
        apiKey = readFileSync(join(dataDir, 'default-api-key'), 'utf8').trim();
        expect(first.output()).toContain(`try: curl -H "Authorization: Bearer ${apiKey}"`);
        await subscribe(first.url, apiKey);
        // the simulator's default lifecycle: about 8 s queued, then 22 s running
        await waitForState(first.url, apiKey, 'running', 20_000);

        // a second relay on the same DATA_DIR refuses, and leaves the first one serving
        const intruder = await spawnRelay(LOCAL(dataDir));
        expect(await intruder.exited).toBe(1);
        expect(intruder.output()).toMatch(/in use by another uxc-relay process/);
        await waitForOk(`${first.url}/health/ready`, 5_000, first);
      } finally {
        first.child.kill('SIGINT');
      }
      await first.exited;
      expect(first.output()).toMatch(/Embedded PostgreSQL stopped/);
      const key = readFileSync(join(dataDir, 'encryption.key'), 'utf8');

      const second = await spawnRelay(LOCAL(dataDir));
      try {
        await waitForOk(`${second.url}/health/ready`, 60_000, second);
        // the cluster was reused: nothing was migrated the second time
        expect(second.output()).not.toMatch(/Applied migrations/);
        expect(readFileSync(join(dataDir, 'encryption.key'), 'utf8')).toBe(key);
        // the simulator kept its lifecycles: the task carries on and never goes back to queued
        await waitForState(second.url, apiKey, 'succeeded', 40_000);
        const events = await fetch(`${second.url}/v1/tasks/${encodeURIComponent(SID)}/events`, {
          headers: { authorization: `Bearer ${apiKey}` },
        });
        const states = ((await events.json()) as { items: { state: string | null }[] }).items
          .map((event) => event.state)
          .filter((state, i, all) => state !== null && state !== all[i - 1]);
        expect(states).toEqual(['queued', 'running', 'succeeded']);
      } finally {
        second.child.kill('SIGTERM');
      }
      await second.exited;
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 150_000);
});
