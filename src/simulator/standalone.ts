/**
 * `npm run simulator`: the UXC simulator as a program of its own, for
 * benchmarks and manual play. It is not part of the relay and reads its own
 * two variables, from the environment or from `.env` as the relay does.
 */
import { existsSync } from 'node:fs';
import { config as loadDotEnv } from 'dotenv';
import {
  SIMULATOR_DEFAULT_AK,
  SIMULATOR_DEFAULT_PORT,
  SIMULATOR_DEFAULT_SK,
} from './simulator.constants';
import { startSimulatorServer } from './simulator-server';

function portFrom(text: string | undefined): number {
  if (text === undefined || text.trim() === '') return SIMULATOR_DEFAULT_PORT;
  const port = Number(text);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    console.error(`SIMULATOR_PORT="${text}" must be a port number from 0 to 65535`);
    process.exit(1);
  }
  return port;
}

async function main(): Promise<void> {
  if (existsSync('.env')) loadDotEnv({ path: '.env', quiet: true });
  const port = portFrom(process.env.SIMULATOR_PORT);
  const host = process.env.SIMULATOR_HOST?.trim() || '127.0.0.1';
  const server = await startSimulatorServer({ port, host });
  console.log(`UXC simulator (not a real UXC) listening on ${server.url}`);
  console.log(`default credential: ak=${SIMULATOR_DEFAULT_AK} sk=${SIMULATOR_DEFAULT_SK}`);
  console.log(
    `try: curl -s -X POST ${server.url}/api/dispatch/task/get -H 'Cookie: ak=${SIMULATOR_DEFAULT_AK}; sk=${SIMULATOR_DEFAULT_SK}' -H 'content-type: application/json' -d '{"sid":"BT|demo-1"}'`,
  );
  console.log(`control API: curl -s ${server.url}/`);

  const stop = (): void => {
    void server.close().then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((error: unknown) => {
  console.error(
    `UXC simulator failed to start: ${error instanceof Error ? error.message : String(error)}`,
  );
  process.exit(1);
});
