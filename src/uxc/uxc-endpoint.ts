import { Logger, OnApplicationShutdown } from '@nestjs/common';
import type { Simulator } from '../simulator/simulator';
import { SimulatorServer, startSimulatorServer } from '../simulator/simulator-server';

/**
 * Where the relay's UXC is: the configured `UXC_BASE_URL`, or the built-in
 * simulator started in-process when it is unset.
 */
export class UxcEndpoint implements OnApplicationShutdown {
  private constructor(
    readonly baseUrl: string,
    private readonly server: SimulatorServer | undefined,
  ) {}

  /** The in-process simulator, when there is one (tests script it directly). */
  get simulator(): Simulator | undefined {
    return this.server?.simulator;
  }

  static async resolve(
    configuredBaseUrl: string | undefined,
    logger = new Logger('UxcEndpoint'),
  ): Promise<UxcEndpoint> {
    if (configuredBaseUrl !== undefined) return new UxcEndpoint(configuredBaseUrl, undefined);
    const server = await startSimulatorServer({ host: '127.0.0.1', port: 0 });
    logger.warn(
      `UXC_BASE_URL is not set: polling the built-in UXC simulator at ${server.url} — not a real UXC`,
    );
    return new UxcEndpoint(server.url, server);
  }

  async close(): Promise<void> {
    await this.server?.close();
  }

  // at application shutdown, after every module's destroy hooks: the poller may poll until then
  async onApplicationShutdown(): Promise<void> {
    await this.close();
  }
}
