import { Module } from '@nestjs/common';
import { TenantsModule } from '../tenants/tenants.module';
import { OperatorAuthGuard } from './operator-auth.guard';
import { OpsSummaryController } from './ops-summary.controller';
import { OpsSummaryService } from './ops-summary.service';

/** What the ops console needs beyond the REST API: the health summary. */
@Module({
  imports: [TenantsModule],
  controllers: [OpsSummaryController],
  providers: [OpsSummaryService, OperatorAuthGuard],
})
export class ConsoleModule {}
