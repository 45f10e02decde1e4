import { accessSync, constants, existsSync, mkdirSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { EnvError } from './env';

/**
 * Creates DATA_DIR (and the folders above it) one level at a time, or stops
 * the start with a line naming what is wrong. Node's recursive mkdir spins for
 * ever on a path it cannot create under a pseudo file system (`/proc/nope`).
 */
export function ensureDataDir(dataDir: string): string {
  const absolute = resolve(dataDir);
  const missing: string[] = [];
  let existing = absolute;
  while (!existsSync(existing)) {
    missing.unshift(existing);
    existing = dirname(existing);
  }
  const fail = (why: string): never => {
    throw new EnvError([`DATA_DIR="${dataDir}" cannot be used: ${why}`]);
  };
  if (!statSync(existing).isDirectory()) fail(`${existing} is not a folder`);
  for (const dir of missing) {
    try {
      mkdirSync(dir, { mode: 0o755 });
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== 'EEXIST') fail(`${dir} cannot be created (${code})`);
    }
  }
  try {
    accessSync(absolute, constants.W_OK | constants.X_OK);
  } catch {
    fail(`${absolute} is not writable by this user`);
  }
  return absolute;
}
