import { Module } from '@nestjs/common';
import { OutboxModule } from '../outbox/outbox.module';
import { TenantsModule } from '../tenants/tenants.module';
import { DeliveriesController } from './deliveries.controller';
import { DeliveriesService } from './deliveries.service';

/** The read side of the outbox (and redeliver): separate from the sending loop. */
@Module({
  imports: [TenantsModule, OutboxModule],
  controllers: [DeliveriesController],
  providers: [DeliveriesService],
})
export class DeliveriesModule {}
