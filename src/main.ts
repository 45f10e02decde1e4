import 'reflect-metadata';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { config as loadDotEnv } from 'dotenv';
import type { Logger as Pino } from 'pino';
import { AppModule } from './app.module';
import { configureApp } from './app.setup';
import { ConfigService } from './config/config.service';
import { EnvError } from './config/env';
import { stopAllEmbeddedPostgres } from './database/embedded-postgres';
import { bootLogger, resolveLogFormat } from './logging/log-output';
import { RelayLogger } from './logging/relay-logger';
import { DefaultTenant } from './tenants/default-tenant';

/** A start that cannot go on, told in one line. */
class StartError extends Error {}

function portProblem(port: number, error: unknown): StartError | undefined {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'EADDRINUSE') {
    return new StartError(
      `PORT ${port} is already in use by another process: stop it, or set PORT to a free port`,
    );
  }
  if (code === 'EACCES') {
    return new StartError(`PORT ${port} needs privileges this user lacks: set PORT above 1023`);
  }
  return undefined;
}

/** Before the database starts: a taken port is found in a moment, not after migrations. */
function checkPortFree(port: number): Promise<void> {
  if (port === 0) return Promise.resolve();
  return new Promise((done, fail) => {
    const probe = createServer();
    probe.once('error', (error) => fail(portProblem(port, error) ?? error));
    probe.listen(port, () => probe.close(() => done()));
  });
}

let logger: Pino | undefined;
let app: INestApplication | undefined;

async function bootstrap(): Promise<void> {
  if (existsSync('.env')) loadDotEnv({ path: '.env', quiet: true });
  const config = ConfigService.fromEnvironment();
  logger = bootLogger(config.env.logLevel, resolveLogFormat(config.env.logFormat));
  for (const warning of config.warnings) logger.warn({ context: 'Config' }, warning);
  await checkPortFree(config.env.port);

  app = await NestFactory.create(AppModule, {
    logger: new RelayLogger(logger),
    bodyParser: false,
    // a failed start reaches the handler below, which names the cause, stops what started and exits 1
    abortOnError: false,
  });
  configureApp(app);
  try {
    await app.listen(config.env.port);
  } catch (error) {
    throw portProblem(config.env.port, error) ?? error;
  }
  const url = `http://localhost:${config.env.port}`;
  logger.info({ context: 'Main' }, `uxc-relay listening on ${url} (API docs at /docs)`);
  app.get(DefaultTenant).announce(url);
}

bootstrap().catch(async (error: unknown) => {
  const log = logger ?? bootLogger();
  if (error instanceof EnvError || error instanceof StartError) {
    log.fatal({ context: 'Main' }, `uxc-relay: ${error.message}`);
  } else {
    log.fatal(
      { context: 'Main', err: error },
      `uxc-relay failed to start: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  // whatever did start (the embedded PostgreSQL, the simulator, the loops) stops before the exit
  await app?.close().catch(() => undefined);
  await stopAllEmbeddedPostgres().catch(() => undefined);
  process.exit(1);
});
