import { OnApplicationShutdown } from '@nestjs/common';
import { UxcEndpoint } from '../uxc/uxc-endpoint';
import type { Simulator } from '../simulator/simulator';
import { SIMULATOR_DEFAULT_AK, SIMULATOR_DEFAULT_SK } from '../simulator/simulator.constants';
import { SimulatorServer, startSimulatorServer } from '../simulator/simulator-server';

/** The simulator on a loopback port of the relay's own process, stopped with it. */
export class InProcessSimulator extends UxcEndpoint implements OnApplicationShutdown {
  private constructor(private readonly server: SimulatorServer) {
    super(server.url, { ak: SIMULATOR_DEFAULT_AK, sk: SIMULATOR_DEFAULT_SK });
  }

  /** Tests script it directly. */
  get simulator(): Simulator {
    return this.server.simulator;
  }

  /** `stateFile`: where task lifecycles are kept, so a restarted relay finds its tasks where they were. */
  static async start(options: { stateFile?: string } = {}): Promise<InProcessSimulator> {
    return new InProcessSimulator(
      await startSimulatorServer({ host: '127.0.0.1', port: 0, stateFile: options.stateFile }),
    );
  }

  close(): Promise<void> {
    return this.server.close();
  }

  // at application shutdown, after every module's destroy hooks: the poller may poll until then
  async onApplicationShutdown(): Promise<void> {
    await this.close();
  }
}
