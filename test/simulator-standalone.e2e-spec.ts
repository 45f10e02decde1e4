import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from '../src/database/embedded-postgres';
import { SIMULATOR_DEFAULT_AK, SIMULATOR_DEFAULT_SK } from '../src/simulator/simulator.constants';

const STANDALONE_JS = join(__dirname, '..', 'dist', 'src', 'simulator', 'standalone.js');
const FIXTURE = JSON.parse(
  readFileSync(join(__dirname, 'fixtures', 'uxc', 'task-get.success.json'), 'utf8'),
) as { data: Record<string, unknown> };

/** The shape of a JSON value: its keys and the type of each, not the values. */
function shape(value: unknown): unknown {
  if (Array.isArray(value)) return value.length > 0 ? [shape(value[0])] : [];
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((key) => [key, shape((value as Record<string, unknown>)[key])]),
    );
  }
  return typeof value;
}

describe('npm run simulator', () => {
  it('answers task/get like UXC: the fixture shape with the right cookies, an errNo without', async () => {
    const port = await freePort();
    const child = spawn(process.execPath, [STANDALONE_JS], {
      env: { PATH: process.env.PATH, SIMULATOR_PORT: String(port) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    try {
      await new Promise<void>((ready, fail) => {
        child.stdout.on('data', (chunk: Buffer) => {
          if (chunk.toString().includes('listening')) ready();
        });
        child.on('exit', (code) => fail(new Error(`the simulator exited with ${code}`)));
      });
      const ask = (cookie: string) =>
        fetch(`http://127.0.0.1:${port}/api/dispatch/task/get`, {
          method: 'POST',
          headers: { cookie, 'content-type': 'application/json' },
          body: JSON.stringify({ sid: 'BT|standalone-1' }),
        });

      const good = await ask(`ak=${SIMULATOR_DEFAULT_AK}; sk=${SIMULATOR_DEFAULT_SK}`);
      expect(good.status).toBe(200);
      const body = (await good.json()) as { errNo: number; errMsg: string; data: unknown };
      expect(body.errNo).toBe(0);
      expect(body.errMsg).toBe('succ');
      // a queued task: the same keys as the fixture, each of the same type
      const { photoParameters: _photo, outputResult: _output, ...expected } = FIXTURE.data;
      const { photoParameters: _p, outputResult, ...actual } = body.data as Record<string, unknown>;
      expect(shape(actual)).toEqual(shape(expected));
      expect(Array.isArray(outputResult)).toBe(true);

      const wrong = await ask(`ak=${SIMULATOR_DEFAULT_AK}; sk=not-the-secret`);
      expect(wrong.status).toBe(200);
      const refused = (await wrong.json()) as { errNo: number };
      expect(refused.errNo).not.toBe(0);
    } finally {
      child.kill('SIGTERM');
    }
  });
});
