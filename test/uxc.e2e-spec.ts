import { readFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { MetricsService } from '../src/metrics/metrics.service';
import { SIMULATOR_DEFAULT_AK, SIMULATOR_DEFAULT_SK } from '../src/simulator/simulator.constants';
import { SimulatorServer, startSimulatorServer } from '../src/simulator/simulator-server';
import { UxcClient, UxcClientOptions } from '../src/uxc/uxc.client';
import { UxcMetrics } from '../src/uxc/uxc.metrics';
import { UxcOutcome } from '../src/uxc/uxc-outcome';

/**
 * The UXC client against the simulator over real HTTP on loopback: every
 * outcome the poller must tell apart, the fixture, the per-credential rate
 * limit and the secret key's absence from everything a failure leaves behind.
 */
const fixture = JSON.parse(
  readFileSync(join(__dirname, 'fixtures/uxc/task-get.success.json'), 'utf8'),
) as { errNo: number; errMsg: string; data: Record<string, unknown> & { sid: string } };

const DEFAULT = { ak: SIMULATOR_DEFAULT_AK, sk: SIMULATOR_DEFAULT_SK };

describe('UXC client ⇄ simulator', () => {
  let server: SimulatorServer;
  const clients: UxcClient[] = [];

  const client = (options: Partial<UxcClientOptions> = {}): UxcClient => {
    const created = new UxcClient({
      baseUrl: server.url,
      timeoutMs: 2000,
      rateLimit: 100,
      ...options,
    });
    clients.push(created);
    return created;
  };

  beforeEach(async () => {
    server = await startSimulatorServer();
  });

  afterEach(async () => {
    for (const created of clients.splice(0)) created.close();
    await server.close();
  });

  it('parses the fixture, served byte for byte, to exactly its values', async () => {
    server.simulator.scriptTask({ sid: fixture.data.sid, steps: [{ data: fixture.data }] });
    const outcome = await client().getTask(DEFAULT, fixture.data.sid);
    expect(outcome.kind).toBe('ok');
    if (outcome.kind !== 'ok') return;
    expect(outcome.data).toEqual(fixture.data);
    expect(outcome.raw).toEqual(fixture);
    expect(outcome.data.podPort).toBe('8103');
    expect(outcome.data.costTime).toBe(66.59);
  });

  it.each(
    ['BT|7aa93d45-4b09-4dcd-9861-aaa69e619b2e', 'a/b c', '任务 | 🚀 ü', '', '__proto__'].filter(
      Boolean,
    ),
  )('sends the sid %j untouched', async (sid) => {
    const outcome = await client().getTask(DEFAULT, sid);
    expect(outcome).toMatchObject({ kind: 'ok', data: { sid, status: 100 } });
    expect(server.simulator.calls().map((call) => call.sid)).toEqual([sid]);
  });

  it('keeps unknown fields and tolerates missing ones', async () => {
    server.simulator.scriptTask({
      sid: 'sparse',
      steps: [{ data: { status: 100, shard: { zone: 'gz-3' } } }],
    });
    expect(await client().getTask(DEFAULT, 'sparse')).toMatchObject({
      kind: 'ok',
      data: { sid: 'sparse', status: 100, shard: { zone: 'gz-3' } },
    });
  });

  describe('upstream errors', () => {
    it('wrong credentials are errNo 3002', async () => {
      const outcome = await client().getTask({ ak: SIMULATOR_DEFAULT_AK, sk: 'wrong' }, 'x');
      expect(outcome).toEqual({
        kind: 'upstream-error',
        errNo: 3002,
        errMsg: 'invalid ak or sk',
        durationMs: expect.any(Number),
      });
    });

    it.each([3103, 5000, 1000])('errNo %d keeps its number and message', async (errNo) => {
      server.simulator.addFault({ kind: 'errNo', errNo, errMsg: `报错 ${errNo}`, sid: 'x' });
      expect(await client().getTask(DEFAULT, 'x')).toMatchObject({
        kind: 'upstream-error',
        errNo,
        errMsg: `报错 ${errNo}`,
      });
    });

    it('carries a Retry-After', async () => {
      server.simulator.addFault({ kind: 'errNo', errNo: 5000, retryAfter: '4' });
      expect(await client().getTask(DEFAULT, 'x')).toMatchObject({
        kind: 'upstream-error',
        retryAfterMs: 4000,
      });
    });
  });

  describe('transport errors', () => {
    it('HTTP 502 with an HTML page is http-status', async () => {
      server.simulator.addFault({ kind: 'http-error' });
      const outcome = await client().getTask(DEFAULT, 'x');
      expect(outcome).toEqual({
        kind: 'transport-error',
        reason: 'http-status',
        httpStatus: 502,
        message: expect.stringContaining('HTTP 502 (text/html'),
        durationMs: expect.any(Number),
      });
    });

    it('HTTP 503 with Retry-After carries the delay; HTTP 404 is http-status too', async () => {
      server.simulator.addFault({ kind: 'http-error', status: 503, retryAfter: '7', count: 1 });
      expect(await client().getTask(DEFAULT, 'x')).toMatchObject({
        reason: 'http-status',
        httpStatus: 503,
        retryAfterMs: 7000,
      });
      server.simulator.addFault({ kind: 'http-error', status: 404, count: 1 });
      expect(await client().getTask(DEFAULT, 'x')).toMatchObject({
        reason: 'http-status',
        httpStatus: 404,
      });
    });

    it('truncated JSON is bad-body', async () => {
      server.simulator.addFault({ kind: 'truncated-json' });
      expect(await client().getTask(DEFAULT, 'x')).toMatchObject({
        kind: 'transport-error',
        reason: 'bad-body',
        message: expect.stringContaining('not JSON'),
      });
    });

    it('a field of the wrong type is bad-body, not a crash', async () => {
      server.simulator.scriptTask({
        sid: 'typed',
        steps: [{ data: { status: 1, podPort: 8103 } as never }],
      });
      expect(await client().getTask(DEFAULT, 'typed')).toMatchObject({
        reason: 'bad-body',
        message: expect.stringContaining('data.podPort is not a string'),
      });
    });

    it('an answer about another sid is bad-body', async () => {
      server.simulator.scriptTask({ sid: 'mine', steps: [{ data: { sid: 'theirs', status: 1 } }] });
      expect(await client().getTask(DEFAULT, 'mine')).toMatchObject({ reason: 'bad-body' });
    });

    it('a hang past UXC_TIMEOUT_MS is a timeout, reported on time', async () => {
      server.simulator.addFault({ kind: 'hang', sid: 'stuck' });
      const started = performance.now();
      const outcome = await client({ timeoutMs: 300 }).getTask(DEFAULT, 'stuck');
      const elapsed = performance.now() - started;
      expect(outcome).toMatchObject({
        kind: 'transport-error',
        reason: 'timeout',
      });
      expect(elapsed).toBeGreaterThanOrEqual(290);
      // the hang lasts far longer: only the timeout ends the call this soon
      expect(elapsed).toBeLessThan(3000);
    });

    it('added latency under the timeout still ends ok', async () => {
      server.simulator.addFault({ kind: 'latency', ms: 200 });
      const outcome = await client({ timeoutMs: 1000 }).getTask(DEFAULT, 'x');
      expect(outcome.kind).toBe('ok');
      expect(outcome.durationMs).toBeGreaterThanOrEqual(190);
    });

    it('a reset connection and a refused one are connection errors', async () => {
      server.simulator.addFault({ kind: 'reset', count: 1 });
      expect(await client().getTask(DEFAULT, 'x')).toMatchObject({
        kind: 'transport-error',
        reason: 'connection',
      });

      const port = await closedPort();
      const refused = await client({ baseUrl: `http://127.0.0.1:${port}` }).getTask(DEFAULT, 'x');
      expect(refused).toMatchObject({
        kind: 'transport-error',
        reason: 'connection',
        message: `could not reach UXC at 127.0.0.1:${port} (ECONNREFUSED)`,
      });
    });
  });

  it('holds two credentials hammering at once each to its own rate', async () => {
    const rate = 10;
    server.simulator.addCredential({ ak: 'tenant-b', sk: 'secret-b' });
    const uxc = client({ rateLimit: rate });
    const tenants = [DEFAULT, { ak: 'tenant-b', sk: 'secret-b' }];

    const started = performance.now();
    const outcomes = await Promise.all(
      tenants.flatMap((credential) =>
        Array.from({ length: 2 * rate + 2 }, (_, i) =>
          uxc.getTask(credential, `${credential.ak}-${i}`),
        ),
      ),
    );
    const elapsed = performance.now() - started;
    expect(outcomes.every((outcome) => outcome.kind === 'ok')).toBe(true);

    const firsts: number[] = [];
    for (const { ak } of tenants) {
      const arrivals = server.simulator
        .calls()
        .filter((call) => call.ak === ak)
        .map((call) => call.at);
      expect(arrivals).toHaveLength(2 * rate + 2);
      // measured where UXC would see it, with 200 ms of slack for loopback jitter between
      // batches; a classic refilling bucket would still show 17 here
      expect(busiestWindow(arrivals, 800)).toBeLessThanOrEqual(rate);
      firsts.push(arrivals[0]);
    }
    // neither credential was starved by the other: both began at once
    expect(Math.abs(firsts[0] - firsts[1])).toBeLessThan(300);
    // separate buckets: 44 calls at 10/s each take ~2 s, not the ~4 s one shared bucket would
    expect(elapsed).toBeGreaterThanOrEqual(1900);
    expect(elapsed).toBeLessThan(3600);
  });

  it('records requests by outcome and errNo, latency and rate-limit waits', async () => {
    const metricsService = new MetricsService();
    const metrics = UxcMetrics.for(metricsService);
    const uxc = client({ rateLimit: 2, metrics });
    server.simulator.addFault({ kind: 'errNo', errNo: 3103, count: 1, sid: 'e' });
    await Promise.all([
      uxc.getTask(DEFAULT, 'a'),
      uxc.getTask(DEFAULT, 'e'),
      uxc.getTask(DEFAULT, 'b'),
    ]);
    server.simulator.addFault({ kind: 'http-error', count: 1 });
    await uxc.getTask(DEFAULT, 'c');

    const text = await metricsService.registry.metrics();
    expect(text).toContain(
      `uxc_relay_uxc_requests_total{outcome="ok",reason="",err_no="0",credential="${SIMULATOR_DEFAULT_AK}"} 2`,
    );
    expect(text).toContain(
      `uxc_relay_uxc_requests_total{outcome="upstream-error",reason="",err_no="3103",credential="${SIMULATOR_DEFAULT_AK}"} 1`,
    );
    expect(text).toContain(
      `uxc_relay_uxc_requests_total{outcome="transport-error",reason="http-status",err_no="",credential="${SIMULATOR_DEFAULT_AK}"} 1`,
    );
    expect(text).toContain('uxc_relay_uxc_request_duration_seconds_count{outcome="ok"} 2');
    expect(text).toContain('uxc_relay_uxc_rate_limit_wait_seconds_count 4');
    // calls are spaced 512 ms apart at 2 a second: all but the first waited
    expect(text).toContain('uxc_relay_uxc_rate_limited_total 3');
    expect(text).toContain('uxc_relay_uxc_rate_limit_waiting 0');
    expect(UxcMetrics.for(metricsService)).toBe(metrics);
  });

  it('leaves the sk in no log line, outcome or output of failing calls', async () => {
    const sk = 'Sk-9f2c1e77;secret=ü';
    const credential = { ak: 'leaky-tenant', sk };
    server.simulator.addCredential(credential);
    const logs: string[] = [];
    const logger = { debug: (m: string) => logs.push(m) };
    const written: string[] = [];
    const capture = (stream: NodeJS.WriteStream) =>
      jest.spyOn(stream, 'write').mockImplementation((chunk: string | Uint8Array) => {
        written.push(String(chunk));
        return true;
      });
    const spies = [capture(process.stdout), capture(process.stderr)];

    const outcomes: UxcOutcome[] = [];
    try {
      const uxc = client({ timeoutMs: 300, logger });
      // the cookie really carries it: the simulator accepts the credential
      expect((await uxc.getTask(credential, 'ok')).kind).toBe('ok');
      outcomes.push(await uxc.getTask({ ak: 'leaky-tenant', sk: `${sk}x` }, 'auth'));
      // an upstream that echoes the cookie back in errMsg
      server.simulator.addFault({
        kind: 'errNo',
        errNo: 5000,
        errMsg: `bad cookie sk=${sk}`,
        count: 1,
      });
      outcomes.push(await uxc.getTask(credential, 'echo'));
      for (const kind of ['http-error', 'truncated-json', 'hang', 'reset'] as const) {
        server.simulator.addFault({ kind, count: 1 });
        outcomes.push(await uxc.getTask(credential, kind));
      }
      const port = await closedPort();
      outcomes.push(
        await client({ baseUrl: `http://127.0.0.1:${port}`, logger }).getTask(
          credential,
          'refused',
        ),
      );
    } finally {
      spies.forEach((spy) => spy.mockRestore());
    }

    expect(outcomes.map((o) => (o.kind === 'transport-error' ? o.reason : o.kind))).toEqual([
      'upstream-error',
      'upstream-error',
      'http-status',
      'bad-body',
      'timeout',
      'connection',
      'connection',
    ]);
    expect(logs).toHaveLength(outcomes.length);
    const everything = [
      JSON.stringify(outcomes),
      ...outcomes.map(String),
      ...logs,
      ...written,
    ].join('\n');
    for (const form of [sk, encodeURIComponent(sk), 'Sk-9f2c1e77'])
      expect(everything).not.toContain(form);
    expect(everything).toContain('[redacted]');
  });
});

/** Largest number of times inside any window of `windowMs`. */
function busiestWindow(times: number[], windowMs: number): number {
  const sorted = [...times].sort((a, b) => a - b);
  let best = 0;
  for (let i = 0, j = 0; i < sorted.length; i++) {
    while (sorted[i] - sorted[j] >= windowMs) j++;
    best = Math.max(best, i - j + 1);
  }
  return best;
}

/** A loopback port that was just free and is closed now: connecting to it is refused. */
async function closedPort(): Promise<number> {
  const probe = net.createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as net.AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}
