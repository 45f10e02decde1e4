import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import request from 'supertest';
import {
  TASK_EVENT_TYPES,
  TaskEventPayloadInput,
  buildWebhookPayload,
} from '../src/webhooks/webhook-payload';
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
  ['patch', '/v1/subscriptions/{id}', 'tenant'],
  ['post', '/v1/subscriptions/batch', 'tenant'],
  ['get', '/v1/subscriptions/{id}/deliveries', 'tenant'],
  ['get', '/v1/deliveries', 'tenant'],
  ['get', '/v1/deliveries/{id}', 'tenant'],
  ['post', '/v1/deliveries/{id}/redeliver', 'tenant'],
  ['get', '/v1/tasks/{sid}', 'tenant'],
  ['get', '/v1/tasks/{sid}/events', 'tenant'],
  ['get', '/v1/tasks', 'tenant'],
  ['get', '/v1/webhook-secret', 'tenant'],
  ['post', '/v1/webhook-secret/rotate', 'tenant'],
  ['post', '/v1/webhook-test', 'tenant'],
  ['post', '/v1/stream-tokens', 'tenant'],
];

/** Routes that answer server-sent events rather than JSON. */
const STREAM_ROUTES = ['/v1/tasks/{sid}/stream', '/v1/events/stream'];

interface Operation {
  security?: Record<string, unknown>[];
  responses: Record<string, { content?: Record<string, { schema?: unknown }> }>;
  requestBody?: unknown;
  parameters?: { name: string; in: string; schema?: Record<string, unknown> }[];
}

describe('OpenAPI document', () => {
  let relay: TestApp;
  let doc: {
    openapi: string;
    info: { version: string };
    paths: Record<string, Record<string, Operation>>;
    webhooks: Record<string, { post: Operation }>;
    components: {
      schemas: Record<string, { properties?: Record<string, Record<string, unknown>> }>;
      securitySchemes: Record<string, { scheme: string; bearerFormat?: string }>;
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

  it("documents the console's health summary for a tenant key or the admin token", () => {
    const operation = doc.paths['/v1/ops/summary']?.get;
    expect(operation.security).toEqual(expect.arrayContaining([{ tenant: [] }, { admin: [] }]));
    expect(operation.responses['401']).toBeDefined();
    expect(operation.responses['200'].content?.['application/json']?.schema).toBeDefined();
  });

  it.each(STREAM_ROUTES)(
    'documents GET %s as text/event-stream, with Last-Event-ID and ?token=',
    (path) => {
      const operation = doc.paths[path]?.get;
      expect(operation).toBeDefined();
      expect(operation.security).toEqual([{ tenant: [] }]);
      expect(operation.responses['401']).toBeDefined();
      expect(operation.responses['200'].content?.['text/event-stream']).toBeDefined();
      const parameters = (operation.parameters ?? []).map((p) => `${p.in}:${p.name}`);
      expect(parameters).toEqual(
        expect.arrayContaining(['header:Last-Event-ID', 'query:token', 'query:lastEventId']),
      );
    },
  );

  it('documents the long poll on GET /v1/tasks/{sid}', () => {
    const parameters = doc.paths['/v1/tasks/{sid}'].get.parameters ?? [];
    expect(parameters.find((p) => p.name === 'wait')?.schema).toMatchObject({ maximum: 60 });
    expect(parameters.map((p) => p.name)).toEqual(expect.arrayContaining(['after', 'Prefer']));
  });

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

describe('OpenAPI document: webhooks, version, auth schemes, operations routes', () => {
  let relay: TestApp;
  // a JSON document walked by path: any is what it is
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  type Json = any;
  let doc: Json;

  beforeAll(async () => {
    relay = await createTestApp(await createTestDatabase());
    doc = (await request(relay.url).get('/docs-json').expect(200)).body;
  });
  afterAll(() => relay.close());

  /** Follows `$ref`s and `allOf`s to the properties a generator would see. */
  function propertiesOf(schema: Json): Record<string, Json> {
    if (schema.$ref) return propertiesOf(doc.components.schemas[schema.$ref.split('/').pop()]);
    if (schema.allOf) return Object.assign({}, ...schema.allOf.map(propertiesOf));
    return schema.properties ?? {};
  }

  it('documents the body of every event type under webhooks, as sent', () => {
    expect(doc.openapi).toMatch(/^3\.1\./);
    const input: TaskEventPayloadInput = {
      type: 'task.succeeded',
      observedAt: new Date(),
      subscriptionId: 'sub_x',
      sid: 's',
      sequence: 1,
      state: 'succeeded',
      previousState: 'running',
      status: 1,
      previousStatus: 200,
      progress: 1,
      queueNum: 0,
      queueTotal: 0,
      costTime: 1,
      message: 'ok',
      outputResult: [],
      metadata: {},
      includePhotoParameters: true,
      photoParameters: {},
    };
    const sent = buildWebhookPayload(input);
    // a message to an endpoint names it in place of the subscription
    const toEndpoint = buildWebhookPayload({
      ...input,
      subscriptionId: undefined,
      endpointId: 'ep_x',
    });
    for (const type of [...TASK_EVENT_TYPES, 'webhook.test']) {
      const operation = doc.webhooks[type]?.post;
      expect(operation).toBeDefined();
      const schema = operation.requestBody.content['application/json'].schema;
      const properties = propertiesOf(schema);
      expect(Object.keys(properties).sort()).toEqual(['data', 'timestamp', 'type']);
      expect(schema.allOf[1].properties.type.const).toBe(type);
      const headers = operation.parameters.map((p: { name: string }) => p.name);
      expect(headers).toEqual(['webhook-id', 'webhook-timestamp', 'webhook-signature']);
      if (type !== 'webhook.test') {
        expect(Object.keys(propertiesOf(properties.data)).sort()).toEqual(
          [...new Set([...Object.keys(sent.data), ...Object.keys(toEndpoint.data)])].sort(),
        );
      }
    }
  });

  it('takes its version from package.json and calls the bearer keys opaque, not JWT', () => {
    const manifest = JSON.parse(readFileSync(join(__dirname, '..', 'package.json'), 'utf8'));
    expect(doc.info.version).toBe(manifest.version);
    for (const name of ['tenant', 'admin', 'metrics']) {
      const scheme = doc.components.securitySchemes[name];
      expect(scheme).toMatchObject({ type: 'http', scheme: 'bearer' });
      expect(JSON.stringify(scheme)).not.toMatch(/JWT/i);
    }
  });

  it('documents /health/live, /health/ready and /metrics', () => {
    expect(doc.paths['/health/live'].get.responses['200']).toBeDefined();
    expect(doc.paths['/health/ready'].get.responses['503']).toBeDefined();
    const metrics = doc.paths['/metrics'].get;
    expect(metrics.responses['200'].content['text/plain']).toBeDefined();
    expect(metrics.security).toEqual([{ metrics: [] }]);
  });
});

describe('METRICS_TOKEN', () => {
  it('is not needed when unset, and protects /metrics when set', async () => {
    const open = await createTestApp(await createTestDatabase());
    try {
      await request(open.url).get('/metrics').expect(200);
    } finally {
      await open.close();
    }
    const relay = await createTestApp(await createTestDatabase(), {
      METRICS_TOKEN: 'scrape-token-0123456789',
    });
    try {
      await request(relay.url).get('/metrics').expect(401);
      await request(relay.url).get('/metrics').set('Authorization', 'Bearer wrong').expect(401);
      const answer = await request(relay.url)
        .get('/metrics')
        .set('Authorization', 'Bearer scrape-token-0123456789')
        .expect(200);
      expect(answer.text).toContain('process_cpu_user_seconds_total');
      await request(relay.url).get('/health/live').expect(200);
      expect(relay.logs.text).not.toContain('scrape-token-0123456789');
    } finally {
      await relay.close();
    }
  });
});
