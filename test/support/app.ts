import { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { Writable } from 'node:stream';
import { AppModule } from '../../src/app.module';
import { configureApp } from '../../src/app.setup';
import { ConfigService } from '../../src/config/config.service';
import { parseEnv } from '../../src/config/env';
import { PrismaService } from '../../src/database/prisma.service';
import { LOG_DESTINATION } from '../../src/logging/logging.module';

export const TEST_ENCRYPTION_KEY = Buffer.alloc(32, 7).toString('base64');
export const TEST_ADMIN_TOKEN = 'test-admin-token-0123456789';

/** Every log line the app wrote, kept so tests can search it for secrets. */
export class LogCapture extends Writable {
  readonly lines: string[] = [];
  override _write(chunk: Buffer, _encoding: string, done: () => void): void {
    this.lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
    done();
  }
  get text(): string {
    return this.lines.join('\n');
  }
}

export interface TestApp {
  app: INestApplication;
  /** base URL of the listening server, e.g. http://127.0.0.1:41234 */
  url: string;
  prisma: PrismaService;
  config: ConfigService;
  logs: LogCapture;
  close(): Promise<void>;
}

/**
 * Compiles the real AppModule against `databaseUrl`, with the environment the
 * test gives on top of quiet defaults (background loops off unless asked for),
 * and listens on a free loopback port.
 */
export async function createTestApp(
  databaseUrl: string,
  env: Record<string, string> = {},
): Promise<TestApp> {
  const config = new ConfigService(
    parseEnv({
      DATABASE_URL: databaseUrl,
      ENCRYPTION_KEY: TEST_ENCRYPTION_KEY,
      ADMIN_TOKEN: TEST_ADMIN_TOKEN,
      LOG_LEVEL: 'info',
      POLLER_ENABLED: 'false',
      DISPATCHER_ENABLED: 'false',
      CALLBACK_ALLOW_PRIVATE_NETWORKS: 'true',
      // a test that gives no UXC_BASE_URL polls the in-process simulator
      UXC_SIMULATOR: 'true',
      ...env,
    }),
  );
  const logs = new LogCapture();
  const moduleRef = await Test.createTestingModule({ imports: [AppModule] })
    .overrideProvider(ConfigService)
    .useValue(config)
    .overrideProvider(LOG_DESTINATION)
    .useValue(logs)
    .compile();
  const app = moduleRef.createNestApplication({ bodyParser: false, bufferLogs: true });
  configureApp(app, { shutdownHooks: false });
  await app.listen(0, '127.0.0.1');
  const url = (await app.getUrl()).replace('[::1]', '127.0.0.1');
  return {
    app,
    url,
    prisma: app.get(PrismaService),
    config,
    logs,
    close: () => app.close(),
  };
}
