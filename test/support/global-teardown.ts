import { rmSync } from 'node:fs';
import { dirname } from 'node:path';
import type { EmbeddedDatabase } from '../../src/database/embedded-postgres';

export default async function globalTeardown(): Promise<void> {
  const embedded = (globalThis as { __embeddedPostgres__?: EmbeddedDatabase }).__embeddedPostgres__;
  if (!embedded) return;
  await embedded.stop();
  rmSync(dirname(embedded.dataDir), { recursive: true, force: true });
}
