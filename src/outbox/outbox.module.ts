import { Module } from '@nestjs/common';
import { DeliveryStore } from './delivery.store';

/**
 * The outbox tables' one owner. The poller (through the task outbox), the API
 * and the dispatcher all change deliveries through its named transitions:
 * they meet here and nowhere else.
 */
@Module({
  providers: [DeliveryStore],
  exports: [DeliveryStore],
})
export class OutboxModule {}
