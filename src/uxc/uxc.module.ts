import { Logger, Module } from '@nestjs/common';
import { ConfigService } from '../config/config.service';
import { MetricsService } from '../metrics/metrics.service';
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
      inject: [ConfigService, UxcEndpoint, UxcMetrics],
      useFactory: (config: ConfigService, endpoint: UxcEndpoint, metrics: UxcMetrics) =>
        new UxcClient({
          baseUrl: endpoint.baseUrl,
          timeoutMs: config.env.uxcTimeoutMs,
          rateLimit: config.env.uxcRateLimit,
          metrics,
          logger: new Logger(UxcClient.name),
        }),
    },
  ],
  exports: [UxcClient],
})
export class UxcModule {}
