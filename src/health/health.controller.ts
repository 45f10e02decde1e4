import { Controller, Get, ServiceUnavailableException } from '@nestjs/common';
import {
  ApiOkResponse,
  ApiOperation,
  ApiProperty,
  ApiServiceUnavailableResponse,
  ApiTags,
} from '@nestjs/swagger';
import { ErrorResponseDto } from '../common/api-docs';
import { HealthService } from './health.service';

export class LivenessDto {
  @ApiProperty({ enum: ['ok'] })
  status!: 'ok';
}

export class ReadinessDto {
  @ApiProperty({ enum: ['ok'] })
  status!: 'ok';

  @ApiProperty({ description: 'how many migrations the database has applied', example: 3 })
  migrations!: number;
}

@ApiTags('operations')
@Controller('health')
export class HealthController {
  constructor(private readonly health: HealthService) {}

  @Get('live')
  @ApiOperation({ summary: 'The process is up', description: 'No auth; never rate-limited.' })
  @ApiOkResponse({ type: LivenessDto })
  live(): LivenessDto {
    return { status: 'ok' };
  }

  @Get('ready')
  @ApiOperation({
    summary: 'The database is reachable and fully migrated',
    description: 'No auth; never rate-limited. What load balancers and `HEALTHCHECK` ask.',
  })
  @ApiOkResponse({ type: ReadinessDto })
  @ApiServiceUnavailableResponse({
    description: 'the database is unreachable or has pending migrations',
    type: ErrorResponseDto,
  })
  async ready(): Promise<ReadinessDto> {
    const result = await this.health.readiness();
    if (!result.ok) throw new ServiceUnavailableException(result.reason);
    return { status: 'ok', migrations: result.migrations };
  }
}
