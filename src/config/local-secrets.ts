import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ensureDataDir } from './data-dir';

/**
 * In embedded mode the relay keeps its own encryption key beside its data, so a
 * newcomer needs no setup and a restart can still decrypt what it stored.
 */
export function ensureLocalEncryptionKey(dataDir: string): Buffer {
  ensureDataDir(dataDir);
  const file = join(dataDir, 'encryption.key');
  if (existsSync(file)) {
    const key = Buffer.from(readFileSync(file, 'utf8').trim(), 'base64');
    if (key.length !== 32) throw new Error(`${file} does not hold a 32-byte base64 key`);
    return key;
  }
  const key = randomBytes(32);
  writeFileSync(file, key.toString('base64') + '\n', { mode: 0o600 });
  return key;
}
