import request from 'supertest';
import { createTestApp, TestApp } from './support/app';
import { createTestDatabase } from './support/database';
import { appendTaskEvent, createSubscription } from './support/factories';
import { WebhookReceiver } from './support/receiver';
import { TenantFixture, bearer, createTenant } from './support/factories';
import { PollerWorld, running, startPollerWorld } from './support/poller-harness';
import { waitFor } from './support/wait';

/**
 * The lines an operator acts on, read from the relay's captured log: each
 * event has one line at warn or info with its ids, and no line carries a secret.
 */
interface LogLine {
  level: string;
  msg: string;
  context?: string;
  [field: string]: unknown;
}

function linesOf(world: PollerWorld): LogLine[] {
  return world.relay.logs.lines.map((line) => JSON.parse(line) as LogLine);
}

async function subscribe(world: PollerWorld, tenant: TenantFixture, sid: string): Promise<string> {
  await request(world.relay.url)
    .post('/v1/subscriptions')
    .set(bearer(tenant))
    .send({ sid, callbackUrl: 'http://127.0.0.1:9/hook' })
    .expect(201);
  const task = await world.relay.prisma.task.findFirstOrThrow({
    where: { tenantId: tenant.tenant.id, sid },
  });
  return task.id;
}

async function trackingOf(world: PollerWorld, tenant: TenantFixture, sid: string): Promise<string> {
  const answer = await request(world.relay.url)
    .get(`/v1/tasks/${encodeURIComponent(sid)}`)
    .set(bearer(tenant))
    .expect(200);
  return (answer.body as { tracking: string }).tracking;
}

function expectNoSecret(world: PollerWorld, tenants: TenantFixture[]): void {
  const text = world.relay.logs.text;
  for (const tenant of tenants) {
    for (const secret of [tenant.uxcSk, tenant.apiKey, tenant.webhookSecret]) {
      expect(text).not.toContain(secret);
    }
  }
}

describe('operational log lines', () => {
  let world: PollerWorld;
  afterEach(() => world?.close());

  it("UXC refusing a tenant's credentials: one warning per run of refusals, then one line per task given up as error", async () => {
    world = await startPollerWorld({ UXC_ERROR_GIVE_UP: '1500ms' });
    // the simulator does not know this tenant's credential: it answers errNo 3002
    const refused = await createTenant(world.relay);
    const sids = ['BT|refused-1', 'BT|refused-2'];
    const taskIds = [];
    for (const sid of sids) taskIds.push(await subscribe(world, refused, sid));

    for (const sid of sids) {
      await waitFor(
        'tracking error',
        async () => (await trackingOf(world, refused, sid)) === 'error',
        15_000,
      );
    }
    // many refused polls, one line
    expect(world.sim.simulator.stats().unauthorized).toBeGreaterThanOrEqual(4);
    const refusals = linesOf(world).filter((line) => /UXC refuses the credentials/.test(line.msg));
    expect(refusals).toEqual([
      expect.objectContaining({
        level: 'warn',
        tenantId: refused.tenant.id,
        ak: refused.uxcAk,
        errNo: 3002,
        msg: expect.stringContaining(
          `tenant ${refused.tenant.id} (ak ${refused.uxcAk}): errNo 3002`,
        ),
      }),
    ]);

    for (const [i, taskId] of taskIds.entries()) {
      // the line follows the database write
      const gaveUp = await waitFor('the error line', () => {
        const found = linesOf(world).filter((line) => line.taskId === taskId);
        return found.length > 0 && found;
      });
      expect(gaveUp).toEqual([
        expect.objectContaining({
          level: 'warn',
          tenantId: refused.tenant.id,
          sid: sids[i],
          tracking: 'error',
          msg: expect.stringContaining(
            `task ${taskId} (sid "${sids[i]}", tenant ${refused.tenant.id})`,
          ),
        }),
      ]);
    }
    expectNoSecret(world, [world.tenant, refused]);
  }, 30_000);

  it('a task that does not finish within TASK_TTL: one line when its tracking becomes expired', async () => {
    world = await startPollerWorld({ TASK_TTL: '2s' });
    const sid = 'BT|never-finishes';
    world.sim.simulator.scriptTask({ sid, mode: 'manual', steps: [running(0.5)] });
    const taskId = await subscribe(world, world.tenant, sid);

    await waitFor(
      'tracking expired',
      async () => (await trackingOf(world, world.tenant, sid)) === 'expired',
      15_000,
    );
    // the line follows the database write
    const expired = await waitFor('the expired line', () => {
      const found = linesOf(world).filter((line) => line.taskId === taskId);
      return found.length > 0 && found;
    });
    expect(expired).toEqual([
      expect.objectContaining({
        level: 'warn',
        tenantId: world.tenant.tenant.id,
        sid,
        tracking: 'expired',
        msg: expect.stringMatching(
          /not finished \d+s after tracking began \(TASK_TTL\); tracking is now expired$/,
        ),
      }),
    ]);
    expectNoSecret(world, [world.tenant]);
  }, 30_000);

  describe('webhook deliveries', () => {
    let relay: TestApp;
    let receiver: WebhookReceiver;
    afterEach(async () => {
      await receiver?.close();
      await relay?.close();
    });

    const dispatcherLines = (): LogLine[] =>
      relay.logs.lines
        .map((line) => JSON.parse(line) as LogLine)
        .filter((line) => line.context === 'DispatcherService');

    it('a failed attempt says what failed and when it is tried again; the last one says it failed for good', async () => {
      relay = await createTestApp(await createTestDatabase(), {
        DISPATCHER_ENABLED: 'true',
        WEBHOOK_RETRY_SCHEDULE: '200ms',
      });
      const tenant = await createTenant(relay);
      receiver = await WebhookReceiver.start({ answer: { status: 503 } });
      const sub = await createSubscription(relay, tenant.tenant, {
        sid: 'BT|log-retry',
        callbackUrl: receiver.url('/down'),
      });
      await appendTaskEvent(relay, sub.taskId, { type: 'task.queued', state: 'queued' });
      const lines = await waitFor('two attempt lines', () => {
        const found = dispatcherLines().filter((line) => line.subscriptionId === sub.id);
        return found.length >= 2 && found;
      });
      const [retry, final] = lines;
      expect(retry).toEqual(
        expect.objectContaining({
          level: 'warn',
          attempt: 1,
          statusCode: 503,
          nextAttemptAt: expect.any(String),
          msg: expect.stringMatching(
            /^webhook attempt 1 failed: delivery msg_\w+ .*HTTP 503; next attempt at /,
          ),
        }),
      );
      expect(final).toEqual(
        expect.objectContaining({
          level: 'warn',
          attempt: 2,
          deliveryId: retry.deliveryId,
          msg: expect.stringContaining('failed for good after 2 attempts'),
        }),
      );
      const text = relay.logs.text;
      for (const secret of [tenant.uxcSk, tenant.apiKey, tenant.webhookSecret]) {
        expect(text).not.toContain(secret);
      }
    });

    it('a 410 says the subscription is disabled', async () => {
      relay = await createTestApp(await createTestDatabase(), { DISPATCHER_ENABLED: 'true' });
      const tenant = await createTenant(relay);
      receiver = await WebhookReceiver.start({ answer: { status: 410 } });
      const sub = await createSubscription(relay, tenant.tenant, {
        sid: 'BT|log-gone',
        callbackUrl: receiver.url('/gone'),
      });
      await appendTaskEvent(relay, sub.taskId, { type: 'task.queued', state: 'queued' });
      const [line] = await waitFor('the disabled line', () => {
        const found = dispatcherLines().filter((l) => l.subscriptionId === sub.id);
        return found.length > 0 && found;
      });
      expect(line).toEqual(
        expect.objectContaining({
          level: 'warn',
          statusCode: 410,
          msg: expect.stringContaining(
            `subscription ${sub.id} disabled: its endpoint answered 410 Gone`,
          ),
        }),
      );
    });
  });
});
