import { ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';

/** dist/src/main.js, from the built bench (dist/bench/support) or from its source under jest */
export const MAIN_JS = __dirname.split(/[\\/]/).includes('dist')
  ? join(__dirname, '..', '..', 'src', 'main.js')
  : join(__dirname, '..', '..', 'dist', 'src', 'main.js');
/** Linux clock ticks per second for /proc/<pid>/stat (sysconf(_SC_CLK_TCK), 100 on every common kernel) */
const CLOCK_TICKS = 100;

export const BENCH_UXC = { ak: 'bench-ak', sk: 'bench-sk' };
export const BENCH_API_KEY = `bench_${randomBytes(12).toString('hex')}`;
export const BENCH_ENCRYPTION_KEY = randomBytes(32).toString('base64');

export interface RelayUsage {
  cpuSeconds: number;
  rssBytes: number;
  /** the kernel's high-water mark of the resident set */
  peakRssBytes: number;
}

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const port = (server.address() as { port: number }).port;
  await new Promise((done) => server.close(done));
  return port;
}

/**
 * The built relay (dist/src/main.js) as its own process, as `npm run
 * start:prod` runs it, for the default tenant BENCH_UXC / BENCH_API_KEY.
 */
export class RelayProcess {
  private log = '';
  private readonly ended: Promise<void>;

  private constructor(
    readonly child: ChildProcess,
    readonly url: string,
  ) {
    const keep = (chunk: Buffer): void => {
      // the tail is enough to explain a failure; all of it would grow without bound
      this.log = (this.log + chunk.toString('utf8')).slice(-20_000);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    this.ended = new Promise((done) => child.once('close', () => done()));
  }

  static async start(env: Record<string, string>, nodeArgs: string[] = []): Promise<RelayProcess> {
    if (!existsSync(MAIN_JS)) throw new Error(`${MAIN_JS} is missing: run npm run build first`);
    const port = await freePort();
    const inherited = Object.fromEntries(
      Object.entries(process.env).filter(
        ([key]) =>
          !/^(DATABASE_URL|UXC_|POLL|DISPATCHER|WEBHOOK|ADMIN_TOKEN|ENCRYPTION_KEY|RELAY_API_KEY|DATA_DIR|API_RATE|CALLBACK)/.test(
            key,
          ),
      ),
    );
    const child = spawn(process.execPath, [...nodeArgs, MAIN_JS], {
      env: {
        ...inherited,
        PORT: String(port),
        LOG_LEVEL: 'warn',
        ENCRYPTION_KEY: BENCH_ENCRYPTION_KEY,
        UXC_AK: BENCH_UXC.ak,
        UXC_SK: BENCH_UXC.sk,
        RELAY_API_KEY: BENCH_API_KEY,
        CALLBACK_ALLOW_PRIVATE_NETWORKS: 'true',
        API_RATE_LIMIT: '10000000',
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const relay = new RelayProcess(child, `http://127.0.0.1:${port}`);
    await relay.ready(60_000);
    return relay;
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  output(): string {
    return this.log;
  }

  private async ready(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (this.child.exitCode !== null) throw new Error(`the relay exited at start:\n${this.log}`);
      try {
        if ((await fetch(`${this.url}/health/ready`)).status === 200) return;
      } catch {
        // not listening yet
      }
      await new Promise((done) => setTimeout(done, 100));
    }
    throw new Error(`the relay was not ready within ${timeoutMs} ms:\n${this.log}`);
  }

  usage(): RelayUsage {
    return processUsage(this.pid);
  }

  async metrics(): Promise<string> {
    return (await fetch(`${this.url}/metrics`)).text();
  }

  /** SIGTERM, as an orchestrator stops it; the relay finishes what is in flight */
  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 20_000);
    await this.ended;
    clearTimeout(timer);
  }
}

export function processUsage(pid: number): RelayUsage {
  // fields after the parenthesised command name: utime and stime are the 12th and 13th
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const cpuSeconds = (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (name: string): number =>
    Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0) * 1024;
  return { cpuSeconds, rssBytes: kb('VmRSS'), peakRssBytes: kb('VmHWM') };
}

/** One value of a Prometheus text exposition (the first series of `name`). */
export function metricValue(text: string, name: string): number | null {
  const match = new RegExp(`^${name}(?:\\{[^}]*\\})? ([^\\s]+)`, 'm').exec(text);
  return match === null ? null : Number(match[1]);
}
