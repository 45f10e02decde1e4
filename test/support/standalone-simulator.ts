import { ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from '../../src/database/embedded-postgres';
import type { SimulatorCall, SimulatorCredential } from '../../src/simulator/simulator';
import type { FaultSpec } from '../../src/simulator/simulator-faults';
import { waitForOk } from './relay-process';

// test/support under jest, dist/test/support when the chaos suite runs it compiled
const ROOT = existsSync(join(__dirname, '..', '..', 'dist'))
  ? join(__dirname, '..', '..')
  : join(__dirname, '..', '..', '..');
const STANDALONE_JS = join(ROOT, 'dist', 'src', 'simulator', 'standalone.js');

/**
 * The built simulator as its own process, driven over its control API: its
 * clock stamps calls as they arrive, however busy the test process is.
 */
export interface StandaloneSimulator {
  url: string;
  child: ChildProcess;
  addCredential(credential: SimulatorCredential): Promise<void>;
  addFault(fault: FaultSpec): Promise<void>;
  calls(): Promise<SimulatorCall[]>;
  close(): Promise<void>;
}

export async function spawnSimulator(): Promise<StandaloneSimulator> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child = spawn(process.execPath, [STANDALONE_JS], {
    env: { PATH: process.env.PATH, SIMULATOR_PORT: String(port) },
    stdio: 'ignore',
  });
  const exited = new Promise<void>((done) => child.on('close', () => done()));
  await waitForOk(`${url}/simulator/stats`, 30_000);
  const post = async (path: string, body: unknown): Promise<void> => {
    const answer = await fetch(`${url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    if (!answer.ok) throw new Error(`POST ${path}: ${answer.status} ${await answer.text()}`);
  };
  return {
    url,
    child,
    addCredential: (credential) => post('/simulator/credentials', credential),
    addFault: (fault) => post('/simulator/faults', fault),
    calls: async () =>
      ((await (await fetch(`${url}/simulator/calls`)).json()) as { items: SimulatorCall[] }).items,
    close: async () => {
      child.kill('SIGTERM');
      await exited;
    },
  };
}
