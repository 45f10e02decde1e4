import { RequestMethod } from '@nestjs/common';
import { INTERCEPTORS_METADATA, METHOD_METADATA } from '@nestjs/common/constants';
import { DiscoveryService } from '@nestjs/core';
import request from 'supertest';
import { IdempotencyInterceptor } from '../src/idempotency/idempotency.interceptor';
import { IdempotencyKeyPurger } from '../src/idempotency/idempotency.module';
import { TEST_ADMIN_TOKEN, TestApp } from './support/app';
import { bearer, createTwoTenantRelay, TenantFixture } from './support/factories';
import { WebhookReceiver } from './support/receiver';

const admin = { Authorization: `Bearer ${TEST_ADMIN_TOKEN}` };

describe('Idempotency-Key on POST', () => {
  let relay: TestApp;
  let acme: TenantFixture;
  let other: TenantFixture;
  let receiver: WebhookReceiver;

  beforeAll(async () => {
    ({ relay, acme, other } = await createTwoTenantRelay());
    receiver = await WebhookReceiver.start();
  });
  afterAll(async () => {
    await relay.close();
    await receiver.stop();
  });

  const apiKeysOf = (tenantId: string): Promise<number> =>
    relay.prisma.apiKey.count({ where: { tenantId } });

  it('answers a repeat with the stored status and body, and creates the resource once', async () => {
    const before = await apiKeysOf(acme.tenant.id);
    const first = await request(relay.url)
      .post(`/v1/tenants/${acme.tenant.id}/api-keys`)
      .set(admin)
      .set('Idempotency-Key', 'new-key-1')
      .expect(201);
    expect(first.headers['idempotent-replayed']).toBeUndefined();
    const again = await request(relay.url)
      .post(`/v1/tenants/${acme.tenant.id}/api-keys`)
      .set(admin)
      .set('Idempotency-Key', 'new-key-1')
      .expect(201);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.body).toEqual(first.body);
    expect(await apiKeysOf(acme.tenant.id)).toBe(before + 1);
    // the stored answer holds a key shown once: it is sealed, not readable in the table
    const stored = await relay.prisma.idempotencyKey.findFirstOrThrow({
      where: { key: 'new-key-1' },
    });
    expect(stored.statusCode).toBe(201);
    expect(stored.body).not.toContain(first.body.apiKey);

    // without a key every POST runs
    await request(relay.url).post(`/v1/tenants/${acme.tenant.id}/api-keys`).set(admin).expect(201);
    expect(await apiKeysOf(acme.tenant.id)).toBe(before + 2);
  });

  it('replays a tenant route with its own status (201 kept, not the 200 a second run gives)', async () => {
    const input = { sid: 'BT|idem-1', callbackUrl: receiver.url('/idem') };
    const first = await request(relay.url)
      .post('/v1/subscriptions')
      .set(bearer(acme))
      .set('Idempotency-Key', 'sub-1')
      .send(input)
      .expect(201);
    const replay = await request(relay.url)
      .post('/v1/subscriptions')
      .set(bearer(acme))
      .set('Idempotency-Key', 'sub-1')
      .send(input)
      .expect(201);
    expect(replay.body).toEqual(first.body);
    // the same request under a new key runs: the subscription exists, 200
    await request(relay.url).post('/v1/subscriptions').set(bearer(acme)).send(input).expect(200);
    expect(await relay.prisma.subscription.count({ where: { sid: 'BT|idem-1' } })).toBe(1);
  });

  it('answers 422 naming the header for the same key with another body or path', async () => {
    await request(relay.url)
      .post('/v1/subscriptions')
      .set(bearer(acme))
      .set('Idempotency-Key', 'sub-2')
      .send({ sid: 'BT|idem-2', callbackUrl: receiver.url('/idem') })
      .expect(201);
    const otherBody = await request(relay.url)
      .post('/v1/subscriptions')
      .set(bearer(acme))
      .set('Idempotency-Key', 'sub-2')
      .send({ sid: 'BT|idem-3', callbackUrl: receiver.url('/idem') })
      .expect(422);
    expect(otherBody.body.message).toContain('Idempotency-Key');
    await request(relay.url)
      .post('/v1/webhook-test')
      .set(bearer(acme))
      .set('Idempotency-Key', 'sub-2')
      .send({ sid: 'BT|idem-2', callbackUrl: receiver.url('/idem') })
      .expect(422);
    expect(await relay.prisma.subscription.count({ where: { sid: 'BT|idem-3' } })).toBe(0);
  });

  it('keeps keys per tenant: the same key of another tenant is its own', async () => {
    const input = { sid: 'BT|idem-4', callbackUrl: receiver.url('/idem') };
    const mine = await request(relay.url)
      .post('/v1/subscriptions')
      .set(bearer(acme))
      .set('Idempotency-Key', 'shared')
      .send(input)
      .expect(201);
    const theirs = await request(relay.url)
      .post('/v1/subscriptions')
      .set(bearer(other))
      .set('Idempotency-Key', 'shared')
      .send(input)
      .expect(201);
    expect(theirs.body.id).not.toBe(mine.body.id);
  });

  it('lets only one of concurrent requests with one key run; the others answer 409', async () => {
    receiver.setAnswer({ status: 200, delayMs: 1500 });
    const sent = receiver.on('/slow').length;
    const call = () =>
      request(relay.url)
        .post('/v1/webhook-test')
        .set(bearer(acme))
        .set('Idempotency-Key', 'slow-test')
        .send({ callbackUrl: receiver.url('/slow') });
    const answers = await Promise.all([call(), call(), call(), call()]);
    const statuses = answers.map((a) => a.status).sort();
    expect(statuses).toEqual([200, 409, 409, 409]);
    const conflict = answers.find((a) => a.status === 409);
    expect(conflict?.body.message).toContain('Idempotency-Key');
    expect(receiver.on('/slow').length - sent).toBe(1);

    // once answered, the key replays the stored answer without sending again
    const replay = await call().expect(200);
    expect(replay.body).toEqual(answers.find((a) => a.status === 200)?.body);
    expect(receiver.on('/slow').length - sent).toBe(1);
    receiver.setAnswer({ status: 200 });
  });

  it('keeps no error answer: a refused request may be retried with its key', async () => {
    const bad = await request(relay.url)
      .post('/v1/subscriptions')
      .set(bearer(acme))
      .set('Idempotency-Key', 'fix-me')
      .send({ sid: 'BT|idem-5' })
      .expect(400);
    expect(bad.body.message).toContain('callbackUrl');
    await request(relay.url)
      .post('/v1/subscriptions')
      .set(bearer(acme))
      .set('Idempotency-Key', 'fix-me')
      .send({ sid: 'BT|idem-5', callbackUrl: receiver.url('/idem') })
      .expect(201);
  });

  it.each([
    ['longer than 255 characters', 'k'.repeat(256), 'at most 255'],
    ['not printable ASCII', 'clé', 'printable ASCII'],
  ])('refuses a key %s with a 400 naming the header', async (_label, key, message) => {
    const answer = await request(relay.url)
      .post('/v1/subscriptions')
      .set(bearer(acme))
      .set('Idempotency-Key', key)
      .send({ sid: 'BT|idem-6', callbackUrl: receiver.url('/idem') })
      .expect(400);
    expect(answer.body.message).toContain('Idempotency-Key');
    expect(answer.body.message).toContain(message);
    expect(await relay.prisma.subscription.count({ where: { sid: 'BT|idem-6' } })).toBe(0);
  });

  it('accepts a key of exactly 255 characters', async () => {
    await request(relay.url)
      .post('/v1/subscriptions')
      .set(bearer(acme))
      .set('Idempotency-Key', 'k'.repeat(255))
      .send({ sid: 'BT|idem-7', callbackUrl: receiver.url('/idem') })
      .expect(201);
  });

  it('forgets keys after 24 h: the purge removes expired ones', async () => {
    await request(relay.url)
      .post('/v1/subscriptions')
      .set(bearer(acme))
      .set('Idempotency-Key', 'old-key')
      .send({ sid: 'BT|idem-8', callbackUrl: receiver.url('/idem') })
      .expect(201);
    const row = await relay.prisma.idempotencyKey.findFirstOrThrow({ where: { key: 'old-key' } });
    expect(row.expiresAt.getTime() - row.createdAt.getTime()).toBe(24 * 60 * 60 * 1000);
    await relay.prisma.idempotencyKey.updateMany({
      where: { key: 'old-key' },
      data: { expiresAt: new Date(Date.now() - 1000) },
    });
    expect(await relay.app.get(IdempotencyKeyPurger).purge()).toBeGreaterThanOrEqual(1);
    expect(await relay.prisma.idempotencyKey.count({ where: { key: 'old-key' } })).toBe(0);
    // the key is free again for any request
    await request(relay.url)
      .post('/v1/subscriptions')
      .set(bearer(acme))
      .set('Idempotency-Key', 'old-key')
      .send({ sid: 'BT|idem-9', callbackUrl: receiver.url('/idem') })
      .expect(201);
  });

  it('is documented on every POST operation of the OpenAPI document', async () => {
    const doc = (await request(relay.url).get('/docs-json').expect(200)).body as {
      paths: Record<string, Record<string, { parameters?: { $ref?: string }[] }>>;
      components: { parameters: Record<string, { name: string; in: string }> };
    };
    expect(doc.components.parameters.IdempotencyKey).toMatchObject({
      name: 'Idempotency-Key',
      in: 'header',
    });
    const posts = Object.entries(doc.paths).filter(([, item]) => item.post);
    expect(posts.length).toBeGreaterThan(5);
    for (const [path, item] of posts) {
      const refs = (item.post.parameters ?? []).map((p) => p.$ref);
      expect([path, refs]).toEqual([
        path,
        expect.arrayContaining(['#/components/parameters/IdempotencyKey']),
      ]);
    }
  });

  it('is taken by every POST route of the running relay, and by no read route', () => {
    const routes: { route: string; method: number; idempotent: boolean }[] = [];
    for (const wrapper of relay.app.get(DiscoveryService).getControllers()) {
      const controller = wrapper.metatype as (new (...args: never[]) => unknown) | null;
      if (!controller) continue;
      const onClass = (Reflect.getMetadata(INTERCEPTORS_METADATA, controller) ?? []) as unknown[];
      for (const name of Object.getOwnPropertyNames(controller.prototype)) {
        const handler = (controller.prototype as Record<string, unknown>)[name];
        if (typeof handler !== 'function') continue;
        const method = Reflect.getMetadata(METHOD_METADATA, handler) as number | undefined;
        if (method === undefined) continue;
        const onHandler = (Reflect.getMetadata(INTERCEPTORS_METADATA, handler) ?? []) as unknown[];
        const idempotent = [...onClass, ...onHandler].includes(IdempotencyInterceptor);
        routes.push({ route: `${controller.name}.${name}`, method, idempotent });
      }
    }
    const posts = routes.filter((r) => r.method === RequestMethod.POST);
    expect(posts.length).toBeGreaterThan(10);
    expect(posts.filter((r) => !r.idempotent).map((r) => r.route)).toEqual([]);
    const reads = routes.filter((r) => r.method === RequestMethod.GET);
    expect(reads.length).toBeGreaterThan(10);
    expect(reads.filter((r) => r.idempotent).map((r) => r.route)).toEqual([]);
  });

  it('replays a POST of another module than subscriptions (a stream token)', async () => {
    const send = () =>
      request(relay.url)
        .post('/v1/stream-tokens')
        .set(bearer(acme))
        .set('Idempotency-Key', 'stream-token-1')
        .send({});
    const first = await send();
    expect(first.status).toBe(201);
    const again = await send();
    expect(again.status).toBe(201);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.body).toEqual(first.body);
  });
});
