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
import { OpsSummaryDto } from './ops-summary.dto';
import { OpsSummaryService } from './ops-summary.service';

@ApiTags('operations')
@Controller('v1/ops')
@UseGuards(OperatorAuthGuard)
export class OpsSummaryController {
  constructor(private readonly ops: OpsSummaryService) {}

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
}
