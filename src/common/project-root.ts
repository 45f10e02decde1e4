import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** The folder holding package.json, from the sources as from the build in dist/. */
export function projectRoot(from: string = __dirname): string {
  let dir = from;
  while (!existsSync(join(dir, 'package.json')) || !existsSync(join(dir, 'prisma'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`no project root above ${from}`);
    dir = parent;
  }
  return dir;
}
