import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Global, LoggerService, Module } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { ConfigService } from '../config/config.service';
import { parseEnv } from '../config/env';
import { MetricsService } from '../metrics/metrics.service';
import { InProcessSimulator } from './in-process-simulator';
import { SIMULATOR_DEFAULT_AK, SIMULATOR_DEFAULT_SK } from '../simulator/simulator.constants';
import { UpstreamModule } from './upstream.module';
import { UxcClient } from '../uxc/uxc.client';
import { UxcEndpoint } from '../uxc/uxc-endpoint';
import { UxcMetrics } from '../uxc/uxc.metrics';
import { UxcModule } from '../uxc/uxc.module';

class CapturingLogger implements LoggerService {
  readonly lines: { level: string; message: string }[] = [];
  log = (message: unknown): void =>
    void this.lines.push({ level: 'log', message: String(message) });
  warn = (message: unknown): void =>
    void this.lines.push({ level: 'warn', message: String(message) });
  error = (message: unknown): void =>
    void this.lines.push({ level: 'error', message: String(message) });
  debug = (message: unknown): void =>
    void this.lines.push({ level: 'debug', message: String(message) });
  verbose = (message: unknown): void =>
    void this.lines.push({ level: 'verbose', message: String(message) });
}

async function compile(env: Record<string, string>, logger: LoggerService) {
  @Global()
  @Module({
    providers: [
      { provide: ConfigService, useValue: new ConfigService(parseEnv(env)) },
      MetricsService,
    ],
    exports: [ConfigService, MetricsService],
  })
  class InfrastructureModule {}

  const moduleRef = await Test.createTestingModule({
    imports: [InfrastructureModule, UpstreamModule, UxcModule],
  })
    .setLogger(logger)
    .compile();
  await moduleRef.init();
  return moduleRef;
}

describe('UpstreamModule with UxcModule', () => {
  let dataDir: string;
  beforeEach(() => (dataDir = mkdtempSync(join(tmpdir(), 'uxc-relay-upstream-'))));
  afterEach(() => rmSync(dataDir, { recursive: true, force: true }));

  it('without UXC_BASE_URL, polls an in-process simulator, says so loudly and stops it on close', async () => {
    const logger = new CapturingLogger();
    const moduleRef = await compile(
      { UXC_RATE_LIMIT: '50', UXC_TIMEOUT_MS: '2s', DATA_DIR: dataDir },
      logger,
    );
    const endpoint = moduleRef.get(UxcEndpoint) as InProcessSimulator;
    const client = moduleRef.get(UxcClient);

    expect(endpoint).toBeInstanceOf(InProcessSimulator);
    expect(endpoint.localCredential).toEqual({
      ak: SIMULATOR_DEFAULT_AK,
      sk: SIMULATOR_DEFAULT_SK,
    });
    expect(endpoint.baseUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(client.baseUrl).toBe(endpoint.baseUrl);
    expect(client.rateLimiter.ratePerSecond).toBe(50);
    expect(logger.lines).toContainEqual({
      level: 'warn',
      message: `UXC_BASE_URL is not set: polling the built-in UXC simulator at ${endpoint.baseUrl} — not a real UXC`,
    });

    const outcome = await client.getTask(
      { ak: SIMULATOR_DEFAULT_AK, sk: SIMULATOR_DEFAULT_SK },
      'BT|module',
    );
    expect(outcome).toMatchObject({ kind: 'ok', data: { sid: 'BT|module', status: 100 } });
    expect(endpoint.simulator.stats().bySid).toEqual({ 'BT|module': 1 });

    const metrics = await moduleRef.get(MetricsService).registry.metrics();
    expect(metrics).toContain(
      `uxc_relay_uxc_requests_total{outcome="ok",reason="",err_no="0",credential="${SIMULATOR_DEFAULT_AK}"} 1`,
    );
    expect(moduleRef.get(UxcMetrics)).toBe(UxcMetrics.for(moduleRef.get(MetricsService)));

    await moduleRef.close();
    // the simulator's port is closed now; a fresh client is refused
    const after = new UxcClient({ baseUrl: endpoint.baseUrl, timeoutMs: 1000, rateLimit: 1 });
    expect(await after.getTask({ ak: 'a', sk: 'b' }, 'x')).toMatchObject({
      kind: 'transport-error',
      reason: 'connection',
    });
    after.close();
  });

  it('with UXC_BASE_URL, uses it and starts no simulator', async () => {
    const logger = new CapturingLogger();
    const moduleRef = await compile({ UXC_BASE_URL: 'https://uxc.example.com/' }, logger);
    const endpoint = moduleRef.get(UxcEndpoint);
    expect(endpoint).not.toBeInstanceOf(InProcessSimulator);
    expect(endpoint.localCredential).toBeUndefined();
    expect(endpoint.baseUrl).toBe('https://uxc.example.com');
    expect(moduleRef.get(UxcClient).baseUrl).toBe('https://uxc.example.com');
    expect(logger.lines.filter((line) => line.message.includes('simulator'))).toEqual([]);
    await moduleRef.close();
  });

  it('with DATABASE_URL, polls the simulator only when UXC_SIMULATOR=true asks for it, and says why', async () => {
    const logger = new CapturingLogger();
    const moduleRef = await compile(
      {
        DATABASE_URL: 'postgresql://127.0.0.1:1/none',
        ENCRYPTION_KEY: Buffer.alloc(32, 1).toString('base64'),
        UXC_SIMULATOR: 'true',
      },
      logger,
    );
    const endpoint = moduleRef.get(UxcEndpoint);
    expect(endpoint).toBeInstanceOf(InProcessSimulator);
    expect(logger.lines).toContainEqual({
      level: 'warn',
      message: `UXC_SIMULATOR=true: polling the built-in UXC simulator at ${endpoint.baseUrl} — not a real UXC`,
    });
    await moduleRef.close();
  });
});
