import { Controller, Get, Header, UseGuards } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiOkResponse,
  ApiOperation,
  ApiProduces,
  ApiTags,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import { ErrorResponseDto } from '../common/api-docs';
import { MetricsTokenGuard } from './metrics-token.guard';
import { MetricsService } from './metrics.service';

@ApiTags('operations')
@Controller('metrics')
@UseGuards(MetricsTokenGuard)
export class MetricsController {
  constructor(private readonly metrics: MetricsService) {}

  @Get()
  @Header('content-type', 'text/plain; version=0.0.4; charset=utf-8')
  @ApiOperation({
    summary: 'Prometheus metrics',
    description:
      'Text exposition format: UXC requests, polls, deliveries, latencies and queue depths. Open unless METRICS_TOKEN is set; then it takes `Authorization: Bearer <METRICS_TOKEN>`.',
  })
  @ApiBearerAuth('metrics')
  @ApiProduces('text/plain')
  @ApiOkResponse({
    description: 'the metrics',
    content: { 'text/plain': { schema: { type: 'string' } } },
  })
  @ApiUnauthorizedResponse({
    description: 'METRICS_TOKEN is set and the request does not carry it',
    type: ErrorResponseDto,
  })
  scrape(): Promise<string> {
    return this.metrics.registry.metrics();
  }
}
