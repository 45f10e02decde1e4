import { MiddlewareConsumer, Module, NestModule } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { ThrottlerModule } from '@nestjs/throttler';
import { ConfigService } from '../config/config.service';
import { DatabasePool } from '../database/database-pool';
import { ApiThrottleGuard } from './api-throttle.guard';
import { PgThrottlerStorage, ThrottleCounterSweeper } from './pg-throttler-storage';
import { RequestBodyMiddleware } from './request-body.middleware';

/** Protections every API route shares: per-key rate limiting and request body shape checks. */
@Module({
  imports: [
    ThrottlerModule.forRootAsync({
      inject: [ConfigService, DatabasePool],
      useFactory: (config: ConfigService, database: DatabasePool) => ({
        // shared by every replica on the database, so the limit per key holds across them
        storage: new PgThrottlerStorage(database),
        throttlers: [{ name: 'default', ttl: 60_000, limit: config.env.apiRateLimitPerMinute }],
        errorMessage: `too many requests: at most ${config.env.apiRateLimitPerMinute} a minute per API key`,
      }),
    }),
  ],
  providers: [{ provide: APP_GUARD, useClass: ApiThrottleGuard }, ThrottleCounterSweeper],
})
export class ApiProtectionModule implements NestModule {
  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(RequestBodyMiddleware).forRoutes('*path');
  }
}
