import request from 'supertest';
import { createTestApp, TEST_ADMIN_TOKEN, TestApp } from './support/app';
import { createTestDatabase } from './support/database';
import { createSubscription, createTenant, TenantFixture } from './support/factories';

interface Case {
  name: string;
  method?: 'get' | 'post' | 'patch' | 'delete';
  path?: string;
  /** an object is sent as JSON; a string is sent as-is with content-type application/json */
  body?: unknown;
  admin?: boolean;
  status?: number;
  /** sent with a string body; application/json by default */
  contentType?: string;
  /** what the message must say: the field, or the reason */
  message: RegExp;
}

const sub = (body: Record<string, unknown>) => ({
  sid: 'BT|7aa93d45-4b09-4dcd-9861-aaa69e619b2e',
  callbackUrl: 'https://hooks.example.com/uxc',
  ...body,
});
const url = (callbackUrl: string): Partial<Case> => ({ body: sub({ callbackUrl }) });
const cursorOf = (text: string) => Buffer.from(text).toString('base64url');

const CASES: Case[] = [
  // wrong types and missing fields
  {
    name: 'missing sid',
    body: { callbackUrl: 'https://hooks.example.com/uxc' },
    message: /^sid is required$/,
  },
  { name: 'missing callbackUrl', body: { sid: 'x' }, message: /^callbackUrl is required$/ },
  { name: 'empty body', body: {}, message: /^sid is required; callbackUrl is required$/ },
  { name: 'sid blank', body: sub({ sid: '   ' }), message: /^sid must not be blank$/ },
  {
    name: 'sid of tabs and newlines',
    body: sub({ sid: '\t\n ' }),
    message: /^sid must not be blank$/,
  },
  {
    name: 'blank sid in a path',
    method: 'get',
    path: '/v1/tasks/%20%20',
    message: /^sid must not be blank$/,
  },
  {
    name: 'a body that is not JSON',
    body: 'sid=x&callbackUrl=https://hooks.example.com/uxc',
    contentType: 'application/x-www-form-urlencoded',
    status: 415,
    message: /^request body must be JSON/,
  },
  {
    name: 'a text body',
    body: 'hello',
    contentType: 'text/plain',
    status: 415,
    message: /content-type: application\/json/,
  },
  { name: 'sid as number', body: sub({ sid: 42 }), message: /^sid must be a string/ },
  { name: 'sid empty', body: sub({ sid: '' }), message: /^sid must be longer/ },
  {
    name: 'sid 257 characters',
    body: sub({ sid: 's'.repeat(257) }),
    message: /^sid must be shorter/,
  },
  { name: 'sid as object', body: sub({ sid: { $ne: 1 } }), message: /^sid must be a string/ },
  {
    name: 'callbackUrl as number',
    body: sub({ callbackUrl: 80 }),
    message: /^callbackUrl must be a string/,
  },
  {
    name: 'callbackUrl 2049 characters',
    ...url(`https://hooks.example.com/${'a'.repeat(2049 - 26)}`),
    message: /^callbackUrl must be shorter/,
  },
  {
    name: 'callbackUrl not a URL',
    ...url('not a url'),
    message: /callbackUrl must be an absolute http or https URL/,
  },
  {
    name: 'callbackUrl ftp',
    ...url('ftp://hooks.example.com/x'),
    message: /callbackUrl must use http or https/,
  },
  { name: 'callbackUrl javascript:', ...url('javascript:alert(1)'), message: /callbackUrl/ },
  {
    name: 'callbackUrl with user-info',
    ...url('https://user:pw@hooks.example.com/'),
    message: /callbackUrl must not contain a user name/,
  },
  // every spelling of loopback, private, link-local and metadata addresses
  { name: 'localhost', ...url('http://localhost/hook'), message: /callbackUrl/ },
  { name: 'localhost with port', ...url('http://localhost:3000/hook'), message: /callbackUrl/ },
  { name: 'sub.localhost', ...url('http://api.localhost/hook'), message: /callbackUrl/ },
  { name: '127.0.0.1', ...url('http://127.0.0.1/hook'), message: /callbackUrl/ },
  { name: '127.1 short form', ...url('http://127.1/hook'), message: /callbackUrl/ },
  { name: '0.0.0.0', ...url('http://0.0.0.0/hook'), message: /callbackUrl/ },
  { name: '[::1]', ...url('http://[::1]/hook'), message: /callbackUrl/ },
  { name: '[::]', ...url('http://[::]/hook'), message: /callbackUrl/ },
  { name: 'decimal IPv4', ...url('http://2130706433/hook'), message: /callbackUrl/ },
  { name: 'octal IPv4', ...url('http://0177.0.0.1/hook'), message: /callbackUrl/ },
  { name: 'hex IPv4', ...url('http://0x7f.0x0.0x0.0x1/hook'), message: /callbackUrl/ },
  {
    name: 'IPv4-mapped IPv6 dotted',
    ...url('http://[::ffff:127.0.0.1]/hook'),
    message: /callbackUrl/,
  },
  { name: 'IPv4-mapped IPv6 hex', ...url('http://[::ffff:7f00:1]/hook'), message: /callbackUrl/ },
  { name: '10/8 private', ...url('http://10.1.2.3/hook'), message: /callbackUrl/ },
  { name: '192.168/16 private', ...url('https://192.168.0.10/hook'), message: /callbackUrl/ },
  { name: '172.16/12 private', ...url('http://172.20.0.1/hook'), message: /callbackUrl/ },
  {
    name: 'cloud metadata',
    ...url('http://169.254.169.254/latest/meta-data/'),
    message: /callbackUrl/,
  },
  {
    name: 'metadata decimal',
    ...url('http://2852039166/latest/meta-data/'),
    message: /callbackUrl/,
  },
  {
    name: 'metadata host name',
    ...url('http://metadata.google.internal/computeMetadata/v1/'),
    message: /callbackUrl/,
  },
  { name: 'link-local IPv6', ...url('http://[fe80::1]/hook'), message: /callbackUrl/ },
  { name: 'unique-local IPv6', ...url('http://[fd00::1]/hook'), message: /callbackUrl/ },
  // events
  {
    name: 'events not an array',
    body: sub({ events: 'task.succeeded' }),
    message: /^events must be an array/,
  },
  { name: 'events empty', body: sub({ events: [] }), message: /^events should not be empty/ },
  {
    name: 'events unknown type',
    body: sub({ events: ['task.bogus'] }),
    message: /^events must hold only task\.queued/,
  },
  {
    name: 'events repeated',
    body: sub({ events: ['task.failed', 'task.failed'] }),
    message: /^events.*unique/,
  },
  { name: 'events of numbers', body: sub({ events: [1] }), message: /^events must hold only/ },
  // metadata
  {
    name: 'metadata array',
    body: sub({ metadata: [1, 2] }),
    message: /^metadata must be a JSON object/,
  },
  {
    name: 'metadata null',
    body: sub({ metadata: null }),
    message: /^metadata must be a JSON object/,
  },
  {
    name: 'metadata string',
    body: sub({ metadata: 'x' }),
    message: /^metadata must be a JSON object/,
  },
  {
    name: 'metadata over 4 KB',
    body: sub({ metadata: { blob: 'x'.repeat(4100) } }),
    message: /^metadata must be at most 4096 bytes/,
  },
  {
    name: 'metadata multi-byte over 4 KB',
    body: sub({ metadata: { blob: '画'.repeat(1400) } }),
    message: /^metadata must be at most 4096 bytes/,
  },
  // prototype pollution, sent as raw JSON so the keys really are own keys
  {
    name: '__proto__ in metadata',
    body: '{"sid":"p","callbackUrl":"https://hooks.example.com/uxc","metadata":{"__proto__":{"polluted":true}}}',
    message: /metadata\.__proto__/,
  },
  {
    name: 'nested constructor.prototype in metadata',
    body: '{"sid":"p","callbackUrl":"https://hooks.example.com/uxc","metadata":{"a":{"constructor":{"prototype":{"polluted":true}}}}}',
    message: /metadata\.a\.constructor/,
  },
  {
    name: 'prototype in metadata',
    body: '{"sid":"p","callbackUrl":"https://hooks.example.com/uxc","metadata":{"prototype":1}}',
    message: /metadata\.prototype/,
  },
  {
    name: 'top-level __proto__',
    body: '{"sid":"p","callbackUrl":"https://hooks.example.com/uxc","__proto__":{"polluted":true}}',
    message: /__proto__/,
  },
  {
    name: 'constructor inside events',
    body: '{"sid":"p","callbackUrl":"https://hooks.example.com/uxc","events":[{"constructor":{}}]}',
    message: /events\.0\.constructor/,
  },
  {
    name: '__proto__ in a tenant',
    path: '/v1/tenants',
    admin: true,
    body: '{"name":"p","uxcAk":"a","uxcSk":"b","__proto__":{"isAdmin":true}}',
    message: /__proto__/,
  },
  // other fields, unknown fields, broken bodies
  {
    name: 'includePhotoParameters as string',
    body: sub({ includePhotoParameters: 'yes' }),
    message: /^includePhotoParameters must be a boolean/,
  },
  {
    name: 'unknown field',
    body: sub({ tenantId: 'ten_other' }),
    message: /property tenantId should not exist/,
  },
  {
    name: 'state is not settable',
    body: sub({ state: 'canceled' }),
    message: /property state should not exist/,
  },
  { name: 'broken JSON', body: '{"sid": "x", ', message: /not valid JSON/ },
  {
    name: 'JSON array body',
    body: '[{"sid":"x","callbackUrl":"https://hooks.example.com/uxc"}]',
    message: /^request body must be a JSON object/,
  },
  { name: 'JSON string body', body: '"just a string"', message: /not valid JSON/ },
  {
    name: 'body over 1 MB',
    body: sub({ metadata: { blob: 'x'.repeat(1_100_000) } }),
    status: 413,
    message: /larger than 1mb/,
  },
  // lists: limits and cursors
  {
    name: 'limit 0',
    method: 'get',
    path: '/v1/subscriptions?limit=0',
    message: /^limit must be a whole number from 1 to 200/,
  },
  {
    name: 'limit 201',
    method: 'get',
    path: '/v1/subscriptions?limit=201',
    message: /^limit must be a whole number from 1 to 200/,
  },
  {
    name: 'limit not a number',
    method: 'get',
    path: '/v1/subscriptions?limit=ten',
    message: /^limit/,
  },
  { name: 'limit fractional', method: 'get', path: '/v1/tasks?limit=1.5', message: /^limit/ },
  { name: 'limit twice', method: 'get', path: '/v1/tasks?limit=1&limit=2', message: /^limit/ },
  {
    name: 'cursor garbage',
    method: 'get',
    path: '/v1/subscriptions?cursor=!!!',
    message: /^cursor/,
  },
  {
    name: 'cursor of a made-up id',
    method: 'get',
    path: `/v1/subscriptions?cursor=${cursorOf('sub_x')}`,
    message: /^cursor/,
  },
  {
    name: 'cursor from another list',
    method: 'get',
    path: `/v1/subscriptions?cursor=${cursorOf('task_01jf8x0q7m3v2c9e4r5t6y7u8a')}`,
    message: /^cursor/,
  },
  {
    name: 'cursor SQL',
    method: 'get',
    path: `/v1/tasks?cursor=${cursorOf("' OR 1=1 --")}`,
    message: /^cursor/,
  },
  {
    name: 'event cursor not a sequence',
    method: 'get',
    path: `/v1/tasks/existing/events?cursor=${cursorOf('-1')}`,
    message: /^cursor/,
  },
  {
    name: 'cursor too long',
    method: 'get',
    path: `/v1/tenants?cursor=${'a'.repeat(500)}`,
    admin: true,
    message: /^cursor/,
  },
  {
    name: 'unknown list state',
    method: 'get',
    path: '/v1/subscriptions?state=paused',
    message: /^state must be one of active, canceled, disabled, done/,
  },
  {
    name: 'unknown tracking',
    method: 'get',
    path: '/v1/tasks?tracking=forever',
    message: /^tracking must be one of/,
  },
  {
    name: 'unknown query parameter',
    method: 'get',
    path: '/v1/tasks?tenantId=ten_other',
    message: /property tenantId should not exist/,
  },
  // tenants (admin) and the test endpoint
  {
    name: 'tenant without uxcSk',
    path: '/v1/tenants',
    admin: true,
    body: { name: 'n', uxcAk: 'a' },
    message: /^uxcSk/,
  },
  {
    name: 'tenant name too long',
    path: '/v1/tenants',
    admin: true,
    body: { name: 'n'.repeat(101), uxcAk: 'a', uxcSk: 'b' },
    message: /^name must be shorter/,
  },
  {
    name: 'tenant name blank',
    path: '/v1/tenants',
    admin: true,
    body: { name: '   ', uxcAk: 'a', uxcSk: 'b' },
    message: /^name must not be blank/,
  },
  {
    name: 'tenant uxcAk as number',
    path: '/v1/tenants',
    admin: true,
    body: { name: 'n', uxcAk: 1, uxcSk: 'b' },
    message: /^uxcAk must be a string/,
  },
  {
    name: 'tenant update with unknown field',
    method: 'patch',
    path: '/v1/tenants/TENANT_ID',
    admin: true,
    body: { webhookSecretEnc: 'x' },
    message: /property webhookSecretEnc should not exist/,
  },
  {
    name: 'webhook-test without callbackUrl',
    path: '/v1/webhook-test',
    body: {},
    message: /^callbackUrl/,
  },
  {
    name: 'webhook-test to localhost',
    path: '/v1/webhook-test',
    body: { callbackUrl: 'http://localhost:1/' },
    message: /callbackUrl/,
  },
  {
    name: 'webhook-test to metadata',
    path: '/v1/webhook-test',
    body: { callbackUrl: 'http://[::ffff:169.254.169.254]/' },
    message: /callbackUrl/,
  },
];

describe('malformed requests (CALLBACK_ALLOW_PRIVATE_NETWORKS=false)', () => {
  let relay: TestApp;
  let acme: TenantFixture;

  beforeAll(async () => {
    relay = await createTestApp(await createTestDatabase(), {
      CALLBACK_ALLOW_PRIVATE_NETWORKS: 'false',
    });
    acme = await createTenant(relay);
    await createSubscription(relay, acme.tenant, {
      sid: 'existing',
      callbackUrl: 'https://hooks.example.com/uxc',
    });
  });
  afterAll(() => relay.close());

  /** Every stored row but the key's last use, which a valid key rightly updates. */
  async function snapshot(): Promise<string> {
    const rows = await relay.prisma.$queryRaw<{ t: string }[]>`
      SELECT concat_ws('|',
        (SELECT string_agg(t::text, ',' ORDER BY id) FROM tenants t),
        (SELECT string_agg(concat_ws(':', id, tenant_id, hash, prefix), ',' ORDER BY id) FROM api_keys),
        (SELECT string_agg(t::text, ',' ORDER BY id) FROM tasks t),
        (SELECT string_agg(e::text, ',' ORDER BY id) FROM task_events e),
        (SELECT string_agg(s::text, ',' ORDER BY id) FROM subscriptions s),
        (SELECT string_agg(d::text, ',' ORDER BY id) FROM deliveries d)
      ) AS t`;
    return rows[0].t;
  }

  it('has at least 40 cases', () => {
    expect(CASES.length).toBeGreaterThanOrEqual(40);
  });

  it.each(CASES.map((c) => [c.name, c] as const))(
    '%s: a useful 4xx, nothing stored',
    async (_name, c) => {
      const before = await snapshot();
      const path = (c.path ?? '/v1/subscriptions').replace('TENANT_ID', acme.tenant.id);
      const agent = request(relay.url);
      const method = c.method ?? 'post';
      let call = agent[method](path).set(
        'Authorization',
        `Bearer ${c.admin ? TEST_ADMIN_TOKEN : acme.apiKey}`,
      );
      if (typeof c.body === 'string')
        call = call.set('content-type', c.contentType ?? 'application/json').send(c.body);
      else if (c.body !== undefined) call = call.send(c.body as object);
      const answer = await call;

      expect(answer.status).toBe(c.status ?? 400);
      expect(typeof answer.body.message).toBe('string');
      const messages: string[] = [
        answer.body.message,
        ...(answer.body.errors ?? []).map((e: { message: string }) => e.message),
      ];
      expect(messages.some((message) => c.message.test(message))).toBe(true);
      expect(await snapshot()).toBe(before);
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
      expect(({} as Record<string, unknown>).isAdmin).toBeUndefined();
    },
  );

  it.each([
    ['put', '/v1/subscriptions', 'GET, HEAD, POST'],
    ['post', '/v1/subscriptions/sub_01jf8x0q7m3v2c9e4r5t6y7u8i', 'DELETE, GET, HEAD, PATCH'],
    ['delete', '/v1/tasks/some%7Csid', 'GET, HEAD'],
    ['get', '/v1/webhook-test', 'POST'],
    ['patch', '/v1/deliveries/msg_01jf8x0q7m3v2c9e4r5t6y7u8i/redeliver', 'POST'],
  ] as const)('%s %s: 405 with Allow: %s', async (method, path, allow) => {
    const agent = request(relay.url);
    const answer = await agent[method](path).set('Authorization', `Bearer ${acme.apiKey}`);
    expect(answer.status).toBe(405);
    expect(answer.headers.allow).toBe(allow);
    expect(answer.body.message).toMatch(new RegExp(`^${method.toUpperCase()} is not allowed`));
  });

  it('answers 404 for a path no route knows, whatever the method', async () => {
    for (const method of ['get', 'post'] as const) {
      const agent = request(relay.url);
      await agent[method]('/v1/nothing-here')
        .set('Authorization', `Bearer ${acme.apiKey}`)
        .expect(404);
    }
  });

  it('logged no unhandled error', () => {
    expect(relay.logs.text).not.toMatch(/Unhandled error/);
  });
});
