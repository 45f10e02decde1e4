import { ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from '../../src/database/embedded-postgres';

export const MAIN_JS = join(__dirname, '..', '..', 'dist', 'src', 'main.js');

export interface RelayProcess {
  child: ChildProcess;
  port: number;
  url: string;
  output(): string;
  /** resolves with the exit code (or signal name) once the process has ended */
  exited: Promise<number | string>;
}

/**
 * The built relay as a real child process, as `npm run start:prod` runs it: for
 * what only a whole process shows (start-up errors, signals, SIGKILL).
 */
export async function spawnRelay(env: Record<string, string>): Promise<RelayProcess> {
  if (!existsSync(MAIN_JS)) throw new Error(`${MAIN_JS} is missing: run npm run build first`);
  const port = env.PORT ? Number(env.PORT) : await freePort();
  const inherited = Object.fromEntries(
    Object.entries(process.env).filter(
      ([key]) =>
        !/^(DATABASE_URL|UXC_|POLL|DISPATCHER|WEBHOOK|ADMIN_TOKEN|ENCRYPTION_KEY|RELAY_API_KEY|DATA_DIR|TEST_)/.test(
          key,
        ),
    ),
  );
  const child = spawn(process.execPath, [MAIN_JS], {
    env: { ...inherited, PORT: String(port), LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  const exited = new Promise<number | string>((done) =>
    // 'close', not 'exit': only then has all of its output been read
    child.on('close', (code, signal) => done(code ?? signal ?? -1)),
  );
  return { child, port, url: `http://127.0.0.1:${port}`, output: () => output, exited };
}

/** Polls `url` until it answers 200, or fails after `timeoutMs`. */
export async function waitForOk(
  url: string,
  timeoutMs: number,
  relay?: RelayProcess,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let exitedEarly = false;
  void relay?.exited.then(() => (exitedEarly = true));
  while (Date.now() < deadline) {
    if (exitedEarly)
      throw new Error(`the relay exited before ${url} answered:\n${relay?.output()}`);
    try {
      const answer = await fetch(url);
      if (answer.status === 200) return;
    } catch {
      // not listening yet
    }
    await new Promise((done) => setTimeout(done, 200));
  }
  throw new Error(`${url} did not answer 200 within ${timeoutMs} ms:\n${relay?.output() ?? ''}`);
}
