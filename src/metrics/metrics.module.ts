import { Global, Module } from '@nestjs/common';
import { MetricsController } from './metrics.controller';
import { MetricsService } from './metrics.service';
import { MetricsTokenGuard } from './metrics-token.guard';

@Global()
@Module({
  providers: [MetricsService, MetricsTokenGuard],
  controllers: [MetricsController],
  exports: [MetricsService],
})
export class MetricsModule {}
