import { Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { ConfigService } from '../config/config.service';
import { DispatcherService } from './dispatcher.service';

/**
 * Only triggers: starts the dispatcher when DISPATCHER_ENABLED is on, so a
 * process with it off runs no loop, listens to nothing and claims nothing.
 */
@Injectable()
export class DispatcherScheduler implements OnApplicationBootstrap {
  private readonly logger = new Logger(DispatcherScheduler.name);

  constructor(
    private readonly config: ConfigService,
    private readonly dispatcher: DispatcherService,
  ) {}

  onApplicationBootstrap(): void {
    if (!this.config.env.dispatcherEnabled) {
      this.logger.log('dispatcher disabled (DISPATCHER_ENABLED=false)');
      return;
    }
    this.dispatcher.start();
    const env = this.config.env;
    this.logger.log(
      `dispatcher started as ${this.dispatcher.owner} (concurrency ${env.dispatcherConcurrency}, per host ${env.dispatcherPerHostConcurrency} adapting up to ${env.dispatcherPerHostMax})`,
    );
  }
}
