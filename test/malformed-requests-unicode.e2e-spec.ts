import { connect } from 'node:net';
import request from 'supertest';
import { createTestApp, TEST_ADMIN_TOKEN, TestApp } from './support/app';
import { createTestDatabase } from './support/database';
import { createSubscription, createTenant, TenantFixture } from './support/factories';

/** The two kinds of text PostgreSQL refuses: a NUL character and half a surrogate pair. */
const BROKEN = [
  { kind: 'NUL', raw: 'BT\u0000x', inUrl: 'BT%00x' },
  // %ED%A0%80 is the UTF-8 spelling of U+D800, which UTF-8 does not allow
  { kind: 'lone surrogate', raw: 'BT\ud800x', inUrl: 'BT%ED%A0%80x' },
] as const;

type Method = 'get' | 'post' | 'patch' | 'delete';

interface Route {
  name: string;
  method: Method;
  /** `{bad}` is replaced by the broken value as it appears in a URL */
  path: string;
  /** a function of the broken value as a JavaScript string; sent as JSON */
  body?: (bad: string) => unknown;
  admin?: boolean;
}

const HOOK = 'https://hooks.example.com/uxc';

const ROUTES: Route[] = [
  // bodies: every field kind
  {
    name: 'subscription sid',
    method: 'post',
    path: '/v1/subscriptions',
    body: (bad) => ({ sid: bad, callbackUrl: HOOK }),
  },
  {
    name: 'subscription callbackUrl',
    method: 'post',
    path: '/v1/subscriptions',
    body: (bad) => ({ sid: 's', callbackUrl: `${HOOK}/${bad}` }),
  },
  {
    name: 'subscription metadata value',
    method: 'post',
    path: '/v1/subscriptions',
    body: (bad) => ({ sid: 's', callbackUrl: HOOK, metadata: { note: bad } }),
  },
  {
    name: 'subscription metadata key',
    method: 'post',
    path: '/v1/subscriptions',
    body: (bad) => ({ sid: 's', callbackUrl: HOOK, metadata: { [bad]: 1 } }),
  },
  {
    name: 'nested metadata in an array',
    method: 'post',
    path: '/v1/subscriptions',
    body: (bad) => ({ sid: 's', callbackUrl: HOOK, metadata: { a: [{ b: bad }] } }),
  },
  {
    name: 'subscription events item',
    method: 'post',
    path: '/v1/subscriptions',
    body: (bad) => ({ sid: 's', callbackUrl: HOOK, events: [bad] }),
  },
  {
    name: 'batch item sid',
    method: 'post',
    path: '/v1/subscriptions/batch',
    body: (bad) => ({ items: [{ sid: bad, callbackUrl: HOOK }] }),
  },
  {
    name: 'batch item metadata',
    method: 'post',
    path: '/v1/subscriptions/batch',
    body: (bad) => ({ items: [{ sid: 's', callbackUrl: HOOK, metadata: { x: bad } }] }),
  },
  {
    name: 'PATCH metadata',
    method: 'patch',
    path: '/v1/subscriptions/SUB_ID',
    body: (bad) => ({ metadata: { x: bad } }),
  },
  {
    name: 'webhook-test callbackUrl',
    method: 'post',
    path: '/v1/webhook-test',
    body: (bad) => ({ callbackUrl: `${HOOK}?q=${bad}` }),
  },
  {
    name: 'redeliver body',
    method: 'post',
    path: '/v1/deliveries/DELIVERY_ID/redeliver',
    body: (bad) => ({ note: bad }),
  },
  {
    name: 'tenant name',
    method: 'post',
    path: '/v1/tenants',
    admin: true,
    body: (bad) => ({ name: bad, uxcAk: 'a', uxcSk: 'b' }),
  },
  {
    name: 'tenant uxcSk',
    method: 'post',
    path: '/v1/tenants',
    admin: true,
    body: (bad) => ({ name: 'n', uxcAk: 'a', uxcSk: bad }),
  },
  {
    name: 'tenant update uxcAk',
    method: 'patch',
    path: '/v1/tenants/TENANT_ID',
    admin: true,
    body: (bad) => ({ uxcAk: bad }),
  },
  // path parameters
  { name: 'GET subscription id', method: 'get', path: '/v1/subscriptions/{bad}' },
  { name: 'DELETE subscription id', method: 'delete', path: '/v1/subscriptions/{bad}' },
  {
    name: 'PATCH subscription id',
    method: 'patch',
    path: '/v1/subscriptions/{bad}',
    body: () => ({ metadata: {} }),
  },
  { name: 'subscription deliveries id', method: 'get', path: '/v1/subscriptions/{bad}/deliveries' },
  { name: 'delivery id', method: 'get', path: '/v1/deliveries/{bad}' },
  { name: 'redeliver id', method: 'post', path: '/v1/deliveries/{bad}/redeliver' },
  { name: 'task sid', method: 'get', path: '/v1/tasks/{bad}' },
  { name: 'task events sid', method: 'get', path: '/v1/tasks/{bad}/events' },
  {
    name: 'tenant id',
    method: 'patch',
    path: '/v1/tenants/{bad}',
    admin: true,
    body: () => ({ name: 'n' }),
  },
  { name: 'tenant api-keys id', method: 'post', path: '/v1/tenants/{bad}/api-keys', admin: true },
  // query filters
  { name: 'subscriptions ?sid=', method: 'get', path: '/v1/subscriptions?sid={bad}' },
  { name: 'subscriptions ?state=', method: 'get', path: '/v1/subscriptions?state={bad}' },
  { name: 'subscriptions ?cursor=', method: 'get', path: '/v1/subscriptions?cursor={bad}' },
  { name: 'tasks ?state=', method: 'get', path: '/v1/tasks?state={bad}' },
  { name: 'tasks ?tracking=', method: 'get', path: '/v1/tasks?tracking={bad}' },
  { name: 'tasks ?include=', method: 'get', path: '/v1/tasks?include={bad}' },
  { name: 'task events ?cursor=', method: 'get', path: '/v1/tasks/existing/events?cursor={bad}' },
  {
    name: 'deliveries ?limit=',
    method: 'get',
    path: '/v1/subscriptions/SUB_ID/deliveries?limit={bad}',
  },
  { name: 'a query parameter name', method: 'get', path: '/v1/tasks?{bad}=1' },
  { name: 'tenants ?cursor=', method: 'get', path: '/v1/tenants?cursor={bad}', admin: true },
  // a path no route knows
  { name: 'an unknown path', method: 'get', path: '/v1/{bad}' },
];

const CASES = ROUTES.flatMap((route) =>
  BROKEN.map((broken) => [`${route.name}, ${broken.kind}`, route, broken] as const),
);

describe('NUL characters and broken Unicode answer 400 everywhere', () => {
  let relay: TestApp;
  let acme: TenantFixture;
  let ids: Record<string, string>;

  beforeAll(async () => {
    relay = await createTestApp(await createTestDatabase(), {
      CALLBACK_ALLOW_PRIVATE_NETWORKS: 'false',
    });
    acme = await createTenant(relay);
    const subscription = await createSubscription(relay, acme.tenant, {
      sid: 'existing',
      callbackUrl: HOOK,
    });
    ids = {
      SUB_ID: subscription.id,
      TENANT_ID: acme.tenant.id,
      DELIVERY_ID: 'msg_01jf8x0q7m3v2c9e4r5t6y7u8i',
    };
  });
  afterAll(() => relay.close());

  it.each(CASES)('%s: 400 naming the problem', async (_name, route, broken) => {
    const path = route.path
      .replace('{bad}', broken.inUrl)
      .replace(/SUB_ID|TENANT_ID|DELIVERY_ID/, (id) => ids[id]);
    const agent = request(relay.url);
    let call = agent[route.method](path).set(
      'Authorization',
      `Bearer ${route.admin ? TEST_ADMIN_TOKEN : acme.apiKey}`,
    );
    if (route.body) {
      // JSON.stringify writes a lone surrogate as the escape \ud800, as any JSON client would
      call = call
        .set('content-type', 'application/json')
        .send(JSON.stringify(route.body(broken.raw)));
    }
    const answer = await call;
    expect(answer.status).toBe(400);
    expect(typeof answer.body.message).toBe('string');
    expect(answer.body.message).toMatch(/NUL character or broken Unicode|broken %-escape/);
  });

  it('refuses a NUL in a header it reads (the HTTP parser answers 400 before the app)', async () => {
    const status = await new Promise<string>((resolve, reject) => {
      const url = new URL(relay.url);
      const socket = connect(Number(url.port), url.hostname, () =>
        socket.write(
          `GET /v1/tasks HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer a\u0000b\r\nConnection: close\r\n\r\n`,
          'latin1',
        ),
      );
      let text = '';
      socket.on('data', (chunk) => (text += chunk.toString('latin1')));
      socket.on('end', () => resolve(text.split('\r\n')[0]));
      socket.on('error', reject);
    });
    expect(status).toMatch(/^HTTP\/1\.1 400/);
  });

  it('stored nothing and logged no unhandled error', async () => {
    expect(await relay.prisma.subscription.count()).toBe(1);
    expect(await relay.prisma.tenant.count()).toBe(1);
    expect(relay.logs.text).not.toMatch(/Unhandled error/);
  });
});
