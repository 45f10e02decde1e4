import { MiddlewareConsumer, Module, NestModule } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { ThrottlerModule } from '@nestjs/throttler';
import { ConfigService } from '../config/config.service';
import { ApiThrottleGuard } from './api-throttle.guard';
import { ForbiddenKeysMiddleware } from './forbidden-keys.middleware';

/** Protections every API route shares: per-key rate limiting and prototype-key refusal. */
@Module({
  imports: [
    ThrottlerModule.forRootAsync({
      inject: [ConfigService],
      useFactory: (config: ConfigService) => ({
        throttlers: [{ name: 'default', ttl: 60_000, limit: config.env.apiRateLimitPerMinute }],
        errorMessage: `too many requests: at most ${config.env.apiRateLimitPerMinute} a minute per API key`,
      }),
    }),
  ],
  providers: [{ provide: APP_GUARD, useClass: ApiThrottleGuard }],
})
export class ApiProtectionModule implements NestModule {
  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(ForbiddenKeysMiddleware).forRoutes('*path');
  }
}
