import 'reflect-metadata';
import { existsSync } from 'node:fs';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { config as loadDotEnv } from 'dotenv';
import { AppModule } from './app.module';
import { configureApp } from './app.setup';
import { ConfigService } from './config/config.service';
import { EnvError } from './config/env';

async function bootstrap(): Promise<void> {
  if (existsSync('.env')) loadDotEnv({ path: '.env', quiet: true });
  const app = await NestFactory.create(AppModule, {
    bufferLogs: true,
    // flushed below once the logger is in place; a failed start flushes them
    // itself, except for a bad variable, which deserves one clear line
    autoFlushLogs: false,
    bodyParser: false,
    // a failed start reaches the handler below, which names the cause and exits 1
    abortOnError: false,
  });
  configureApp(app);
  app.flushLogs();
  const config = app.get(ConfigService);
  await app.listen(config.env.port);
  new Logger('Main').log(
    `uxc-relay listening on http://localhost:${config.env.port} (API docs at /docs)`,
  );
}

bootstrap().catch((error: unknown) => {
  // ConfigModule parses the environment, once, before anything else starts
  if (error instanceof EnvError) {
    process.stderr.write(`uxc-relay: ${error.message}\n`);
    process.exit(1);
  }
  Logger.flush();
  process.stderr.write(
    `uxc-relay failed to start: ${error instanceof Error ? error.stack : String(error)}\n`,
  );
  process.exit(1);
});
