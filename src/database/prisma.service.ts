import { Injectable, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaClient } from '../generated/prisma/client';
import { DatabaseConnection } from './database-connection';

@Injectable()
export class PrismaService extends PrismaClient implements OnModuleInit, OnModuleDestroy {
  constructor(connection: DatabaseConnection) {
    super({ adapter: new PrismaPg({ connectionString: connection.url, max: 20 }) });
  }

  async onModuleInit(): Promise<void> {
    // fail the start loudly rather than serve requests without a database
    await this.$connect();
    await this.$queryRaw`SELECT 1`;
  }

  async onModuleDestroy(): Promise<void> {
    await this.$disconnect();
  }
}
