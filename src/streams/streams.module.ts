import { EstimatesModule } from '../estimates/estimates.module';
import { Module } from '@nestjs/common';
import { ConfigService } from '../config/config.service';
import { TenantsModule } from '../tenants/tenants.module';
import { StreamAuthGuard } from './stream-auth.guard';
import { StreamTokens } from './stream-token';
import { StreamsController } from './streams.controller';
import { StreamsService } from './streams.service';
import { TaskEventFeed } from './task-event-feed';
import { TaskWaits } from './task-waits';

/**
 * Live status for clients that take no webhooks: server-sent event streams
 * and long polls, fed on every replica by one LISTEN connection per process.
 */
@Module({
  imports: [TenantsModule, EstimatesModule],
  controllers: [StreamsController],
  providers: [
    TaskEventFeed,
    TaskWaits,
    StreamsService,
    StreamAuthGuard,
    {
      provide: StreamTokens,
      inject: [ConfigService],
      useFactory: (config: ConfigService) => new StreamTokens(config.encryptionKey),
    },
  ],
  exports: [TaskWaits],
})
export class StreamsModule {}
