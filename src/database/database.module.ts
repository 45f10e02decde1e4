import { Global, Module } from '@nestjs/common';
import { ConfigService } from '../config/config.service';
import { DatabaseConnection } from './database-connection';
import { PrismaService } from './prisma.service';

@Global()
@Module({
  providers: [
    {
      provide: DatabaseConnection,
      inject: [ConfigService],
      useFactory: (config: ConfigService) => DatabaseConnection.open(config),
    },
    PrismaService,
  ],
  exports: [DatabaseConnection, PrismaService],
})
export class DatabaseModule {}
