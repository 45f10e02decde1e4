import http from 'node:http';
import type { AddressInfo } from 'node:net';
import request from 'supertest';
import { Webhook } from 'standardwebhooks';
import { createTestApp, TEST_ADMIN_TOKEN, TEST_ENCRYPTION_KEY, TestApp } from './support/app';
import { createTestDatabase } from './support/database';
import { waitFor } from './support/wait';

interface Received {
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** A real endpoint that checks signatures the way a client would, with `standardwebhooks`. */
async function startReceiver(secret: () => string): Promise<{
  url: string;
  received: Received[];
  close: () => Promise<void>;
}> {
  const received: Received[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      received.push({ headers: req.headers, body });
      try {
        new Webhook(secret()).verify(body, req.headers as Record<string, string>);
        res.writeHead(204).end();
      } catch {
        res.writeHead(401).end('bad signature');
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hooks/uxc`,
    received,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

describe('secrets: webhook signing secret, test endpoint, and what never leaks', () => {
  let relay: TestApp;
  const admin = { Authorization: `Bearer ${TEST_ADMIN_TOKEN}` };
  const uxcSk = 'uxc-secret-key-DO-NOT-LEAK-81f2';
  let apiKey: string;
  let tenantId: string;
  const auth = () => ({ Authorization: `Bearer ${apiKey}` });

  beforeAll(async () => {
    relay = await createTestApp(await createTestDatabase(), { WEBHOOK_SECRET_GRACE: '1h' });
    const created = await request(relay.url)
      .post('/v1/tenants')
      .set(admin)
      .send({ name: 'secretive', uxcAk: 'ak-secretive', uxcSk })
      .expect(201);
    apiKey = created.body.apiKey;
    tenantId = created.body.id;
  });
  afterAll(() => relay.close());

  it('shows the signing secret, rotates it, and signs with both during the grace period', async () => {
    const current = await request(relay.url).get('/v1/webhook-secret').set(auth()).expect(200);
    expect(current.body).toEqual({ secret: expect.stringMatching(/^whsec_[A-Za-z0-9+/]+={0,2}$/) });
    const raw = Buffer.from(current.body.secret.slice('whsec_'.length), 'base64');
    expect(raw.length).toBeGreaterThanOrEqual(24);
    expect(raw.length).toBeLessThanOrEqual(64);

    let receiverSecret = current.body.secret as string;
    const receiver = await startReceiver(() => receiverSecret);
    try {
      const tested = await request(relay.url)
        .post('/v1/webhook-test')
        .set(auth())
        .send({ callbackUrl: receiver.url })
        .expect(200);
      expect(tested.body).toEqual({
        delivered: true,
        statusCode: 204,
        durationMs: expect.any(Number),
        error: null,
        webhookId: expect.stringMatching(/^msg_/),
      });
      expect(JSON.parse(receiver.received[0].body)).toEqual({
        type: 'webhook.test',
        timestamp: expect.any(String),
        data: expect.objectContaining({ callbackUrl: receiver.url }),
      });
      expect(receiver.received[0].headers['webhook-id']).toBe(tested.body.webhookId);

      const rotated = await request(relay.url)
        .post('/v1/webhook-secret/rotate')
        .set(auth())
        .expect(200);
      expect(rotated.body.secret).not.toBe(current.body.secret);
      await request(relay.url)
        .get('/v1/webhook-secret')
        .set(auth())
        .expect(200, { secret: rotated.body.secret });

      // a receiver still on the old secret verifies, and so does one already on the new one
      for (const secret of [current.body.secret, rotated.body.secret]) {
        receiverSecret = secret;
        const answer = await request(relay.url)
          .post('/v1/webhook-test')
          .set(auth())
          .send({ callbackUrl: receiver.url })
          .expect(200);
        expect(answer.body).toMatchObject({ delivered: true, statusCode: 204 });
      }
      const last = receiver.received[receiver.received.length - 1];
      expect(String(last.headers['webhook-signature']).split(' ')).toHaveLength(2);

      // once the grace period is over, only the new secret signs
      await relay.prisma.tenant.update({
        where: { id: tenantId },
        data: { previousSecretUntil: new Date(Date.now() - 1) },
      });
      receiverSecret = current.body.secret;
      const stale = await request(relay.url)
        .post('/v1/webhook-test')
        .set(auth())
        .send({ callbackUrl: receiver.url })
        .expect(200);
      expect(stale.body).toMatchObject({ delivered: false, statusCode: 401 });
    } finally {
      await receiver.close();
    }
  });

  it('reports an endpoint that does not answer, and refuses URLs the policy forbids', async () => {
    const refused = await request(relay.url)
      .post('/v1/webhook-test')
      .set(auth())
      .send({ callbackUrl: 'http://127.0.0.1:1/nothing-here' })
      .expect(200);
    expect(refused.body).toMatchObject({
      delivered: false,
      statusCode: null,
      error: expect.any(String),
    });

    const metadata = await request(relay.url)
      .post('/v1/webhook-test')
      .set(auth())
      .send({ callbackUrl: 'http://169.254.169.254/latest/meta-data' })
      .expect(400);
    expect(String(metadata.body.message)).toMatch(/callbackUrl/);
  });

  it('answers 401 on the secret routes without a key or with a wrong one', async () => {
    for (const auth of [undefined, 'Bearer uxr_wrong']) {
      for (const call of [
        () => request(relay.url).get('/v1/webhook-secret'),
        () => request(relay.url).post('/v1/webhook-secret/rotate'),
        () =>
          request(relay.url).post('/v1/webhook-test').send({ callbackUrl: 'http://127.0.0.1:1/' }),
      ]) {
        const answer = await (auth ? call().set('Authorization', auth) : call());
        expect(answer.status).toBe(401);
      }
    }
  });

  it('stores ciphertext only, and no secret ever reaches a response after creation or a log line', async () => {
    const row = await relay.prisma.tenant.findUniqueOrThrow({
      where: { id: tenantId },
      include: { apiKeys: true },
    });
    const secret = (await request(relay.url).get('/v1/webhook-secret').set(auth()).expect(200)).body
      .secret as string;
    const stored = JSON.stringify(row);
    expect(stored).not.toContain(uxcSk);
    expect(stored).not.toContain(secret);
    expect(stored).not.toContain(secret.slice('whsec_'.length));
    expect(stored).not.toContain(apiKey);
    expect(row.uxcSkEnc).toMatch(/^v1\./);
    expect(row.webhookSecretEnc).toMatch(/^v1\./);

    const sub = await request(relay.url)
      .post('/v1/subscriptions')
      .set(auth())
      .send({ sid: 'leak-check', callbackUrl: 'http://127.0.0.1:9/hook' })
      .expect(201);
    const answers = await Promise.all([
      request(relay.url).get('/v1/tenants').set(admin),
      request(relay.url).get(`/v1/tenants/${tenantId}`).set(admin),
      request(relay.url).get(`/v1/tenants/${tenantId}/api-keys`).set(admin),
      request(relay.url).patch(`/v1/tenants/${tenantId}`).set(admin).send({ uxcSk }),
      request(relay.url).get('/v1/subscriptions').set(auth()),
      request(relay.url).get(`/v1/subscriptions/${sub.body.id}`).set(auth()),
      request(relay.url).get('/v1/tasks/leak-check').set(auth()),
      request(relay.url).get('/v1/tasks').set(auth()),
      request(relay.url).get('/docs-json'),
      request(relay.url).get('/metrics'),
    ]);
    const leaks = [uxcSk, apiKey, TEST_ADMIN_TOKEN, TEST_ENCRYPTION_KEY];
    for (const answer of answers) {
      expect(answer.status).toBeLessThan(400);
      for (const leak of leaks) expect(answer.text).not.toContain(leak);
      expect(answer.text).not.toContain(secret);
    }
    // errors, too, keep what they were sent to themselves
    const wrongAdmin = await request(relay.url)
      .get('/v1/tenants')
      .set('Authorization', `Bearer ${uxcSk}`);
    expect(wrongAdmin.text).not.toContain(uxcSk);

    const logs = relay.logs.text;
    expect(logs.length).toBeGreaterThan(0);
    expect(logs).toMatch(/\/v1\/tenants/);
    for (const leak of [...leaks, secret, secret.slice('whsec_'.length)]) {
      expect(logs).not.toContain(leak);
    }
  });

  it('logs request paths without their query string, which may carry a sid', async () => {
    const before = relay.logs.lines.length;
    await request(relay.url)
      .get('/v1/subscriptions?sid=sid-only-in-a-query')
      .set(auth())
      .expect(200);
    // the request line is written once the answer has gone out
    await waitFor('the request line', () =>
      relay.logs.lines.slice(before).some((line) => line.includes('"url":"/v1/subscriptions"')),
    );
    expect(relay.logs.text).not.toContain('sid-only-in-a-query');
  });
});
