import request from 'supertest';
import { bearer, createSubscription } from './support/factories';
import {
  PollerWorld,
  running,
  startPollerWorld,
  taskOf,
  waitForEvents,
} from './support/poller-harness';
import { waitFor } from './support/wait';

const HOOK = 'http://127.0.0.1:9/hook';

describe('GET /v1/tasks/:sid shows the last upstream error', () => {
  let world: PollerWorld;

  beforeAll(async () => {
    world = await startPollerWorld();
  });
  afterAll(() => world.close());

  const get = (sid: string) =>
    request(world.relay.url)
      .get(`/v1/tasks/${encodeURIComponent(sid)}`)
      .set(bearer(world.tenant))
      .expect(200);

  it('is null while UXC answers, shows refused credentials while they last, and keeps the last one after recovery', async () => {
    const { sim, relay, tenant } = world;
    const sid = 'BT|credentials refused';
    sim.simulator.scriptTask({ sid, mode: 'manual', steps: [running(0.1), running(0.6)] });
    await createSubscription(relay, tenant.tenant, { sid, callbackUrl: HOOK });
    await waitForEvents(relay, tenant.tenant.id, sid, 1);
    expect((await get(sid)).body.lastError).toBeNull();

    const before = Date.now();
    sim.simulator.addFault({
      kind: 'errNo',
      sid,
      errNo: 3002,
      errMsg: 'invalid ak or sk',
      count: 3,
    });
    await waitFor(
      'the first error',
      async () => (await taskOf(relay, tenant.tenant.id, sid)).consecutiveErrors >= 1,
    );
    const during = (await get(sid)).body;
    expect(during.lastError).toEqual({
      errNo: 3002,
      errMsg: 'invalid ak or sk',
      at: expect.any(String),
    });
    expect(Date.parse(during.lastError.at)).toBeGreaterThanOrEqual(before - 5);
    expect(Date.parse(during.lastError.at)).toBeLessThanOrEqual(Date.now());
    expect(during.tracking).toBe('active');

    await waitFor('recovery', async () => {
      const task = await taskOf(relay, tenant.tenant.id, sid);
      return task.consecutiveErrors === 0 && task.errorSince === null;
    });
    const after = (await get(sid)).body;
    const history = await relay.prisma.taskEvent.findFirstOrThrow({
      where: { task: { sid }, type: 'uxc.error' },
    });
    expect(after.lastError).toEqual({
      errNo: 3002,
      errMsg: 'invalid ak or sk',
      at: history.observedAt.toISOString(),
    });
    // lists show it too
    const list = await request(relay.url).get('/v1/tasks').set(bearer(tenant)).expect(200);
    const item = list.body.items.find((t: { sid: string }) => t.sid === sid);
    expect(item.lastError).toEqual(after.lastError);
  });

  it('names a timeout, which has no errNo', async () => {
    const { sim, relay, tenant } = world;
    const sid = 'BT|uxc hangs';
    sim.simulator.scriptTask({ sid, mode: 'manual', steps: [running(0.1)] });
    await createSubscription(relay, tenant.tenant, { sid, callbackUrl: HOOK });
    await waitForEvents(relay, tenant.tenant.id, sid, 1);
    sim.simulator.addFault({ kind: 'hang', sid, ms: 3000, count: 1 });
    await waitFor(
      'the timeout',
      async () => (await taskOf(relay, tenant.tenant.id, sid)).consecutiveErrors >= 1,
    );
    const { lastError } = (await get(sid)).body;
    expect(lastError).toMatchObject({ errNo: null, errMsg: expect.stringMatching(/^timeout: /) });
  });
});
