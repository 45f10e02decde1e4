import { EstimatesModule } from '../estimates/estimates.module';
import { Module } from '@nestjs/common';
import { StreamsModule } from '../streams/streams.module';
import { TenantsModule } from '../tenants/tenants.module';
import { TasksController } from './tasks.controller';
import { TasksService } from './tasks.service';

@Module({
  imports: [TenantsModule, StreamsModule, EstimatesModule],
  controllers: [TasksController],
  providers: [TasksService],
})
export class TasksModule {}
