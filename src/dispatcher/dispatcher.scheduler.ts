import { Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { ConfigService } from '../config/config.service';
import { DispatcherService } from './dispatcher.service';

export const DISPATCH_INTERVAL_NAME = 'dispatcher.tick';
export const SWEEP_INTERVAL_NAME = 'dispatcher.sweep';
/** Between claims when idle; completions ask for the next claim at once. */
export const DISPATCH_INTERVAL_MS = 100;
export const SWEEP_INTERVAL_MS = 1000;

/**
 * Only triggers: registers the dispatcher's intervals when DISPATCHER_ENABLED
 * is on, so a process with it off runs no loop at all.
 */
@Injectable()
export class DispatcherScheduler implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(DispatcherScheduler.name);

  constructor(
    private readonly config: ConfigService,
    private readonly dispatcher: DispatcherService,
    private readonly registry: SchedulerRegistry,
  ) {}

  onApplicationBootstrap(): void {
    if (!this.config.env.dispatcherEnabled) {
      this.logger.log('dispatcher disabled (DISPATCHER_ENABLED=false)');
      return;
    }
    this.registry.addInterval(
      DISPATCH_INTERVAL_NAME,
      setInterval(() => void this.dispatcher.tick(), DISPATCH_INTERVAL_MS),
    );
    this.registry.addInterval(
      SWEEP_INTERVAL_NAME,
      setInterval(() => void this.dispatcher.sweep(), SWEEP_INTERVAL_MS),
    );
    this.logger.log(
      `dispatcher started as ${this.dispatcher.owner} (concurrency ${this.config.env.dispatcherConcurrency}, per host ${this.config.env.dispatcherPerHostConcurrency})`,
    );
  }

  /** No new round is triggered once shutdown begins; the service itself stops claiming too. */
  onModuleDestroy(): void {
    for (const name of [DISPATCH_INTERVAL_NAME, SWEEP_INTERVAL_NAME]) {
      if (this.registry.doesExist('interval', name)) this.registry.deleteInterval(name);
    }
  }
}
