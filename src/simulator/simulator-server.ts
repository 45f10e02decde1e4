import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Simulator, SimulatorOptions, createSimulator } from './simulator';

export interface SimulatorServerOptions extends SimulatorOptions {
  /** 0 (default) picks a free port. */
  port?: number;
  /** Default 127.0.0.1: the simulator accepts a published credential, so it stays local unless asked. */
  host?: string;
}

export interface SimulatorServer {
  /** e.g. `http://127.0.0.1:41234`: the base URL to give the UXC client. */
  url: string;
  port: number;
  simulator: Simulator;
  close(): Promise<void>;
}

export async function startSimulatorServer(
  options: SimulatorServerOptions = {},
): Promise<SimulatorServer> {
  const { port = 0, host = '127.0.0.1', ...simulatorOptions } = options;
  const simulator = createSimulator(simulatorOptions);
  const server = http.createServer(simulator.handler);
  // longer than any client's idle keep-alive, so a client never reuses a socket the simulator just closed
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const urlHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;

  let closing: Promise<void> | undefined;
  return {
    url: `http://${urlHost}:${address.port}`,
    port: address.port,
    simulator,
    close: () => {
      closing ??= new Promise<void>((resolve) => {
        simulator.close();
        server.close(() => resolve());
        // keep-alive and hanging connections would otherwise hold close() open
        server.closeAllConnections();
      });
      return closing;
    },
  };
}
