import { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { Writable } from 'node:stream';
import { AppModule } from '../src/app.module';
import { newId } from '../src/common/ids';
import { ConfigService } from '../src/config/config.service';
import { parseEnv } from '../src/config/env';
import { PrismaService } from '../src/database/prisma.service';
import { Tenant } from '../src/generated/prisma/client';
import { LOG_DESTINATION } from '../src/logging/logging.module';
import { TaskOutbox } from '../src/tasks/task-outbox';
import { SecretBox } from '../src/tenants/secret-box';
import { generateWebhookSecret } from '../src/webhooks/webhook-signer';

export const BENCH_UXC_CREDENTIAL = { ak: 'bench-ak', sk: 'bench-sk' };

export interface BenchRelay {
  app: INestApplication;
  config: ConfigService;
  prisma: PrismaService;
  outbox: TaskOutbox;
  /** the one tenant a scenario works for, with BENCH_UXC_CREDENTIAL */
  tenant: Tenant;
}

/**
 * The real AppModule on a benchmark database, with the scenario's environment
 * and logs discarded (they would cost more than what is measured), plus a tenant.
 */
export async function startBenchRelay(env: Record<string, string>): Promise<BenchRelay> {
  const config = new ConfigService(
    parseEnv({
      ENCRYPTION_KEY: Buffer.alloc(32, 9).toString('base64'),
      LOG_LEVEL: 'warn',
      // a scenario that gives no UXC_BASE_URL polls the in-process simulator
      UXC_SIMULATOR: 'true',
      ...env,
    }),
  );
  const moduleRef = await Test.createTestingModule({ imports: [AppModule] })
    .overrideProvider(ConfigService)
    .useValue(config)
    .overrideProvider(LOG_DESTINATION)
    .useValue(new Writable({ write: (_chunk, _encoding, done) => done() }))
    .compile();
  const app = moduleRef.createNestApplication({ bodyParser: false });
  await app.init();
  const prisma = app.get(PrismaService);
  const box = new SecretBox(config.encryptionKey);
  const tenant = await prisma.tenant.create({
    data: {
      id: newId('ten'),
      name: 'bench',
      uxcAk: BENCH_UXC_CREDENTIAL.ak,
      uxcSkEnc: box.seal(BENCH_UXC_CREDENTIAL.sk),
      webhookSecretEnc: box.seal(generateWebhookSecret()),
    },
  });
  return { app, config, prisma, outbox: app.get(TaskOutbox), tenant };
}
