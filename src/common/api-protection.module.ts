import { MiddlewareConsumer, Module, NestModule } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { ThrottlerModule } from '@nestjs/throttler';
import { ConfigService } from '../config/config.service';
import { ApiThrottleGuard } from './api-throttle.guard';
import { RequestBodyMiddleware } from './request-body.middleware';

/** Protections every API route shares: per-key rate limiting and request body shape checks. */
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
    consumer.apply(RequestBodyMiddleware).forRoutes('*path');
  }
}
