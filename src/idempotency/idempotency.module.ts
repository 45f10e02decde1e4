import { Global, Injectable, Logger, Module, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { TenantSecretsModule } from '../tenants/tenant-secrets.module';
import { IdempotencyStore } from './idempotency.store';

/** Expired keys are purged this often, in bounded batches; a lost purge only leaves dead rows. */
const PURGE_MS = 10 * 60 * 1000;

/** Deletes keys past their 24 h in every API process; stops before the pool closes. */
@Injectable()
export class IdempotencyKeyPurger implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(IdempotencyKeyPurger.name);
  private timer: NodeJS.Timeout | undefined;
  private running = false;

  constructor(private readonly store: IdempotencyStore) {}

  onModuleInit(): void {
    this.timer = setInterval(() => void this.purge(), PURGE_MS);
    this.timer.unref();
  }

  onModuleDestroy(): void {
    clearInterval(this.timer);
  }

  async purge(): Promise<number> {
    if (this.running) return 0;
    this.running = true;
    let total = 0;
    try {
      for (
        let batch = await this.store.purgeExpired();
        batch > 0;
        batch = await this.store.purgeExpired()
      ) {
        total += batch;
      }
    } catch (error) {
      this.logger.warn(`removing expired idempotency keys failed: ${(error as Error).message}`);
    } finally {
      this.running = false;
    }
    return total;
  }
}

/**
 * `Idempotency-Key` on every POST route (`@Idempotent()`) and its table.
 * Global, so that the interceptor of a route in any module finds its store
 * and the secrets that seal stored answers.
 */
@Global()
@Module({
  imports: [TenantSecretsModule],
  providers: [IdempotencyStore, IdempotencyKeyPurger],
  exports: [IdempotencyStore, TenantSecretsModule],
})
export class IdempotencyModule {}
