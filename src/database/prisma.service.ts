import { Injectable, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaClient } from '../generated/prisma/client';
import { DatabasePool } from './database-pool';

@Injectable()
export class PrismaService extends PrismaClient implements OnModuleInit, OnApplicationShutdown {
  constructor(database: DatabasePool) {
    super({ adapter: new PrismaPg(database.pool) });
  }

  async onModuleInit(): Promise<void> {
    // fail the start loudly rather than serve requests without a database
    await this.$connect();
    await this.$queryRaw`SELECT 1`;
  }

  /** After onModuleDestroy, so the dispatcher's and poller's shutdown work can still write. */
  async onApplicationShutdown(): Promise<void> {
    await this.$disconnect();
  }
}
