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
  let config: ConfigService;
  try {
    // validated here first so a bad variable stops the start with one clear message
    config = ConfigService.fromEnvironment();
  } catch (error) {
    if (error instanceof EnvError) {
      process.stderr.write(`uxc-relay: ${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }
  const app = await NestFactory.create(AppModule, {
    bufferLogs: true,
    bodyParser: false,
    // a failed start reaches the handler below, which names the cause and exits 1
    abortOnError: false,
  });
  configureApp(app);
  await app.listen(config.env.port);
  new Logger('Main').log(
    `uxc-relay listening on http://localhost:${config.env.port} (API docs at /docs)`,
  );
}

bootstrap().catch((error: unknown) => {
  process.stderr.write(
    `uxc-relay failed to start: ${error instanceof Error ? error.stack : String(error)}\n`,
  );
  process.exit(1);
});
