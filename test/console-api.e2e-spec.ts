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

describe('the ops console routes', () => {
  let relay: TestApp;
  let acme: TenantFixture;
  let other: TenantFixture;

  beforeAll(async () => {
    ({ relay, acme, other } = await createTwoTenantRelay());
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

  it('keeps the API 404 and 405 answers beside the console', async () => {
    const missing = await request(relay.url).get('/v1/no-such-route').expect(404);
    expect(missing.body.message).toContain('Cannot GET /v1/no-such-route');
    await request(relay.url).put('/v1/ops/summary').expect(405);
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
