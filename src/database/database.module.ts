import { Global, Module } from '@nestjs/common';
import { ConfigService } from '../config/config.service';
import { DatabaseConnection } from './database-connection';
import { DatabasePool } from './database-pool';
import { PrismaService } from './prisma.service';

@Global()
@Module({
  providers: [
    {
      provide: DatabaseConnection,
      inject: [ConfigService],
      useFactory: (config: ConfigService) => DatabaseConnection.open(config),
    },
    DatabasePool,
    PrismaService,
  ],
  exports: [DatabaseConnection, DatabasePool, PrismaService],
})
export class DatabaseModule {}
