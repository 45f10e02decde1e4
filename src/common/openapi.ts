import { INestApplication } from '@nestjs/common';
import { DocumentBuilder, OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  IDEMPOTENCY_HEADER,
  IDEMPOTENCY_KEY_MAX_LENGTH,
  REPLAYED_HEADER,
} from '../idempotency/idempotency-key';
import { projectRoot } from './project-root';
import { WEBHOOK_DOC_MODELS, webhooksSection } from './webhook-docs';

function packageVersion(): string {
  const manifest = JSON.parse(readFileSync(join(projectRoot(), 'package.json'), 'utf8')) as {
    version: string;
  };
  return manifest.version;
}

/**
 * The OpenAPI document of every route, the webhook bodies (`webhooks`, so a
 * receiver can generate its types) and the version of this build. OpenAPI
 * 3.1, the first version with a `webhooks` section.
 */
export function buildOpenApiDocument(app: INestApplication): OpenAPIObject {
  const config = new DocumentBuilder()
    .setTitle('uxc-relay')
    .setDescription(
      'Turns polling of UXC tasks into signed webhooks. Tenant routes take `Authorization: Bearer <API key>`; admin routes take `Authorization: Bearer <ADMIN_TOKEN>`. The webhooks the relay sends are described under `webhooks`.',
    )
    .setVersion(packageVersion())
    .setOpenAPIVersion('3.1.0')
    .addBearerAuth(
      {
        type: 'http',
        scheme: 'bearer',
        bearerFormat: 'opaque API key (uxr_…)',
        description: 'a tenant API key, as `POST /v1/tenants` or `RELAY_API_KEY` gave it',
      },
      'tenant',
    )
    .addBearerAuth(
      {
        type: 'http',
        scheme: 'bearer',
        bearerFormat: 'opaque token',
        description: 'the ADMIN_TOKEN',
      },
      'admin',
    )
    .addBearerAuth(
      {
        type: 'http',
        scheme: 'bearer',
        bearerFormat: 'opaque token',
        description: 'the METRICS_TOKEN, when one is set',
      },
      'metrics',
    )
    .build();
  const document = SwaggerModule.createDocument(app, config, { extraModels: WEBHOOK_DOC_MODELS });
  withIdempotencyKeys(document);
  return { ...document, webhooks: webhooksSection() } as OpenAPIObject;
}

/**
 * Every POST takes `Idempotency-Key` (each POST route carries `@Idempotent()`,
 * which a test checks), so the header and its answers are added to every POST
 * operation here, routes added later included, rather than on each controller.
 */
function withIdempotencyKeys(document: OpenAPIObject): void {
  document.components ??= {};
  document.components.parameters = {
    ...document.components.parameters,
    IdempotencyKey: {
      name: IDEMPOTENCY_HEADER,
      in: 'header',
      required: false,
      description: `Makes a retried POST safe, as Stripe does: the first request with a key runs, and for 24 h the same key with the same method, path and body answers that request's stored status and body (with \`${REPLAYED_HEADER}: true\`) without running it again. The same key with another request answers 422; while the first request is still running, 409. Errors are not kept: a request that failed may be retried with its key. Keys are per caller (tenant or admin token), 1–${IDEMPOTENCY_KEY_MAX_LENGTH} printable ASCII characters (a UUID is a good key).`,
      schema: { type: 'string', maxLength: IDEMPOTENCY_KEY_MAX_LENGTH },
    },
  };
  const error = { $ref: '#/components/schemas/ErrorResponseDto' };
  for (const item of Object.values(document.paths)) {
    const post = item.post;
    if (!post) continue;
    post.parameters = [
      ...(post.parameters ?? []),
      { $ref: '#/components/parameters/IdempotencyKey' },
    ];
    post.responses['409'] ??= {
      description: `a request with the same ${IDEMPOTENCY_HEADER} is still being processed`,
      content: { 'application/json': { schema: error } },
    };
    post.responses['422'] = {
      description: `the ${IDEMPOTENCY_HEADER} was already used with a different request`,
      content: { 'application/json': { schema: error } },
    };
  }
}
