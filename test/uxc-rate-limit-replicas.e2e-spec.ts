import { LOOKAHEAD_MS } from '../src/uxc/rate-limiter';
import { TEST_ENCRYPTION_KEY, TestApp, createTestApp } from './support/app';
import { createTestDatabase } from './support/database';
import { TenantFixture, createSubscription, createTenant } from './support/factories';
import { RelayProcess, spawnRelay, waitForOk } from './support/relay-process';
import { StandaloneSimulator, spawnSimulator } from './support/standalone-simulator';
import { waitFor } from './support/wait';

const RATE = 5;
const TASKS = 200;
const PROCESSES = 3;

/** Largest number of calls inside any window of `windowMs`. */
function busiestWindow(times: number[], windowMs: number): number {
  const sorted = [...times].sort((a, b) => a - b);
  let best = 0;
  for (let i = 0, j = 0; i < sorted.length; i++) {
    while (sorted[i] - sorted[j] >= windowMs) j++;
    best = Math.max(best, i - j + 1);
  }
  return best;
}

/** Sum of `uxc_relay_poller_polls_total` over every outcome, from a relay's /metrics. */
async function pollsOf(relay: RelayProcess): Promise<number> {
  const text = await (await fetch(`${relay.url}/metrics`)).text();
  return text
    .split('\n')
    .filter((line) => line.startsWith('uxc_relay_poller_polls_total{'))
    .reduce((sum, line) => sum + Number(line.split(' ').pop()), 0);
}

describe(`UXC_RATE_LIMIT across ${PROCESSES} relay processes on one database`, () => {
  let sim: StandaloneSimulator;
  let api: TestApp;
  let tenant: TenantFixture;
  const relays: RelayProcess[] = [];

  const callTimes = async (from = 0): Promise<number[]> =>
    (await sim.calls())
      .filter((call) => call.ak === tenant.uxcAk && call.at >= from)
      .map((call) => call.at);

  beforeAll(async () => {
    const databaseUrl = await createTestDatabase();
    // a process of its own, so that its arrival times are not those of a busy test process
    sim = await spawnSimulator();
    // the API side only: sets up the tenant and the subscriptions, never polls
    api = await createTestApp(databaseUrl, { UXC_BASE_URL: sim.url });
    tenant = await createTenant(api);
    await sim.addCredential({ ak: tenant.uxcAk, sk: tenant.uxcSk });
    const spawned = await Promise.all(
      Array.from({ length: PROCESSES }, () =>
        spawnRelay({
          DATABASE_URL: databaseUrl,
          ENCRYPTION_KEY: TEST_ENCRYPTION_KEY,
          UXC_BASE_URL: sim.url,
          UXC_RATE_LIMIT: String(RATE),
          POLLER_ENABLED: 'true',
          DISPATCHER_ENABLED: 'false',
          POLL_INTERVAL_MS: '100',
          POLL_MAX_INTERVAL_MS: '1000',
          UXC_TIMEOUT_MS: '1000',
        }),
      ),
    );
    relays.push(...spawned);
    await Promise.all(relays.map((relay) => waitForOk(`${relay.url}/health/ready`, 60_000, relay)));
  }, 120_000);

  afterAll(async () => {
    for (const relay of relays) relay.child.kill('SIGKILL');
    await Promise.all(relays.map((relay) => relay.exited));
    await api?.close();
    await sim?.close();
  });

  it(`holds ${RATE} calls a second for one credential over all processes, polls every task, and shares the work`, async () => {
    const started = Date.now();
    for (let i = 0; i < TASKS; i++) {
      await createSubscription(api, tenant.tenant, {
        sid: `BT|rate-${i}`,
        callbackUrl: `http://127.0.0.1:9/rate/${i}`,
      });
    }
    // 200 polls at 5 a second take about 41 s
    await waitFor(
      'every task to be polled',
      async () => (await api.prisma.task.count({ where: { lastPolledAt: null } })) === 0,
      (TASKS / RATE) * 1000 * 2,
    );
    const calls = await callTimes(started);
    expect(calls.length).toBeGreaterThanOrEqual(TASKS);
    // the agreed rate in any second; 10% of a second allowed for clock edges
    // between the processes and the simulator
    expect(busiestWindow(calls, 900)).toBeLessThanOrEqual(RATE);
    expect(busiestWindow(calls, 1000)).toBeLessThanOrEqual(Math.ceil(RATE * 1.1));
    // and not far below it either: the processes do not leave the budget unused
    const seconds = (Math.max(...calls) - Math.min(...calls)) / 1000;
    expect(calls.length / seconds).toBeGreaterThan(RATE * 0.8);

    const shares = await Promise.all(relays.map(pollsOf));
    expect(Math.min(...shares)).toBeGreaterThan(0);
    expect(Math.max(...shares) / Math.min(...shares)).toBeLessThan(2);
  }, 180_000);

  it('stops every process calling with a credential for as long as a 429 with Retry-After: 3 asks', async () => {
    const from = Date.now();
    await sim.addFault({ kind: 'http-error', status: 429, retryAfter: '3', count: 1 });
    const refused = await waitFor(
      'UXC to answer 429 once',
      async () =>
        (await sim.calls()).find((call) => call.at >= from && call.answer === 'fault:http-error'),
      10_000,
    );
    const refusedAt = refused.at;
    // the positive signal: calls come back once the pause is over
    await waitFor(
      'calls to resume',
      async () => (await callTimes(refusedAt + 3000)).length > 0,
      10_000,
    );
    // calls already on their way when UXC answered (granted up to LOOKAHEAD_MS
    // ahead, plus the time to record the pause) may still arrive
    const grace = LOOKAHEAD_MS + 150;
    const after = await callTimes(refusedAt + grace);
    expect(after.filter((at) => at < refusedAt + 3000)).toEqual([]);
    const resumed = Math.min(...after);
    expect(resumed).toBeGreaterThanOrEqual(refusedAt + 3000);
    expect(resumed).toBeLessThan(refusedAt + 3000 + 1500);
  }, 60_000);
});
