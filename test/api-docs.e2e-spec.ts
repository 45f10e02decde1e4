import request from 'supertest';
import { createTestApp, TestApp } from './support/app';
import { createTestDatabase } from './support/database';

/** Every route of the contract's REST API table, and who may call it. */
const CONTRACT_ROUTES: [string, string, 'admin' | 'tenant'][] = [
  ['post', '/v1/tenants', 'admin'],
  ['get', '/v1/tenants', 'admin'],
  ['patch', '/v1/tenants/{id}', 'admin'],
  ['post', '/v1/tenants/{id}/api-keys', 'admin'],
  ['post', '/v1/subscriptions', 'tenant'],
  ['get', '/v1/subscriptions', 'tenant'],
  ['get', '/v1/subscriptions/{id}', 'tenant'],
  ['delete', '/v1/subscriptions/{id}', 'tenant'],
  ['get', '/v1/subscriptions/{id}/deliveries', 'tenant'],
  ['get', '/v1/deliveries/{id}', 'tenant'],
  ['post', '/v1/deliveries/{id}/redeliver', 'tenant'],
  ['get', '/v1/tasks/{sid}', 'tenant'],
  ['get', '/v1/tasks/{sid}/events', 'tenant'],
  ['get', '/v1/tasks', 'tenant'],
  ['get', '/v1/webhook-secret', 'tenant'],
  ['post', '/v1/webhook-secret/rotate', 'tenant'],
  ['post', '/v1/webhook-test', 'tenant'],
];

interface Operation {
  security?: Record<string, unknown>[];
  responses: Record<string, { content?: Record<string, { schema?: unknown }> }>;
  requestBody?: unknown;
  parameters?: { name: string; in: string; schema?: Record<string, unknown> }[];
}

describe('OpenAPI document', () => {
  let relay: TestApp;
  let doc: {
    paths: Record<string, Record<string, Operation>>;
    components: {
      schemas: Record<string, { properties?: Record<string, Record<string, unknown>> }>;
    };
  };

  beforeAll(async () => {
    relay = await createTestApp(await createTestDatabase());
    doc = (await request(relay.url).get('/docs-json').expect(200)).body;
  });
  afterAll(() => relay.close());

  it.each(CONTRACT_ROUTES)(
    'documents %s %s with %s auth, a success schema and 401',
    (method, path, who) => {
      const operation = doc.paths[path]?.[method];
      expect(operation).toBeDefined();
      expect(operation.security).toEqual([{ [who]: [] }]);
      expect(operation.responses['401']).toBeDefined();
      const success = Object.keys(operation.responses).find((code) => code.startsWith('2'));
      expect(success).toBeDefined();
      if (success !== '204')
        expect(operation.responses[success!].content?.['application/json']?.schema).toBeDefined();
      if (
        method === 'post' &&
        !path.includes('api-keys') &&
        !path.endsWith('rotate') &&
        !path.endsWith('redeliver')
      ) {
        expect(operation.requestBody).toBeDefined();
      }
    },
  );

  it('shows the limits a client must respect', () => {
    const create = doc.components.schemas.CreateSubscriptionDto.properties!;
    expect(create.sid).toMatchObject({
      minLength: 1,
      maxLength: 256,
      example: 'BT|7aa93d45-4b09-4dcd-9861-aaa69e619b2e',
    });
    expect(create.callbackUrl).toMatchObject({ maxLength: 2048 });
    expect(JSON.stringify(create.events)).toContain('task.succeeded');
    expect(String(create.metadata.description)).toMatch(/4096 bytes/);
    const limit = doc.paths['/v1/subscriptions'].get.parameters!.find((p) => p.name === 'limit');
    expect(limit?.schema).toMatchObject({ minimum: 1, maximum: 200, default: 50 });
    const task = doc.components.schemas.TaskResponseDto.properties!;
    expect(JSON.stringify(task.outputResult)).toContain('cos://zyb-uxc-aigc-1253445850/');
    expect(doc.paths['/v1/subscriptions/{id}'].get.responses['404']).toBeDefined();
  });
});
