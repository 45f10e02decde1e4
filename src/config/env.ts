import { parseDuration } from './duration';
import { nearestName } from './nearest-name';
import { DEFAULT_STATUS_MAP, StatusMap } from './status-map';

export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'silent';
const LOG_LEVELS: LogLevel[] = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'];

/** Everything the relay reads from its environment, parsed and typed. */
export interface Env {
  port: number;
  databaseUrl: string | undefined;
  dataDir: string;
  uxcBaseUrl: string | undefined;
  uxcAk: string | undefined;
  uxcSk: string | undefined;
  relayApiKey: string | undefined;
  adminToken: string | undefined;
  encryptionKey: Buffer | undefined;
  uxcStatusMap: StatusMap;
  uxcTimeoutMs: number;
  uxcRateLimit: number;
  uxcErrorGiveUpMs: number;
  pollIntervalMs: number;
  pollMaxIntervalMs: number;
  pollerEnabled: boolean;
  pollerConcurrency: number;
  taskTtlMs: number;
  webhookTimeoutMs: number;
  webhookRetryScheduleMs: number[];
  webhookSecretGraceMs: number;
  webhookOrderHoldMs: number;
  /** a subscription failing without a success this long is disabled, its deliveries held */
  webhookDisableAfterMs: number;
  dispatcherEnabled: boolean;
  dispatcherConcurrency: number;
  dispatcherPerHostConcurrency: number;
  dispatcherPerHostMax: number;
  callbackAllowPrivateNetworks: boolean;
  historyRetentionMs: number;
  /** how far back the ETA of queued tasks looks at a tenant's queue */
  estimateWindowMs: number;
  /** how often a process reloads a tenant's queue statistics */
  estimateRefreshMs: number;
  apiRateLimitPerMinute: number;
  /** the comment line a stream sends when it has had nothing to say for this long */
  streamHeartbeatMs: number;
  /** how often a process samples the health numbers it keeps an hour of for the console's chart */
  opsSampleMs: number;
  /** when set, `/metrics` wants `Authorization: Bearer <METRICS_TOKEN>` */
  metricsToken: string | undefined;
  logLevel: LogLevel;
  /** `auto`: pretty on a terminal, JSON otherwise */
  logFormat: LogFormat;
  /** Poll the built-in simulator although DATABASE_URL is set (tests, demos). */
  uxcSimulator: boolean;
}

export type LogFormat = 'auto' | 'json' | 'pretty';
const LOG_FORMATS: LogFormat[] = ['auto', 'json', 'pretty'];

export class EnvError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'EnvError';
  }
}

type Source = Record<string, string | undefined>;

class Reader {
  readonly problems: string[] = [];
  /** every variable the relay reads, for the warning about misspelt ones */
  readonly names = new Set<string>();
  constructor(private readonly source: Source) {}

  raw(name: string): string | undefined {
    this.names.add(name);
    const value = this.source[name];
    return value === undefined || value.trim() === '' ? undefined : value.trim();
  }

  string(name: string): string | undefined {
    return this.raw(name);
  }

  int(name: string, fallback: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
    const text = this.raw(name);
    if (text === undefined) return fallback;
    const value = Number(text);
    if (!/^-?\d+$/.test(text) || value < min || value > max) {
      this.problems.push(`${name}="${text}" must be a whole number from ${min} to ${max}`);
      return fallback;
    }
    return value;
  }

  /** `*_MS` variables: a bare number is milliseconds, and a suffix works as in every other duration. */
  durationMs(name: string, fallbackMs: number, minMs: number, maxMs: number): number {
    const text = this.raw(name);
    if (text === undefined) return fallbackMs;
    const value = parseDuration(text);
    if (value === undefined || value < minMs || value > maxMs) {
      this.problems.push(
        `${name}="${text}" must be a duration from ${minMs}ms to ${maxMs}ms (a number of ms, or with s, m, h or d)`,
      );
      return fallbackMs;
    }
    return value;
  }

  duration(name: string, fallback: string, minMs = 1): number {
    const text = this.raw(name) ?? fallback;
    const value = parseDuration(text);
    if (value === undefined || value < minMs) {
      this.problems.push(
        `${name}="${text}" must be a duration of at least ${minMs}ms (a number with ms, s, m, h or d)`,
      );
      return parseDuration(fallback) ?? minMs;
    }
    return value;
  }

  durationList(name: string, fallback: string): number[] {
    const text = this.raw(name) ?? fallback;
    const parts = text.split(',').map((part) => part.trim());
    const values = parts.map((part) => parseDuration(part));
    if (parts.length === 0 || values.some((v) => v === undefined || v < 1)) {
      this.problems.push(`${name}="${text}" must be a comma-separated list of durations`);
      return fallback.split(',').map((part) => parseDuration(part) as number);
    }
    return values as number[];
  }

  bool(name: string, fallback: boolean): boolean {
    const text = this.raw(name);
    if (text === undefined) return fallback;
    if (/^(true|1|yes|on)$/i.test(text)) return true;
    if (/^(false|0|no|off)$/i.test(text)) return false;
    this.problems.push(`${name}="${text}" must be true or false`);
    return fallback;
  }

  url(name: string, protocols: string[]): string | undefined {
    const text = this.raw(name);
    if (text === undefined) return undefined;
    try {
      const url = new URL(text);
      if (!protocols.includes(url.protocol)) throw new Error();
      return text.replace(/\/+$/, '');
    } catch {
      // never echo the value: connection strings carry passwords
      this.problems.push(`${name} must be a ${protocols.join(' or ')} URL`);
      return undefined;
    }
  }
}

export interface ParseOptions {
  /** false for the database commands: migrations never read ENCRYPTION_KEY */
  requireEncryptionKey?: boolean;
  /** false for the database commands, which never call UXC */
  requireUpstream?: boolean;
}

export function parseEnv(source: Source, options: ParseOptions = {}): Env {
  const { env, reader } = read(source, options);
  if (reader.problems.length > 0) throw new EnvError(reader.problems);
  return env;
}

function read(source: Source, options: ParseOptions): { env: Env; reader: Reader } {
  const r = new Reader(source);
  const env: Env = {
    port: r.int('PORT', 3000, 0, 65535),
    databaseUrl: r.url('DATABASE_URL', ['postgres:', 'postgresql:']),
    dataDir: r.string('DATA_DIR') ?? './.data',
    uxcBaseUrl: r.url('UXC_BASE_URL', ['http:', 'https:']),
    uxcAk: r.string('UXC_AK'),
    uxcSk: r.string('UXC_SK'),
    relayApiKey: r.string('RELAY_API_KEY'),
    adminToken: r.string('ADMIN_TOKEN'),
    encryptionKey: undefined,
    uxcStatusMap: StatusMap.parse(DEFAULT_STATUS_MAP),
    uxcTimeoutMs: r.durationMs('UXC_TIMEOUT_MS', 5000, 1, 600_000),
    uxcRateLimit: r.int('UXC_RATE_LIMIT', 20, 1, 100_000),
    uxcErrorGiveUpMs: r.duration('UXC_ERROR_GIVE_UP', '1h'),
    pollIntervalMs: r.durationMs('POLL_INTERVAL_MS', 2000, 10, 86_400_000),
    pollMaxIntervalMs: r.durationMs('POLL_MAX_INTERVAL_MS', 30000, 10, 86_400_000),
    pollerEnabled: r.bool('POLLER_ENABLED', true),
    pollerConcurrency: r.int('POLLER_CONCURRENCY', 32, 1, 1000),
    taskTtlMs: r.duration('TASK_TTL', '24h'),
    webhookTimeoutMs: r.durationMs('WEBHOOK_TIMEOUT_MS', 15000, 1, 600_000),
    webhookRetryScheduleMs: r.durationList(
      'WEBHOOK_RETRY_SCHEDULE',
      '5s,30s,2m,10m,30m,1h,2h,5h,10h,14h,20h,24h',
    ),
    webhookSecretGraceMs: r.duration('WEBHOOK_SECRET_GRACE', '24h', 0),
    webhookOrderHoldMs: r.duration('WEBHOOK_ORDER_HOLD', '1m', 0),
    webhookDisableAfterMs: r.duration('WEBHOOK_DISABLE_AFTER', '5d', 1000),
    dispatcherEnabled: r.bool('DISPATCHER_ENABLED', true),
    dispatcherConcurrency: r.int('DISPATCHER_CONCURRENCY', 256, 1, 10_000),
    dispatcherPerHostConcurrency: r.int('DISPATCHER_PER_HOST_CONCURRENCY', 8, 1, 10_000),
    dispatcherPerHostMax: r.int('DISPATCHER_PER_HOST_MAX', 64, 1, 10_000),
    callbackAllowPrivateNetworks: r.bool('CALLBACK_ALLOW_PRIVATE_NETWORKS', false),
    historyRetentionMs: r.duration('HISTORY_RETENTION', '30d'),
    estimateWindowMs: r.duration('ESTIMATE_WINDOW', '30m'),
    estimateRefreshMs: r.durationMs('ESTIMATE_REFRESH_MS', 5000, 10, 3_600_000),
    apiRateLimitPerMinute: r.int('API_RATE_LIMIT', 600, 1, 10_000_000),
    streamHeartbeatMs: r.durationMs('STREAM_HEARTBEAT_MS', 15_000, 10, 3_600_000),
    opsSampleMs: r.durationMs('OPS_SAMPLE_MS', 30_000, 100, 3_600_000),
    metricsToken: r.string('METRICS_TOKEN'),
    logLevel: 'info',
    logFormat: 'auto',
    uxcSimulator: r.bool('UXC_SIMULATOR', false),
  };

  const statusMap = r.raw('UXC_STATUS_MAP');
  if (statusMap !== undefined) {
    try {
      env.uxcStatusMap = StatusMap.parse(statusMap);
    } catch (error) {
      r.problems.push(`UXC_STATUS_MAP: ${(error as Error).message}`);
    }
  }

  const logLevel = (r.raw('LOG_LEVEL') ?? 'info').toLowerCase();
  if (LOG_LEVELS.includes(logLevel as LogLevel)) env.logLevel = logLevel as LogLevel;
  else r.problems.push(`LOG_LEVEL="${logLevel}" must be one of ${LOG_LEVELS.join(', ')}`);

  const key = r.raw('ENCRYPTION_KEY');
  if (key !== undefined) {
    const decoded = Buffer.from(key, 'base64');
    if (decoded.length !== 32 || !/^[A-Za-z0-9+/]+={0,2}$/.test(key)) {
      r.problems.push('ENCRYPTION_KEY must be 32 random bytes in base64 (openssl rand -base64 32)');
    } else {
      env.encryptionKey = decoded;
    }
  } else if (env.databaseUrl !== undefined && options.requireEncryptionKey !== false) {
    r.problems.push(
      'ENCRYPTION_KEY is required when DATABASE_URL is set (openssl rand -base64 32)',
    );
  }

  if (env.dispatcherPerHostMax < env.dispatcherPerHostConcurrency) {
    r.problems.push('DISPATCHER_PER_HOST_MAX must be at least DISPATCHER_PER_HOST_CONCURRENCY');
  }

  if (env.pollMaxIntervalMs < env.pollIntervalMs) {
    r.problems.push('POLL_MAX_INTERVAL_MS must be at least POLL_INTERVAL_MS');
  }

  const credentials = [env.uxcAk, env.uxcSk, env.relayApiKey].filter((v) => v !== undefined);
  if (credentials.length > 0 && credentials.length < 3) {
    r.problems.push('UXC_AK, UXC_SK and RELAY_API_KEY must be set together (or none of them)');
  }

  const logFormat = (r.raw('LOG_FORMAT') ?? 'auto').toLowerCase();
  if (LOG_FORMATS.includes(logFormat as LogFormat)) env.logFormat = logFormat as LogFormat;
  else r.problems.push(`LOG_FORMAT="${logFormat}" must be one of ${LOG_FORMATS.join(', ')}`);

  // a production database with no UXC_BASE_URL must not poll the simulator with real credentials
  if (
    env.uxcBaseUrl === undefined &&
    env.databaseUrl !== undefined &&
    !env.uxcSimulator &&
    options.requireUpstream !== false
  ) {
    r.problems.push(
      'UXC_BASE_URL is required when DATABASE_URL is set (UXC_SIMULATOR=true polls the built-in simulator instead)',
    );
  }

  return { env, reader: r };
}

const RELAY_PREFIXES = /^(UXC|POLL|POLLER|WEBHOOK|DISPATCHER|API|STREAM)_/;

/** Every variable the relay reads (whatever an empty environment lacks). */
export function knownVariableNames(): ReadonlySet<string> {
  return read({}, {}).reader.names;
}

/**
 * A warning for each variable that looks like the relay's but is none of them
 * (`POLL_INTERVAL` for `POLL_INTERVAL_MS`), naming the nearest known one.
 */
export function unknownVariableWarnings(source: Source): string[] {
  const known = knownVariableNames();
  return Object.keys(source)
    .filter((name) => RELAY_PREFIXES.test(name) && !known.has(name))
    .sort()
    .map(
      (name) =>
        `${name} is not a uxc-relay variable and is ignored: did you mean ${nearestName(name, known)}?`,
    );
}

/** Neither a database nor an upstream configured: a newcomer's first run. */
export function isLocalMode(env: Env): boolean {
  return env.databaseUrl === undefined && env.uxcBaseUrl === undefined;
}
