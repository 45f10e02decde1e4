import { Controller, Get, Req, UseGuards } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import { ErrorResponseDto } from '../common/api-docs';
import { OperatorAuthGuard, type OperatorRequest } from './operator-auth.guard';
import { OpsSamplerService } from './ops-sampler.service';
import { OpsHistoryDto, OpsSummaryDto } from './ops-summary.dto';
import { OpsReadings } from './ops-readings';
import { OpsSummaryService } from './ops-summary.service';

@ApiTags('operations')
@Controller('v1/ops')
@UseGuards(OperatorAuthGuard)
export class OpsSummaryController {
  constructor(
    private readonly ops: OpsSummaryService,
    private readonly sampler: OpsSamplerService,
    private readonly readings: OpsReadings,
  ) {}

  @Get('summary')
  @ApiOperation({
    summary: 'Health at a glance, as JSON',
    description:
      'Pending, held and failed deliveries and the age of the oldest pending one (a tenant key: its own; the ADMIN_TOKEN: the whole relay), with the poll lag and UXC outcomes that `/metrics` exports. The ops console charts it.',
  })
  @ApiBearerAuth('tenant')
  @ApiBearerAuth('admin')
  @ApiOkResponse({ type: OpsSummaryDto })
  @ApiUnauthorizedResponse({ description: 'missing or wrong key', type: ErrorResponseDto })
  summary(@Req() req: OperatorRequest): Promise<OpsSummaryDto> {
    return this.ops.summary(req.admin ? undefined : req.tenant?.id);
  }

  @Get('history')
  @ApiOperation({
    summary: 'The last hour of the health numbers',
    description:
      'A sample every `OPS_SAMPLE_MS` (30 s) of the numbers of `GET /v1/ops/summary`: pending and held deliveries, the age of the oldest pending one, and, over each interval, the polls, their mean lag and the UXC error rate per credential. Kept in the memory of the relay process that answers, so it starts empty when that process starts. A tenant key sees its own deliveries and credential; the ADMIN_TOKEN the whole relay. The ops console charts it.',
  })
  @ApiBearerAuth('tenant')
  @ApiBearerAuth('admin')
  @ApiOkResponse({ type: OpsHistoryDto })
  @ApiUnauthorizedResponse({ description: 'missing or wrong key', type: ErrorResponseDto })
  async history(@Req() req: OperatorRequest): Promise<OpsHistoryDto> {
    const tenantId = req.admin ? undefined : req.tenant?.id;
    const credential = tenantId ? await this.readings.credentialOf(tenantId) : undefined;
    return this.sampler.scoped(tenantId, credential);
  }
}
