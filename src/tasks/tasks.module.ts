import { Module } from '@nestjs/common';
import { TenantsModule } from '../tenants/tenants.module';
import { TasksController } from './tasks.controller';
import { TasksService } from './tasks.service';

@Module({
  imports: [TenantsModule],
  controllers: [TasksController],
  providers: [TasksService],
})
export class TasksModule {}
