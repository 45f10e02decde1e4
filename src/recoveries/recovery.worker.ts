import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { newId } from '../common/ids';
import { ConfigService } from '../config/config.service';
import { PrismaService } from '../database/prisma.service';
import type { Recovery } from '../generated/prisma/client';
import { DeliveryStore } from '../outbox/delivery.store';
import { hostKey } from '../outbox/host-key';
import { txRunner } from '../outbox/sql';
import { RecoveryStore } from './recovery.store';

/** How often an idle worker looks for a queued recovery. */
const TICK_MS = 500;
/** Deliveries put back per transaction. */
const BATCH = 500;
const LEASE_MS = 60_000;

/**
 * Runs recovery jobs where the dispatcher runs (DISPATCHER_ENABLED): claims
 * one, puts its window's failed, canceled and held deliveries back in their
 * lanes batch by batch (the dispatcher then sends them in sequence order,
 * with their ids), and marks it sent. A tick still running is not started twice.
 */
@Injectable()
export class RecoveryWorker implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(RecoveryWorker.name);
  readonly owner = newId('rcvw');
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private stopping = false;

  constructor(
    private readonly config: ConfigService,
    private readonly prisma: PrismaService,
    private readonly store: RecoveryStore,
    private readonly deliveries: DeliveryStore,
  ) {}

  onApplicationBootstrap(): void {
    if (!this.config.env.dispatcherEnabled) return;
    this.timer = setInterval(() => this.tick(), TICK_MS);
    this.timer.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopping = true;
    if (this.timer) clearInterval(this.timer);
    await this.running;
  }

  private tick(): void {
    if (this.running || this.stopping) return;
    this.running = this.runQueued()
      .catch((error: Error) => this.logger.error(`recovery failed: ${error.message}`))
      .finally(() => (this.running = null));
  }

  /** Runs queued jobs until none is left. */
  private async runQueued(): Promise<void> {
    while (!this.stopping) {
      const job = await this.prisma.$transaction((tx) =>
        this.store.claim(txRunner(tx), this.owner, LEASE_MS),
      );
      if (!job) return;
      await this.run(job);
    }
  }

  private async run(job: Recovery): Promise<void> {
    const lanes = (
      await this.prisma.subscription.findMany({
        where: job.endpointId ? { endpointId: job.endpointId } : { id: job.subscriptionId! },
        select: { id: true, callbackUrl: true },
      })
    ).map((row) => ({ subscriptionId: row.id, host: hostKey(row.callbackUrl) }));
    let total = 0;
    for (;;) {
      if (this.stopping) {
        await this.prisma.$transaction((tx) =>
          this.store.release(txRunner(tx), job.id, this.owner),
        );
        return;
      }
      const sent = await this.prisma
        .$transaction(async (tx) => {
          const sql = txRunner(tx);
          const n = await this.deliveries.recover(sql, job.id, lanes, job, BATCH);
          // the lease lost: roll the batch back, its new holder sends it
          if (!(await this.store.progress(sql, job.id, this.owner, n, LEASE_MS))) {
            throw new LeaseLost();
          }
          return n;
        })
        .catch((error: unknown) => {
          if (error instanceof LeaseLost) return null;
          throw error;
        });
      if (sent === null) return;
      total += sent;
      if (sent < BATCH) break;
    }
    await this.prisma.$transaction((tx) => this.store.finish(txRunner(tx), job.id, this.owner));
    this.logger.log(`recovery ${job.id}: ${total} deliveries sent again`);
  }
}

class LeaseLost extends Error {}
