import { INestApplication } from '@nestjs/common';
import { DocumentBuilder, OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
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
  return { ...document, webhooks: webhooksSection() } as OpenAPIObject;
}
