import { Logger, Module } from '@nestjs/common';
import { ConfigService } from '../config/config.service';
import { DatabasePool } from '../database/database-pool';
import { MetricsService } from '../metrics/metrics.service';
import { RateBucketStore } from './rate-bucket.store';
import { UxcClient } from './uxc.client';
import { UxcEndpoint } from './uxc-endpoint';
import { UxcMetrics } from './uxc.metrics';

/** Provides the UXC client, for the `UxcEndpoint` the composition root gives. */
@Module({
  providers: [
    {
      provide: UxcMetrics,
      inject: [MetricsService],
      useFactory: (metrics: MetricsService) => UxcMetrics.for(metrics),
    },
    {
      provide: UxcClient,
      inject: [ConfigService, UxcEndpoint, UxcMetrics, { token: DatabasePool, optional: true }],
      useFactory: (
        config: ConfigService,
        endpoint: UxcEndpoint,
        metrics: UxcMetrics,
        database: DatabasePool | undefined,
      ) =>
        new UxcClient({
          baseUrl: endpoint.baseUrl,
          timeoutMs: config.env.uxcTimeoutMs,
          rateLimit: config.env.uxcRateLimit,
          // UXC_RATE_LIMIT holds per credential across every process on the database
          // (a module compiled without one, in specs, limits this process alone)
          rateSlots: database && new RateBucketStore(database.pool, config.env.uxcRateLimit),
          metrics,
          logger: new Logger(UxcClient.name),
        }),
    },
  ],
  exports: [UxcClient],
})
export class UxcModule {}
