import { EnvError, knownVariableNames, parseEnv, unknownVariableWarnings } from './env';
import { parseDuration } from './duration';

const KEY = Buffer.alloc(32, 1).toString('base64');

function problemsOf(source: Record<string, string>): string[] {
  try {
    parseEnv(source);
  } catch (error) {
    if (error instanceof EnvError) return error.problems;
    throw error;
  }
  return [];
}

describe('environment', () => {
  it('has the contract defaults', () => {
    const env = parseEnv({});
    expect(env.port).toBe(3000);
    expect(env.dataDir).toBe('./.data');
    expect(env.uxcTimeoutMs).toBe(5000);
    expect(env.uxcRateLimit).toBe(20);
    expect(env.uxcErrorGiveUpMs).toBe(3_600_000);
    expect(env.pollIntervalMs).toBe(2000);
    expect(env.pollMaxIntervalMs).toBe(30000);
    expect(env.taskTtlMs).toBe(86_400_000);
    expect(env.webhookTimeoutMs).toBe(15000);
    expect(env.webhookRetryScheduleMs).toHaveLength(12);
    expect(env.webhookRetryScheduleMs[0]).toBe(5000);
    expect(env.webhookSecretGraceMs).toBe(86_400_000);
    expect(env.callbackAllowPrivateNetworks).toBe(false);
    expect(env.historyRetentionMs).toBe(30 * 86_400_000);
    expect(env.uxcStatusMap.stateOf(200)).toBe('running');
    expect(env.uxcStatusMap.stateOf(4242)).toBe('unknown');
  });

  it.each([
    [{ PORT: 'abc' }, 'PORT'],
    [{ PORT: '70000' }, 'PORT'],
    [{ POLL_INTERVAL_MS: '-1' }, 'POLL_INTERVAL_MS'],
    [{ TASK_TTL: 'forever' }, 'TASK_TTL'],
    [{ UXC_ERROR_GIVE_UP: '5 parsecs' }, 'UXC_ERROR_GIVE_UP'],
    [{ WEBHOOK_RETRY_SCHEDULE: '5s,,1h' }, 'WEBHOOK_RETRY_SCHEDULE'],
    [{ CALLBACK_ALLOW_PRIVATE_NETWORKS: 'maybe' }, 'CALLBACK_ALLOW_PRIVATE_NETWORKS'],
    [{ UXC_STATUS_MAP: '1:done' }, 'UXC_STATUS_MAP'],
    [{ UXC_BASE_URL: 'ftp://uxc' }, 'UXC_BASE_URL'],
    [{ DATABASE_URL: 'postgresql://db/relay', UXC_BASE_URL: 'https://uxc' }, 'ENCRYPTION_KEY'],
    [{ DATABASE_URL: 'postgresql://db/relay', ENCRYPTION_KEY: KEY }, 'UXC_BASE_URL'],
    [{ UXC_TIMEOUT_MS: '2 fortnights' }, 'UXC_TIMEOUT_MS'],
    [{ WEBHOOK_TIMEOUT_MS: '11m' }, 'WEBHOOK_TIMEOUT_MS'],
    [{ LOG_FORMAT: 'xml' }, 'LOG_FORMAT'],
    [{ ENCRYPTION_KEY: 'c2hvcnQ=' }, 'ENCRYPTION_KEY'],
    [{ LOG_LEVEL: 'loud' }, 'LOG_LEVEL'],
    [{ UXC_AK: 'ak-only' }, 'UXC_AK'],
    [{ POLL_INTERVAL_MS: '5000', POLL_MAX_INTERVAL_MS: '1000' }, 'POLL_MAX_INTERVAL_MS'],
  ])('refuses %j, naming %s', (source, name) => {
    const problems = problemsOf(source);
    expect(problems.length).toBeGreaterThan(0);
    expect(problems.join('\n')).toContain(name);
  });

  it('never echoes a connection string with its password', () => {
    const problems = problemsOf({ DATABASE_URL: 'mysql://user:hunter2@db/x', ENCRYPTION_KEY: KEY });
    expect(problems.join('\n')).toContain('DATABASE_URL');
    expect(problems.join('\n')).not.toContain('hunter2');
  });

  it('parses durations with every suffix', () => {
    expect(parseDuration('250')).toBe(250);
    expect(parseDuration('250ms')).toBe(250);
    expect(parseDuration('5s')).toBe(5000);
    expect(parseDuration('2m')).toBe(120_000);
    expect(parseDuration('1h')).toBe(3_600_000);
    expect(parseDuration('30d')).toBe(2_592_000_000);
    expect(parseDuration('1.5s')).toBe(1500);
    expect(parseDuration('soon')).toBeUndefined();
    expect(parseDuration('-5s')).toBeUndefined();
  });

  it('takes duration suffixes in *_MS variables, a bare number staying milliseconds', () => {
    const env = parseEnv({
      UXC_TIMEOUT_MS: '2s',
      POLL_INTERVAL_MS: '1500',
      POLL_MAX_INTERVAL_MS: '1m',
      WEBHOOK_TIMEOUT_MS: '250ms',
    });
    expect(env.uxcTimeoutMs).toBe(2000);
    expect(env.pollIntervalMs).toBe(1500);
    expect(env.pollMaxIntervalMs).toBe(60_000);
    expect(env.webhookTimeoutMs).toBe(250);
  });

  it('with DATABASE_URL, needs UXC_BASE_URL unless UXC_SIMULATOR=true asks for the simulator', () => {
    const production = { DATABASE_URL: 'postgresql://db/relay', ENCRYPTION_KEY: KEY };
    expect(problemsOf(production)).toEqual([
      'UXC_BASE_URL is required when DATABASE_URL is set (UXC_SIMULATOR=true polls the built-in simulator instead)',
    ]);
    expect(parseEnv({ ...production, UXC_SIMULATOR: 'true' }).uxcSimulator).toBe(true);
    expect(parseEnv({ ...production, UXC_BASE_URL: 'https://uxc' }).uxcBaseUrl).toBe('https://uxc');
  });

  it('lets the database commands run without ENCRYPTION_KEY, which migrations never read', () => {
    const source = { DATABASE_URL: 'postgresql://db/relay', UXC_BASE_URL: 'https://uxc' };
    expect(problemsOf(source).join('\n')).toContain('ENCRYPTION_KEY');
    expect(parseEnv(source, { requireEncryptionKey: false }).encryptionKey).toBeUndefined();
  });

  it('warns of a variable that looks like one of the relay, naming the nearest known one', () => {
    expect(
      unknownVariableWarnings({
        POLL_INTERVAL: '2000',
        UXC_RATELIMIT: '5',
        WEBHOOK_TIMEOUT_MS: '1000',
        DISPATCHER_CONCURENCY: '8',
        API_RATE_LIMT: '10',
        PATH: '/usr/bin',
      }),
    ).toEqual([
      'API_RATE_LIMT is not a uxc-relay variable and is ignored: did you mean API_RATE_LIMIT?',
      'DISPATCHER_CONCURENCY is not a uxc-relay variable and is ignored: did you mean DISPATCHER_CONCURRENCY?',
      'POLL_INTERVAL is not a uxc-relay variable and is ignored: did you mean POLL_INTERVAL_MS?',
      'UXC_RATELIMIT is not a uxc-relay variable and is ignored: did you mean UXC_RATE_LIMIT?',
    ]);
    expect(knownVariableNames()).toContain('UXC_SIMULATOR');
  });
});
