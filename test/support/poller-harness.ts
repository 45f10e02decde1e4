import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Task, TaskEvent } from '../../src/generated/prisma/client';
import { SimulatorServer, startSimulatorServer } from '../../src/simulator/simulator-server';
import { SimulatorStep } from '../../src/simulator/task-lifecycle';
import { TestApp, createTestApp } from './app';
import { createTestDatabase } from './database';
import { TenantFixture, createSubscription, createTenant } from './factories';
import { waitFor } from './wait';

/** Shared by the poller's e2e specs: a relay polling a simulator over loopback HTTP. */

export const FIXTURE = JSON.parse(
  readFileSync(join(__dirname, '..', 'fixtures/uxc/task-get.success.json'), 'utf8'),
) as { data: Record<string, unknown> & { sid: string; outputResult: string[] } };

/** Fast cadence: a running task every 100 ms, the slowest 1 s. */
export const FAST_POLLER = {
  POLLER_ENABLED: 'true',
  POLL_INTERVAL_MS: '100',
  POLL_MAX_INTERVAL_MS: '1000',
  UXC_TIMEOUT_MS: '500',
};

export const queued = (queueNum: number): SimulatorStep => ({
  data: { status: 100, progress: 0, queueNum, queueTotal: 9, message: 'queued' },
});
export const running = (progress: number): SimulatorStep => ({
  data: { status: 200, progress, queueNum: 0, queueTotal: 0, message: 'running' },
});

export interface PollerWorld {
  sim: SimulatorServer;
  relay: TestApp;
  tenant: TenantFixture;
  databaseUrl: string;
  close(): Promise<void>;
}

/** A fresh database, a simulator that knows the tenant's credential, and a polling relay. */
export async function startPollerWorld(env: Record<string, string> = {}): Promise<PollerWorld> {
  const databaseUrl = await createTestDatabase();
  const sim = await startSimulatorServer({ failSidPattern: null });
  const relay = await createTestApp(databaseUrl, {
    UXC_BASE_URL: sim.url,
    ...FAST_POLLER,
    ...env,
  });
  const tenant = await createTenant(relay);
  sim.simulator.addCredential({ ak: tenant.uxcAk, sk: tenant.uxcSk });
  return {
    sim,
    relay,
    tenant,
    databaseUrl,
    close: async () => {
      await relay.close();
      await sim.close();
    },
  };
}

export async function taskOf(relay: TestApp, tenantId: string, sid: string): Promise<Task> {
  return relay.prisma.task.findUniqueOrThrow({ where: { tenantId_sid: { tenantId, sid } } });
}

export async function eventsOf(relay: TestApp, taskId: string): Promise<TaskEvent[]> {
  return relay.prisma.taskEvent.findMany({ where: { taskId }, orderBy: { sequence: 'asc' } });
}

/** Waits until the task's history holds `count` rows; returns them. */
export function waitForEvents(
  relay: TestApp,
  tenantId: string,
  sid: string,
  count: number,
  timeoutMs = 10_000,
): Promise<TaskEvent[]> {
  return waitFor(
    `${count} events of ${sid}`,
    async () => {
      const task = await relay.prisma.task.findUnique({
        where: { tenantId_sid: { tenantId, sid } },
      });
      if (!task) return undefined;
      const events = await eventsOf(relay, task.id);
      return events.length >= count ? events : undefined;
    },
    timeoutMs,
  );
}

/** Times (ms) of the calls the simulator received for `sid`. */
export function callTimes(sim: SimulatorServer, sid: string): number[] {
  return sim.simulator
    .calls()
    .filter((call) => call.sid === sid)
    .map((call) => call.at);
}

export function gaps(times: number[]): number[] {
  return times.slice(1).map((t, i) => t - times[i]);
}

let pacers = 0;

/**
 * Waits until the poller has run at least `cycles` more polling cycles, seen
 * at the simulator: a fresh running task (a pacer, due at once and then every
 * POLL_INTERVAL_MS) has been asked about `cycles` times. A task that was not
 * asked about meanwhile was not due in any of them, which is what a test of
 * "polling stopped" needs to know without sleeping.
 */
export async function pollCyclesPass(world: PollerWorld, cycles = 4): Promise<void> {
  const sid = `BT|pacer-${++pacers}`;
  world.sim.simulator.scriptTask({ sid, mode: 'manual', steps: [running(0.5)] });
  await createSubscriptionFor(world, sid);
  await waitFor(
    `${cycles} polls of ${sid}`,
    () => (world.sim.simulator.stats().bySid[sid] ?? 0) >= cycles,
  );
}

async function createSubscriptionFor(world: PollerWorld, sid: string): Promise<void> {
  await createSubscription(world.relay, world.tenant.tenant, {
    sid,
    callbackUrl: 'http://127.0.0.1:9/hooks/pacer',
  });
}
