import { Module } from '@nestjs/common';
import { TenantsModule } from '../tenants/tenants.module';
import { OperatorAuthGuard } from './operator-auth.guard';
import { OpsSummaryController } from './ops-summary.controller';
import { OpsReadings } from './ops-readings';
import { OpsSamplerService } from './ops-sampler.service';
import { OpsSummaryService } from './ops-summary.service';

/** What the ops console needs beyond the REST API: the health summary and its last hour. */
@Module({
  imports: [TenantsModule],
  controllers: [OpsSummaryController],
  providers: [OpsReadings, OpsSamplerService, OpsSummaryService, OperatorAuthGuard],
})
export class ConsoleModule {}
