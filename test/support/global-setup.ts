import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEmbeddedPostgres } from '../../src/database/embedded-postgres';
import globalTeardown from './global-teardown';
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
    try {
      const embedded = await startEmbeddedPostgres({ dataDir, persistent: false });
      (globalThis as { __embeddedPostgres__?: unknown }).__embeddedPostgres__ = embedded;
      adminUrl = embedded.url;
    } catch (error) {
      // jest runs no teardown after a failed setup
      rmSync(dataDir, { recursive: true, force: true });
      throw error;
    }
  }
  process.env.TEST_ADMIN_DATABASE_URL = adminUrl;
  try {
    process.env.TEST_TEMPLATE_DATABASE = await prepareTemplate(adminUrl);
  } catch (error) {
    await globalTeardown();
    throw error;
  }
}
