import 'reflect-metadata';
import { writeFileSync } from 'node:fs';
import { NestFactory } from '@nestjs/core';
import { AppModule } from '../app.module';
import { buildOpenApiDocument } from '../common/openapi';

/**
 * Writes the OpenAPI document (what `/docs-json` serves) to the file named by
 * the first argument, without a database or a listening server: Nest's preview
 * mode reads the routes and their decorators without creating any provider.
 * The console's typed client is generated from it at build.
 */
async function main(): Promise<void> {
  const out = process.argv[2];
  if (!out) throw new Error('usage: openapi-dump <file.json>');
  const app = await NestFactory.create(AppModule, { preview: true, logger: false });
  writeFileSync(out, JSON.stringify(buildOpenApiDocument(app), null, 2) + '\n');
  await app.close();
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
