import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEmbeddedPostgres } from '../../src/database/embedded-postgres';
import { prepareTemplate } from './template-database';

/**
 * One PostgreSQL for the whole run: `DATABASE_URL` when set, otherwise an
 * embedded server in a temporary directory, stopped by the global teardown.
 */
export default async function globalSetup(): Promise<void> {
  process.env.TZ = 'UTC';
  let adminUrl = process.env.DATABASE_URL;
  if (!adminUrl) {
    const dataDir = mkdtempSync(join(tmpdir(), 'uxc-relay-test-pg-'));
    const embedded = await startEmbeddedPostgres({ dataDir, persistent: false });
    (globalThis as { __embeddedPostgres__?: unknown }).__embeddedPostgres__ = embedded;
    adminUrl = embedded.url;
  }
  process.env.TEST_ADMIN_DATABASE_URL = adminUrl;
  process.env.TEST_TEMPLATE_DATABASE = await prepareTemplate(adminUrl);
}
