import { Module } from '@nestjs/common';
import { APP_FILTER, APP_PIPE } from '@nestjs/core';
import { ScheduleModule } from '@nestjs/schedule';
import { AllExceptionsFilter } from './common/all-exceptions.filter';
import { ApiProtectionModule } from './common/api-protection.module';
import { createValidationPipe } from './common/validation';
import { ConfigModule } from './config/config.module';
import { ConsoleModule } from './console/console.module';
import { DatabaseModule } from './database/database.module';
import { DeliveriesModule } from './dispatcher/deliveries.module';
import { EstimatesModule } from './estimates/estimates.module';
import { DispatcherModule } from './dispatcher/dispatcher.module';
import { EndpointsModule } from './endpoints/endpoints.module';
import { HealthModule } from './health/health.module';
import { IdempotencyModule } from './idempotency/idempotency.module';
import { LoggingModule } from './logging/logging.module';
import { MetricsModule } from './metrics/metrics.module';
import { StreamsModule } from './streams/streams.module';
import { SubscriptionsModule } from './subscriptions/subscriptions.module';
import { TasksModule } from './tasks/tasks.module';
import { PollerModule } from './poller/poller.module';
import { RecoveriesModule } from './recoveries/recoveries.module';
import { TaskOutboxModule } from './tasks/task-outbox.module';
import { TenantsModule } from './tenants/tenants.module';
import { TenantSecretsModule } from './tenants/tenant-secrets.module';
import { UpstreamModule } from './upstream/upstream.module';

@Module({
  imports: [
    ConfigModule,
    LoggingModule,
    DatabaseModule,
    MetricsModule,
    ScheduleModule.forRoot(),
    UpstreamModule,
    HealthModule,
    EstimatesModule,
    TaskOutboxModule,
    TenantSecretsModule,
    ApiProtectionModule,
    IdempotencyModule,
    TenantsModule,
    SubscriptionsModule,
    EndpointsModule,
    RecoveriesModule,
    TasksModule,
    StreamsModule,
    DeliveriesModule,
    PollerModule,
    DispatcherModule,
    ConsoleModule,
  ],
  providers: [
    { provide: APP_PIPE, useFactory: createValidationPipe },
    { provide: APP_FILTER, useClass: AllExceptionsFilter },
  ],
})
export class AppModule {}
