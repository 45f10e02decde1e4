import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { ConfigService } from '../src/config/config.service';
import { hashApiKey } from '../src/tenants/api-key';
import { DefaultTenant, LOCAL_API_KEY_FILE } from '../src/tenants/default-tenant';
import { TenantSecrets } from '../src/tenants/tenant-secrets.service';
import { PrismaService } from '../src/database/prisma.service';
import { SIMULATOR_DEFAULT_AK, SIMULATOR_DEFAULT_SK } from '../src/simulator/simulator.constants';
import { UxcEndpoint } from '../src/uxc/uxc-endpoint';
import { createTestApp, TEST_ADMIN_TOKEN, TestApp } from './support/app';
import { createTestDatabase } from './support/database';

const admin = { Authorization: `Bearer ${TEST_ADMIN_TOKEN}` };

describe('tenants (admin API)', () => {
  let relay: TestApp;

  beforeAll(async () => {
    relay = await createTestApp(await createTestDatabase());
  });
  afterAll(() => relay.close());

  it('creates a tenant whose key works at once and is stored only as a hash', async () => {
    const created = await request(relay.url)
      .post('/v1/tenants')
      .set(admin)
      .send({ name: 'acme', uxcAk: 'ak-acme', uxcSk: 'sk-acme-very-secret' })
      .expect(201);
    expect(created.body).toEqual({
      id: expect.stringMatching(/^ten_/),
      name: 'acme',
      apiKey: expect.stringMatching(/^uxr_/),
    });
    const row = await relay.prisma.tenant.findUniqueOrThrow({
      where: { id: created.body.id },
      include: { apiKeys: true },
    });
    expect(row.uxcSkEnc).not.toContain('sk-acme-very-secret');
    expect(row.apiKeys).toHaveLength(1);
    expect(row.apiKeys[0].hash).toBe(hashApiKey(created.body.apiKey));
    expect(JSON.stringify(row)).not.toContain(created.body.apiKey);
    const secrets = relay.app.get(TenantSecrets);
    expect(secrets.uxcCredential(row)).toEqual({ ak: 'ak-acme', sk: 'sk-acme-very-secret' });
    expect((await secrets.signingSecrets(row))[0]).toMatch(/^whsec_/);

    await request(relay.url)
      .get('/v1/webhook-secret')
      .set('Authorization', `Bearer ${created.body.apiKey}`)
      .expect(200);
    const key = await relay.prisma.apiKey.findFirstOrThrow({ where: { tenantId: row.id } });
    expect(key.lastUsedAt).not.toBeNull();
  });

  it('refuses a taken name with 409', async () => {
    await request(relay.url)
      .post('/v1/tenants')
      .set(admin)
      .send({ name: 'taken', uxcAk: 'a', uxcSk: 'b' })
      .expect(201);
    const again = await request(relay.url)
      .post('/v1/tenants')
      .set(admin)
      .send({ name: 'taken', uxcAk: 'a', uxcSk: 'b' })
      .expect(409);
    expect(again.body.message).toMatch(/name/);
  });

  it('lists tenants page by page, never with secret keys or API keys', async () => {
    for (const name of ['page-1', 'page-2', 'page-3']) {
      await request(relay.url)
        .post('/v1/tenants')
        .set(admin)
        .send({ name, uxcAk: `ak-${name}`, uxcSk: `sk-${name}-secret` })
        .expect(201);
    }
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: request.Response = await request(relay.url)
        .get('/v1/tenants')
        .query({ limit: 2, ...(cursor ? { cursor } : {}) })
        .set(admin)
        .expect(200);
      expect(page.body.items.length).toBeLessThanOrEqual(2);
      for (const item of page.body.items) {
        expect(Object.keys(item).sort()).toEqual(
          ['apiKeys', 'createdAt', 'id', 'name', 'updatedAt', 'uxcAk'].sort(),
        );
        seen.push(item.name);
      }
      expect(page.text).not.toMatch(/secret|uxr_|whsec_/);
      cursor = page.body.nextCursor;
    } while (cursor);
    expect(seen).toEqual(expect.arrayContaining(['page-1', 'page-2', 'page-3']));
    expect(new Set(seen).size).toBe(seen.length);
  });

  it('updates credentials and names', async () => {
    const created = await request(relay.url)
      .post('/v1/tenants')
      .set(admin)
      .send({ name: 'to-update', uxcAk: 'old-ak', uxcSk: 'old-sk' })
      .expect(201);
    // opened once here, as a poll opens it: the change below must not be hidden by that
    const before = await relay.prisma.tenant.findUniqueOrThrow({ where: { id: created.body.id } });
    expect(relay.app.get(TenantSecrets).uxcCredential(before)).toEqual({
      ak: 'old-ak',
      sk: 'old-sk',
    });
    const updated = await request(relay.url)
      .patch(`/v1/tenants/${created.body.id}`)
      .set(admin)
      .send({ uxcAk: 'new-ak', uxcSk: 'new-sk' })
      .expect(200);
    expect(updated.body).toMatchObject({ id: created.body.id, name: 'to-update', uxcAk: 'new-ak' });
    expect(updated.text).not.toContain('new-sk');
    const row = await relay.prisma.tenant.findUniqueOrThrow({ where: { id: created.body.id } });
    expect(relay.app.get(TenantSecrets).uxcCredential(row)).toEqual({ ak: 'new-ak', sk: 'new-sk' });

    await request(relay.url)
      .patch(`/v1/tenants/${created.body.id}`)
      .set(admin)
      .send({ name: 'renamed' })
      .expect(200, /renamed/);
    const empty = await request(relay.url)
      .patch(`/v1/tenants/${created.body.id}`)
      .set(admin)
      .send({})
      .expect(400);
    expect(empty.body.message).toMatch(/name, uxcAk, uxcSk/);
    await request(relay.url)
      .patch('/v1/tenants/ten_00000000000000000000000000')
      .set(admin)
      .send({ name: 'x' })
      .expect(404);
  });

  it('adds API keys that work alongside the old ones, lists and revokes them', async () => {
    const created = await request(relay.url)
      .post('/v1/tenants')
      .set(admin)
      .send({ name: 'keys', uxcAk: 'a', uxcSk: 'b' })
      .expect(201);
    const second = await request(relay.url)
      .post(`/v1/tenants/${created.body.id}/api-keys`)
      .set(admin)
      .expect(201);
    expect(second.body.apiKey).toMatch(/^uxr_/);
    expect(second.body.apiKey).not.toBe(created.body.apiKey);
    for (const key of [created.body.apiKey, second.body.apiKey]) {
      await request(relay.url)
        .get('/v1/webhook-secret')
        .set('Authorization', `Bearer ${key}`)
        .expect(200);
    }
    const keys = await request(relay.url)
      .get(`/v1/tenants/${created.body.id}/api-keys`)
      .set(admin)
      .expect(200);
    expect(keys.body).toHaveLength(2);
    expect(keys.text).not.toContain(created.body.apiKey);
    expect(keys.text).not.toContain(second.body.apiKey);

    await request(relay.url)
      .delete(`/v1/tenants/${created.body.id}/api-keys/${second.body.id}`)
      .set(admin)
      .expect(204);
    await request(relay.url)
      .get('/v1/webhook-secret')
      .set('Authorization', `Bearer ${second.body.apiKey}`)
      .expect(401);
    await request(relay.url)
      .get('/v1/webhook-secret')
      .set('Authorization', `Bearer ${created.body.apiKey}`)
      .expect(200);
    await request(relay.url)
      .post('/v1/tenants/ten_00000000000000000000000000/api-keys')
      .set(admin)
      .expect(404);
  });

  it('answers 401 without the admin token, with a wrong one, and with a tenant key', async () => {
    const created = await request(relay.url)
      .post('/v1/tenants')
      .set(admin)
      .send({ name: 'not-admin', uxcAk: 'a', uxcSk: 'b' })
      .expect(201);
    for (const [index, auth] of [
      undefined,
      'Bearer wrong-token',
      `Bearer ${created.body.apiKey}`,
      TEST_ADMIN_TOKEN /* no Bearer */,
    ].entries()) {
      for (const make of [
        () => request(relay.url).post('/v1/tenants').send({ name: 'x', uxcAk: 'a', uxcSk: 'b' }),
        () => request(relay.url).get('/v1/tenants'),
        () => request(relay.url).patch(`/v1/tenants/${created.body.id}`).send({ name: 'y' }),
        () => request(relay.url).post(`/v1/tenants/${created.body.id}/api-keys`),
      ]) {
        const call = make();
        if (auth) call.set('Authorization', auth);
        const answer = await call;
        expect({ index, status: answer.status }).toEqual({ index, status: 401 });
      }
    }
    expect(await relay.prisma.tenant.count({ where: { name: { in: ['x', 'y'] } } })).toBe(0);
  });
});

describe('admin API switched off', () => {
  it('answers 403 saying ADMIN_TOKEN is unset', async () => {
    const relay = await createTestApp(await createTestDatabase(), { ADMIN_TOKEN: '' });
    try {
      const answer = await request(relay.url)
        .get('/v1/tenants')
        .set('Authorization', 'Bearer anything')
        .expect(403);
      expect(answer.body.message).toMatch(/admin API is off.*ADMIN_TOKEN/);
    } finally {
      await relay.close();
    }
  });
});

describe('the default tenant', () => {
  it('is created, then updated, from UXC_AK, UXC_SK and RELAY_API_KEY', async () => {
    const database = await createTestDatabase();
    const first = await createTestApp(database, {
      UXC_AK: 'env-ak',
      UXC_SK: 'env-sk-1',
      RELAY_API_KEY: 'relay-key-one-0123456789',
    });
    try {
      await request(first.url)
        .get('/v1/webhook-secret')
        .set('Authorization', 'Bearer relay-key-one-0123456789')
        .expect(200);
    } finally {
      await first.close();
    }
    const second = await createTestApp(database, {
      UXC_AK: 'env-ak-2',
      UXC_SK: 'env-sk-2',
      RELAY_API_KEY: 'relay-key-two-0123456789',
    });
    try {
      await request(second.url)
        .get('/v1/webhook-secret')
        .set('Authorization', 'Bearer relay-key-two-0123456789')
        .expect(200);
      // the environment's key was replaced, not added to
      await request(second.url)
        .get('/v1/webhook-secret')
        .set('Authorization', 'Bearer relay-key-one-0123456789')
        .expect(401);
      const tenants = await second.prisma.tenant.findMany({ where: { name: 'default' } });
      expect(tenants).toHaveLength(1);
      expect(second.app.get(TenantSecrets).uxcCredential(tenants[0])).toEqual({
        ak: 'env-ak-2',
        sk: 'env-sk-2',
      });
      expect(second.logs.text).not.toContain('relay-key-two-0123456789');
      expect(second.logs.text).not.toContain('env-sk-2');
    } finally {
      await second.close();
    }
  });

  it('in local mode is created against the simulator, its key kept under DATA_DIR and reused', async () => {
    const relay = await createTestApp(await createTestDatabase());
    const dataDir = mkdtempSync(join(tmpdir(), 'uxc-relay-local-'));
    const local = new ConfigService({
      ...relay.config.env,
      databaseUrl: undefined,
      uxcBaseUrl: undefined,
      uxcAk: undefined,
      uxcSk: undefined,
      relayApiKey: undefined,
      dataDir,
    });
    expect(local.localMode).toBe(true);
    const printed: string[] = [];
    const write = process.stdout.write.bind(process.stdout);
    process.stdout.write = ((chunk: string) => {
      printed.push(String(chunk));
      return true;
    }) as typeof process.stdout.write;
    try {
      const bootstrap = new DefaultTenant(
        relay.app.get(PrismaService),
        relay.app.get(TenantSecrets),
        local,
        new UxcEndpoint('http://127.0.0.1:9', {
          ak: SIMULATOR_DEFAULT_AK,
          sk: SIMULATOR_DEFAULT_SK,
        }),
      );
      await bootstrap.ensure();
      bootstrap.announce(relay.url);
      const file = join(dataDir, LOCAL_API_KEY_FILE);
      const key = readFileSync(file, 'utf8').trim();
      expect(statSync(file).mode & 0o777).toBe(0o600);
      expect(printed.join('')).toContain(key);
      await request(relay.url)
        .get('/v1/webhook-secret')
        .set('Authorization', `Bearer ${key}`)
        .expect(200);

      await bootstrap.ensure();
      expect(readFileSync(file, 'utf8').trim()).toBe(key);
      const tenants = await relay.prisma.tenant.findMany({
        where: { name: 'default' },
        include: { apiKeys: true },
      });
      expect(tenants).toHaveLength(1);
      expect(tenants[0].apiKeys).toHaveLength(1);
      expect(relay.app.get(TenantSecrets).uxcCredential(tenants[0])).toEqual({
        ak: SIMULATOR_DEFAULT_AK,
        sk: SIMULATOR_DEFAULT_SK,
      });
    } finally {
      process.stdout.write = write;
      await relay.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
