import { EnvError, parseEnv } from './env';
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
    [{ DATABASE_URL: 'postgresql://db/relay' }, 'ENCRYPTION_KEY'],
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
});
