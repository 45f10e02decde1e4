import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import express from 'express';
import request from 'supertest';
import { serveConsole } from '../src/console/console-static';
import { InProcessSimulator } from '../src/upstream/in-process-simulator';
import { UxcClient } from '../src/uxc/uxc.client';
import { UxcEndpoint } from '../src/uxc/uxc-endpoint';
import { TEST_ADMIN_TOKEN, TestApp } from './support/app';
import {
  appendTaskEvent,
  bearer,
  createSubscription,
  createTwoTenantRelay,
  TenantFixture,
} from './support/factories';
import { waitFor } from './support/wait';

interface HistorySample {
  at: string;
  pendingDeliveries: number;
  oldestPendingAgeSeconds: number | null;
  heldDeliveries: number;
  polls: number;
  pollLagSeconds: number | null;
  uxcErrorRate: number | null;
  uxcCredentials: { credential: string; requests: number; errors: number; errorRate: number }[];
}

describe('the ops console routes', () => {
  let relay: TestApp;
  let acme: TenantFixture;
  let other: TenantFixture;

  beforeAll(async () => {
    // a sample every 200 ms: the history test sees samples appear within its run
    ({ relay, acme, other } = await createTwoTenantRelay({ OPS_SAMPLE_MS: '200' }));
  });
  afterAll(() => relay.close());

  it('summarises the delivery queue per tenant, and the whole relay for the admin', async () => {
    const subscription = await createSubscription(relay, acme.tenant, {
      sid: 'ops-summary',
      callbackUrl: 'http://127.0.0.1:9/hook',
    });
    await appendTaskEvent(relay, acme.tenant, 'ops-summary', {
      type: 'task.running',
      state: 'running',
      status: 200,
    });
    await appendTaskEvent(relay, acme.tenant, 'ops-summary', {
      type: 'task.failed',
      state: 'failed',
      status: 2,
      tracking: 'completed',
    });
    const [first, second] = await relay.prisma.delivery.findMany({
      where: { subscriptionId: subscription.id },
      orderBy: { sequence: 'asc' },
    });
    await relay.prisma.delivery.update({ where: { id: first.id }, data: { state: 'failed' } });
    await relay.prisma.delivery.update({
      where: { id: second.id },
      data: { state: 'pending', createdAt: new Date(Date.now() - 90_000) },
    });

    const mine = await request(relay.url).get('/v1/ops/summary').set(bearer(acme)).expect(200);
    expect(mine.body).toMatchObject({
      scope: 'tenant',
      pendingDeliveries: 1,
      failedDeliveries: 1,
      heldDeliveries: 0,
    });
    expect(mine.body.oldestPendingAgeSeconds).toBeGreaterThanOrEqual(90);
    expect(Array.isArray(mine.body.uxcRequests)).toBe(true);

    const theirs = await request(relay.url).get('/v1/ops/summary').set(bearer(other)).expect(200);
    expect(theirs.body).toMatchObject({
      pendingDeliveries: 0,
      failedDeliveries: 0,
      oldestPendingAgeSeconds: null,
    });

    const admin = await request(relay.url)
      .get('/v1/ops/summary')
      .set({ Authorization: `Bearer ${TEST_ADMIN_TOKEN}` })
      .expect(200);
    expect(admin.body.scope).toBe('relay');
    expect(admin.body.pendingDeliveries).toBeGreaterThanOrEqual(1);

    await request(relay.url).get('/v1/ops/summary').expect(401);
    await request(relay.url)
      .get('/v1/ops/summary')
      .set({ Authorization: 'Bearer uxr_wrong' })
      .expect(401);
  });

  it('gives the UXC error rate per credential, each tenant only its own', async () => {
    const simulator = (relay.app.get(UxcEndpoint) as InProcessSimulator).simulator;
    simulator.addCredential({ ak: acme.uxcAk, sk: acme.uxcSk });
    simulator.addCredential({ ak: other.uxcAk, sk: other.uxcSk });
    const uxc = relay.app.get(UxcClient);
    const acmeCredential = { ak: acme.uxcAk, sk: acme.uxcSk };
    const otherCredential = { ak: other.uxcAk, sk: other.uxcSk };
    // one errNo answer for acme's sid, through the simulator's fault injection; none for the other tenant
    simulator.addFault({ kind: 'errNo', errNo: 3103, count: 1, sid: 'ops-acme-fault' });
    const outcomes = [
      await uxc.getTask(acmeCredential, 'ops-acme-fault'),
      await uxc.getTask(acmeCredential, 'ops-acme-ok-1'),
      await uxc.getTask(acmeCredential, 'ops-acme-ok-2'),
      await uxc.getTask(acmeCredential, 'ops-acme-ok-3'),
      await uxc.getTask(otherCredential, 'ops-other-1'),
      await uxc.getTask(otherCredential, 'ops-other-2'),
    ];
    expect(outcomes.map((o) => o.kind)).toEqual(['upstream-error', 'ok', 'ok', 'ok', 'ok', 'ok']);

    const mine = await request(relay.url).get('/v1/ops/summary').set(bearer(acme)).expect(200);
    expect(mine.body.uxcCredentials).toEqual([
      { credential: acme.uxcAk, requests: 4, errors: 1, errorRate: 0.25 },
    ]);
    expect(mine.body.uxcErrorRate).toBe(0.25);
    expect(JSON.stringify(mine.body)).not.toContain(acme.uxcSk);

    const theirs = await request(relay.url).get('/v1/ops/summary').set(bearer(other)).expect(200);
    expect(theirs.body.uxcCredentials).toEqual([
      { credential: other.uxcAk, requests: 2, errors: 0, errorRate: 0 },
    ]);
    expect(theirs.body.uxcErrorRate).toBe(0);

    const admin = await request(relay.url)
      .get('/v1/ops/summary')
      .set({ Authorization: `Bearer ${TEST_ADMIN_TOKEN}` })
      .expect(200);
    expect(admin.body.uxcCredentials).toEqual(
      expect.arrayContaining([
        { credential: acme.uxcAk, requests: 4, errors: 1, errorRate: 0.25 },
        { credential: other.uxcAk, requests: 2, errors: 0, errorRate: 0 },
      ]),
    );

    const metrics = await request(relay.url).get('/metrics').expect(200);
    expect(metrics.text).toContain(
      `uxc_relay_uxc_requests_total{outcome="upstream-error",reason="",err_no="3103",credential="${acme.uxcAk}"} 1`,
    );
  });

  it('keeps the last hour of samples, a tenant its own deliveries and credential', async () => {
    const admin = { Authorization: `Bearer ${TEST_ADMIN_TOKEN}` };
    await request(relay.url).get('/v1/ops/history').expect(401);
    await request(relay.url)
      .get('/v1/ops/history')
      .set({ Authorization: 'Bearer uxr_wrong' })
      .expect(401);

    const subscription = await createSubscription(relay, acme.tenant, {
      sid: 'ops-history',
      callbackUrl: 'http://127.0.0.1:9/hook',
    });
    await appendTaskEvent(relay, acme.tenant, 'ops-history', {
      type: 'task.running',
      state: 'running',
      status: 200,
    });
    const [delivery] = await relay.prisma.delivery.findMany({
      where: { subscriptionId: subscription.id },
    });
    await relay.prisma.delivery.update({
      where: { id: delivery.id },
      data: { state: 'held' },
    });
    const heldSince = new Date();

    const simulator = (relay.app.get(UxcEndpoint) as InProcessSimulator).simulator;
    simulator.addCredential({ ak: acme.uxcAk, sk: acme.uxcSk });
    simulator.addCredential({ ak: other.uxcAk, sk: other.uxcSk });
    simulator.addFault({ kind: 'errNo', errNo: 3103, count: 1, sid: 'ops-history-fault' });
    const uxc = relay.app.get(UxcClient);
    await uxc.getTask({ ak: acme.uxcAk, sk: acme.uxcSk }, 'ops-history-fault');
    await uxc.getTask({ ak: other.uxcAk, sk: other.uxcSk }, 'ops-history-other');

    const history = async (auth: Record<string, string>) =>
      (await request(relay.url).get('/v1/ops/history').set(auth).expect(200)).body as {
        scope: string;
        sampleIntervalSeconds: number;
        samples: HistorySample[];
      };
    const taken = (s: HistorySample) => Date.parse(s.at) >= heldSince.getTime();

    // the intervals' calls add up to what the summary counts since the process started
    const { body: summary } = await request(relay.url)
      .get('/v1/ops/summary')
      .set(bearer(acme))
      .expect(200);
    const total = summary.uxcCredentials[0] as { requests: number; errors: number };
    expect(total.errors).toBeGreaterThanOrEqual(1);
    const sum = (samples: HistorySample[], key: 'requests' | 'errors') =>
      samples.flatMap((s) => s.uxcCredentials).reduce((n, c) => n + c[key], 0);
    const mine = await waitFor(
      'a sample of acme with its held delivery and every UXC call',
      async () => {
        const body = await history(bearer(acme));
        return body.samples.some((s) => taken(s) && s.heldDeliveries === 1) &&
          sum(body.samples, 'requests') === total.requests
          ? body
          : undefined;
      },
    );
    expect(sum(mine.samples, 'errors')).toBe(total.errors);
    expect(mine.scope).toBe('tenant');
    expect(mine.sampleIntervalSeconds).toBe(0.2);
    for (const s of mine.samples) {
      expect(s.uxcCredentials.every((c) => c.credential === acme.uxcAk)).toBe(true);
      expect(typeof s.polls).toBe('number');
      for (const c of s.uxcCredentials) expect(c.errorRate).toBe(c.errors / c.requests);
      if (s.uxcCredentials.length === 0) expect(s.uxcErrorRate).toBeNull();
      else expect(s.uxcErrorRate).toBe(s.uxcCredentials[0].errorRate);
    }
    // samples come oldest first
    const times = mine.samples.map((s) => Date.parse(s.at));
    expect(times).toEqual([...times].sort((a, b) => a - b));

    const theirs = await history(bearer(other));
    expect(theirs.scope).toBe('tenant');
    expect(theirs.samples.length).toBeGreaterThan(0);
    for (const s of theirs.samples) {
      expect(s.heldDeliveries).toBe(0);
      expect(s.uxcCredentials.every((c) => c.credential === other.uxcAk)).toBe(true);
    }
    expect(JSON.stringify(theirs)).not.toContain(acme.uxcAk);
    expect(theirs.samples.some((s) => s.uxcCredentials.length === 1)).toBe(true);

    const relayWide = await history(admin);
    expect(relayWide.scope).toBe('relay');
    expect(relayWide.samples.some((s) => taken(s) && s.heldDeliveries >= 1)).toBe(true);
    const credentials = new Set(
      relayWide.samples.flatMap((s) => s.uxcCredentials.map((c) => c.credential)),
    );
    expect(credentials).toEqual(new Set([acme.uxcAk, other.uxcAk]));
  });

  it('keeps the API 404 and 405 answers beside the console', async () => {
    const missing = await request(relay.url).get('/v1/no-such-route').expect(404);
    expect(missing.body.message).toContain('Cannot GET /v1/no-such-route');
    await request(relay.url).put('/v1/ops/summary').expect(405);
    await request(relay.url).post('/v1/ops/history').expect(405);
    await request(relay.url).post('/console').expect(404);
  });

  it('serves the console without a key, with index.html for its own paths', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'console-'));
    mkdirSync(join(dir, 'assets'));
    writeFileSync(join(dir, 'index.html'), '<!doctype html><title>console</title>');
    writeFileSync(join(dir, 'assets', 'app-1.js'), 'console.log(1)');
    const app = express();
    serveConsole({ use: (...args: unknown[]) => app.use(...(args as [string])) } as never, dir);
    app.use((_req, res) => res.status(404).send('api 404'));

    const index = await request(app).get('/console/').expect(200);
    expect(index.text).toContain('<title>console</title>');
    expect(index.headers['content-security-policy']).toContain("default-src 'self'");
    const deep = await request(app).get('/console/tasks/BT%7Cabc').expect(200);
    expect(deep.text).toContain('<title>console</title>');
    const asset = await request(app).get('/console/assets/app-1.js').expect(200);
    expect(asset.headers['cache-control']).toContain('immutable');
    const missing = await request(app).get('/console/assets/gone.js').expect(404);
    expect(missing.text).toBe('api 404');
    await request(app).get('/v1/tasks').expect(404, 'api 404');
  });

  it('says how to build the console when it is not built', async () => {
    const app = express();
    serveConsole(
      { use: (...args: unknown[]) => app.use(...(args as [string])) } as never,
      join(tmpdir(), 'no-console-here'),
    );
    const answer = await request(app).get('/console/').expect(404);
    expect(answer.text).toContain('npm run build');
  });
});
