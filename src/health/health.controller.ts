import { Controller, Get, ServiceUnavailableException } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { HealthService } from './health.service';

@ApiTags('health')
@Controller('health')
export class HealthController {
  constructor(private readonly health: HealthService) {}

  @Get('live')
  @ApiOperation({ summary: 'The process is up' })
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }

  @Get('ready')
  @ApiOperation({ summary: 'The database is reachable and fully migrated' })
  async ready(): Promise<{ status: 'ok'; migrations: number }> {
    const result = await this.health.readiness();
    if (!result.ok) throw new ServiceUnavailableException(result.reason);
    return { status: 'ok', migrations: result.migrations };
  }
}
