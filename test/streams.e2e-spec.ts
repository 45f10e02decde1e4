import { connect } from 'node:net';
import request from 'supertest';
import { startSimulatorServer, SimulatorServer } from '../src/simulator/simulator-server';
import { TaskEventFeed } from '../src/streams/task-event-feed';
import { TASK_EVENT_CHANNEL } from '../src/tasks/task-event-channel';
import { createTestApp, TEST_ENCRYPTION_KEY, TestApp } from './support/app';
import { createTestDatabase } from './support/database';
import { bearer, createSubscription, createTenant, TenantFixture } from './support/factories';
import { FAST_POLLER, FIXTURE, queued, running, waitForEvents } from './support/poller-harness';
import { spawnRelay, waitForOk } from './support/relay-process';
import { SseClient } from './support/sse-client';
import { waitFor } from './support/wait';

const HOOK = 'http://127.0.0.1:9/streams';

/**
 * Two relays on one database: `poller` polls UXC (the simulator) and `api`
 * does not, so whatever `api` streams was observed by another process and
 * reached it through LISTEN/NOTIFY and the stored history.
 */
describe('live status: streams and long polls', () => {
  let databaseUrl: string;
  let sim: SimulatorServer;
  let poller: TestApp;
  let api: TestApp;
  let acme: TenantFixture;
  let other: TenantFixture;

  beforeAll(async () => {
    databaseUrl = await createTestDatabase();
    sim = await startSimulatorServer({ failSidPattern: null });
    poller = await createTestApp(databaseUrl, { UXC_BASE_URL: sim.url, ...FAST_POLLER });
    api = await createTestApp(databaseUrl, {
      UXC_BASE_URL: sim.url,
      POLLER_ENABLED: 'false',
      STREAM_HEARTBEAT_MS: '200',
    });
    acme = await createTenant(api);
    other = await createTenant(api);
    sim.simulator.addCredential({ ak: acme.uxcAk, sk: acme.uxcSk });
  });

  afterAll(async () => {
    await api.close();
    await poller.close();
    await sim.close();
  });

  /** A tracked task whose UXC answers move one step on each `advance`. */
  async function track(sid: string, steps = [running(0.1), running(0.6)]): Promise<string> {
    sim.simulator.scriptTask({ sid, mode: 'manual', steps });
    const subscription = await createSubscription(poller, acme.tenant, {
      sid,
      callbackUrl: `${HOOK}/${encodeURIComponent(sid)}`,
    });
    return subscription.taskId;
  }

  const streamUrl = (sid: string, query = ''): string =>
    `${api.url}/v1/tasks/${encodeURIComponent(sid)}/stream${query}`;

  it('resumed with Last-Event-ID after `running`, a stream sends every later event exactly once, then ends', async () => {
    const sid = 'BT|stream-resume';
    const { sid: _fixtureSid, ...succeeded } = FIXTURE.data;
    await track(sid, [queued(3), queued(1), running(0.5), running(0.8), { data: succeeded }]);

    const first = await SseClient.open(streamUrl(sid), bearer(acme));
    expect(first.status).toBe(200);
    expect(first.contentType).toMatch(/^text\/event-stream/);
    for (let seen = 1; seen <= 2; seen++) {
      await first.waitForEvents(seen);
      sim.simulator.advance(sid);
    }
    const [, , runningEvent] = await first.waitForEvents(3);
    expect(runningEvent).toMatchObject({ id: '3', event: 'task.running' });
    first.close();
    expect(first.events.map((e) => e.id)).toEqual(['1', '2', '3']);

    // an event while the client is away
    sim.simulator.advance(sid);
    await waitForEvents(poller, acme.tenant.id, sid, 4);

    // a new client starts with the current state
    const fresh = await SseClient.open(streamUrl(sid), bearer(acme));
    const [current] = await fresh.waitForEvents(1);
    expect(current).toMatchObject({ id: '4', event: 'task.progress' });
    fresh.close();

    const resumed = await SseClient.open(streamUrl(sid), {
      ...bearer(acme),
      'Last-Event-ID': '3',
    });
    await resumed.waitForEvents(1);
    sim.simulator.advance(sid);
    await resumed.waitForEnd();
    expect(resumed.events.map((e) => [e.id, e.event])).toEqual([
      ['4', 'task.progress'],
      ['5', 'task.succeeded'],
    ]);
    // the webhook body's data, less the subscription's fields
    const final = resumed.events[1].data;
    expect(final).toMatchObject({
      sid,
      sequence: 5,
      state: 'succeeded',
      previousState: 'running',
      status: 1,
      outputResult: FIXTURE.data.outputResult,
    });
    expect(final).not.toHaveProperty('subscriptionId');
    expect(final).not.toHaveProperty('metadata');

    // a finished task's stream, fully sent, ends at once; resumed from the middle it sends the rest
    const done = await SseClient.open(streamUrl(sid, '?lastEventId=5'), bearer(acme));
    await done.waitForEnd();
    expect(done.events).toEqual([]);
    const rest = await SseClient.open(streamUrl(sid, '?lastEventId=2'), bearer(acme));
    await rest.waitForEnd();
    expect(rest.events.map((e) => e.id)).toEqual(['3', '4', '5']);
  });

  it('a relay process that does not poll streams what another process polled, and stops at SIGTERM with the stream open', async () => {
    const sid = 'BT|stream-other-process';
    await track(sid);
    const child = await spawnRelay({
      DATABASE_URL: databaseUrl,
      ENCRYPTION_KEY: TEST_ENCRYPTION_KEY,
      UXC_BASE_URL: sim.url,
      POLLER_ENABLED: 'false',
      DISPATCHER_ENABLED: 'false',
    });
    try {
      await waitForOk(`${child.url}/health/ready`, 30_000, child);
      const stream = await SseClient.open(
        `${child.url}/v1/tasks/${encodeURIComponent(sid)}/stream`,
        bearer(acme),
      );
      expect(stream.status).toBe(200);
      await stream.waitForEvents(1);
      sim.simulator.advance(sid);
      const events = await stream.waitForEvents(2);
      expect(events.map((e) => e.event)).toEqual(['task.running', 'task.progress']);
      // an upstream error row between them (a slow poll on a loaded machine) takes a sequence too
      expect(Number(events[1].id)).toBeGreaterThan(Number(events[0].id));
      const stopping = Date.now();
      child.child.kill('SIGTERM');
      // Nest re-raises the signal once it has closed everything
      expect([0, 'SIGTERM']).toContain(await child.exited);
      expect(Date.now() - stopping).toBeLessThan(10_000);
      await stream.waitForEnd(1_000);
    } finally {
      child.child.kill('SIGKILL');
    }
  });

  it('misses nothing when the listening connection is lost: it reconnects and reads what it missed', async () => {
    const sid = 'BT|stream-listener-lost';
    await track(sid);
    const stream = await SseClient.open(streamUrl(sid), bearer(acme));
    await stream.waitForEvents(1);
    const held = request(api.url)
      .get(`/v1/tasks/${encodeURIComponent(sid)}?wait=30&after=1`)
      .set(bearer(acme))
      .then((res) => res.body as { sequence: number });
    await waitFor('the long poll listening', () =>
      api.app.get(TaskEventFeed).subscriberCount >= 2 ? true : undefined,
    );
    // every process's LISTEN connection dies; the event below is notified to no one
    const killed = await api.prisma.$queryRaw<{ pid: number }[]>`
      SELECT pid FROM pg_stat_activity WHERE query = ${`LISTEN ${TASK_EVENT_CHANNEL}`}`;
    expect(killed.length).toBeGreaterThanOrEqual(2);
    await api.prisma.$queryRaw`
      SELECT pg_terminate_backend(pid) FROM unnest(${killed.map((k) => k.pid)}::int[]) AS pid`;
    sim.simulator.advance(sid);
    const events = await stream.waitForEvents(2);
    expect(events.map((e) => e.id)).toEqual(['1', '2']);
    expect((await held).sequence).toBe(2);
    stream.close();
  });

  it('sends a comment heartbeat while nothing happens, and releases its listener on disconnect', async () => {
    const sid = 'BT|stream-heartbeat';
    await track(sid);
    await waitForEvents(poller, acme.tenant.id, sid, 1);
    const feed = api.app.get(TaskEventFeed);
    const before = feed.subscriberCount;
    const client = await SseClient.open(streamUrl(sid), bearer(acme));
    await client.waitForEvents(1);
    await waitFor('two heartbeats', () => client.comments.length >= 2, 5_000);
    expect(client.comments[0]).toBe('keep-alive');
    expect(feed.subscriberCount).toBe(before + 1);
    client.close();
    await waitFor('the listener released', () => feed.subscriberCount === before, 5_000);
  });

  it('keeps nothing open for a client that left before its stream opened', async () => {
    const sid = 'BT|stream-left-early';
    await track(sid);
    await waitForEvents(poller, acme.tenant.id, sid, 1);
    const feed = api.app.get(TaskEventFeed);
    const before = feed.subscriberCount;
    const { port } = new URL(api.url);
    // the request and the hang-up reach the relay together: the socket is gone
    // while the relay still checks the key and looks the task up
    const path = `/v1/tasks/${encodeURIComponent(sid)}/stream`;
    await Promise.all(
      Array.from({ length: 5 }, () => hangUpAfterRequest(Number(port), path, acme.apiKey)),
    );
    // a stream opened and closed after them: once it is released, so must they be
    const client = await SseClient.open(streamUrl(sid), bearer(acme));
    await client.waitForEvents(1);
    client.close();
    await waitFor('every listener released', () => feed.subscriberCount === before, 5_000);
  });

  it('answers 404 for a sid that is not tracked, or is another tenant’s', async () => {
    const sid = 'BT|stream-404';
    await track(sid);
    const unknown = await SseClient.open(streamUrl('BT|never-tracked'), bearer(acme));
    expect(unknown.status).toBe(404);
    expect(unknown.body).toContain('POST /v1/tasks');
    const foreign = await SseClient.open(streamUrl(sid), bearer(other));
    expect(foreign.status).toBe(404);
    const anonymous = await SseClient.open(streamUrl(sid));
    expect(anonymous.status).toBe(401);
    const badResume = await SseClient.open(streamUrl(sid), {
      ...bearer(acme),
      'Last-Event-ID': 'yesterday',
    });
    expect(badResume.status).toBe(400);
    expect(badResume.body).toContain('Last-Event-ID');
  });

  it('streams every task of the tenant, resumable by row id, and nothing of other tenants', async () => {
    const tenantStream = `${api.url}/v1/events/stream`;
    const client = await SseClient.open(tenantStream, bearer(acme));
    const foreign = await SseClient.open(tenantStream, bearer(other));
    expect(client.status).toBe(200);
    await waitFor('the tenant streams listening', () =>
      api.app.get(TaskEventFeed).subscriberCount >= 2 ? true : undefined,
    );
    const sids = ['BT|tenant-a', 'BT|tenant-b'];
    for (const sid of sids) await track(sid);
    // the first event of each (other tasks of the tenant stream here too)
    // before the lifecycles move on
    await waitFor('a first event of both tasks in the tenant stream', () =>
      sids.every((sid) => client.events.some((e) => e.data.sid === sid)) ? true : undefined,
    );
    for (const sid of sids) sim.simulator.advance(sid);
    // a poll may observe more than one step of a task, and an upstream error row
    // takes a sequence too: wait for a second event of each
    const events = await waitFor('a second event of both tasks in the tenant stream', () =>
      sids.every((sid) => client.events.filter((e) => e.data.sid === sid).length >= 2)
        ? [...client.events]
        : undefined,
    );
    const ours = events.filter((e) => sids.includes(e.data.sid as string));
    for (const sid of sids) {
      const sequences = ours.filter((e) => e.data.sid === sid).map((e) => Number(e.data.sequence));
      expect(sequences[0]).toBe(1);
      expect(sequences).toEqual([...new Set(sequences)].sort((a, b) => a - b));
    }
    const ids = events.map((e) => BigInt(e.id));
    expect(new Set(ids).size).toBe(events.length);

    const resumed = await SseClient.open(tenantStream, {
      ...bearer(acme),
      'Last-Event-ID': events[1].id,
    });
    const later = events.slice(2).map((e) => e.id);
    const rest = await resumed.waitForEvents(later.length);
    expect(
      rest
        .slice(0, later.length)
        .map((e) => e.id)
        .sort(),
    ).toEqual(later.sort());
    expect(foreign.events).toEqual([]);
    for (const c of [client, foreign, resumed]) c.close();
  });

  it('long poll answers within 1 s of the change, and at the end of the wait otherwise', async () => {
    const sid = 'BT|long-poll';
    const taskId = await track(sid);
    await waitForEvents(poller, acme.tenant.id, sid, 1);
    const feed = api.app.get(TaskEventFeed);
    const before = feed.subscriberCount;

    const started = Date.now();
    const held = request(api.url)
      .get(`/v1/tasks/${encodeURIComponent(sid)}?wait=30`)
      .set(bearer(acme))
      .then((res) => ({ res, at: Date.now() }));
    await waitFor('the long poll listening', () => feed.subscriberCount > before);
    sim.simulator.advance(sid);
    const changedAt = await waitFor('the change committed', async () => {
      const task = await poller.prisma.task.findUniqueOrThrow({ where: { id: taskId } });
      return task.sequence >= 2 && Date.now();
    });
    const { res, at } = await held;
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ sid, sequence: 2, progress: 0.6 });
    expect(at - changedAt).toBeLessThan(1000);
    expect(at - started).toBeLessThan(30_000);

    // nothing happens: the current state after the wait
    const quiet = Date.now();
    const idle = await request(api.url)
      .get(`/v1/tasks/${encodeURIComponent(sid)}`)
      .set({ ...bearer(acme), Prefer: 'wait=1' })
      .expect(200);
    expect(Date.now() - quiet).toBeGreaterThanOrEqual(950);
    expect(idle.body.sequence).toBe(2);

    // `after` already passed: at once
    const passed = Date.now();
    await request(api.url)
      .get(`/v1/tasks/${encodeURIComponent(sid)}?wait=30&after=1`)
      .set(bearer(acme))
      .expect(200);
    expect(Date.now() - passed).toBeLessThan(1000);
    await waitFor('long polls released', () => feed.subscriberCount === before);
  });

  it('lets go of a long poll whose client leaves while it waits', async () => {
    const sid = 'BT|long-poll-left';
    await track(sid);
    await waitForEvents(poller, acme.tenant.id, sid, 1);
    const feed = api.app.get(TaskEventFeed);
    const before = feed.subscriberCount;
    const { port } = new URL(api.url);
    const socket = connect(Number(port), '127.0.0.1');
    await new Promise((connected) => socket.once('connect', connected));
    socket.write(
      `GET /v1/tasks/${encodeURIComponent(sid)}?wait=60 HTTP/1.1\r\nHost: 127.0.0.1\r\n` +
        `Authorization: Bearer ${acme.apiKey}\r\n\r\n`,
    );
    await waitFor('the long poll listening', () => feed.subscriberCount > before);
    socket.destroy();
    await waitFor('the long poll released', () => feed.subscriberCount === before, 5_000);
  });

  it('long poll refuses a bad wait or after, naming it, and 404s an untracked sid', async () => {
    const path = `/v1/tasks/${encodeURIComponent('BT|long-poll')}`;
    const tooLong = await request(api.url).get(`${path}?wait=61`).set(bearer(acme)).expect(400);
    expect(tooLong.body.message).toMatch(/^wait /);
    const badAfter = await request(api.url)
      .get(`${path}?wait=1&after=-1`)
      .set(bearer(acme))
      .expect(400);
    expect(badAfter.body.message).toMatch(/^after /);
    const untracked = await request(api.url)
      .get('/v1/tasks/BT%7Cnope?wait=5')
      .set(bearer(acme))
      .expect(404);
    // it says how to start tracking, either way
    expect(untracked.body.message).toContain('POST /v1/tasks');
    expect(untracked.body.message).toContain('POST /v1/subscriptions');
  });

  it('stream tokens open streams without headers, only the streams they were issued for', async () => {
    const sid = 'BT|token';
    await track(sid);
    await waitForEvents(poller, acme.tenant.id, sid, 1);
    const issued = await request(api.url)
      .post('/v1/stream-tokens')
      .set(bearer(acme))
      .send({ sid, ttlSeconds: 60 })
      .expect(201);
    const { token, expiresAt } = issued.body as { token: string; expiresAt: string };
    const ttl = new Date(expiresAt).getTime() - Date.now();
    expect(ttl).toBeGreaterThan(55_000);
    expect(ttl).toBeLessThanOrEqual(60_000);

    const stream = await SseClient.open(streamUrl(sid, `?token=${encodeURIComponent(token)}`));
    expect(stream.status).toBe(200);
    await stream.waitForEvents(1);
    stream.close();

    // refused everywhere else
    await request(api.url)
      .get(`/v1/tasks/${encodeURIComponent(sid)}`)
      .query({ token })
      .expect(401);
    await request(api.url).get('/v1/subscriptions').query({ token }).expect(401);
    await request(api.url).post('/v1/stream-tokens').query({ token }).send({}).expect(401);
    const otherTask = await SseClient.open(
      streamUrl('BT|stream-404', `?token=${encodeURIComponent(token)}`),
    );
    expect(otherTask.status).toBe(403);
    const tenantWide = await SseClient.open(
      `${api.url}/v1/events/stream?token=${encodeURIComponent(token)}`,
    );
    expect(tenantWide.status).toBe(403);

    // a token without a sid opens the tenant's stream and any of its tasks'
    const wide = await request(api.url).post('/v1/stream-tokens').set(bearer(acme)).send({});
    const wideToken = encodeURIComponent(wide.body.token as string);
    const all = await SseClient.open(`${api.url}/v1/events/stream?token=${wideToken}`);
    expect(all.status).toBe(200);
    all.close();

    const forged = await SseClient.open(streamUrl(sid, `?token=${wideToken}x`));
    expect(forged.status).toBe(401);
    const bad = await request(api.url)
      .post('/v1/stream-tokens')
      .set(bearer(acme))
      .send({ ttlSeconds: 86_400 })
      .expect(400);
    expect(bad.body.message).toMatch(/^ttlSeconds /);
  });

  it('closes cleanly with streams and long polls open', async () => {
    const sid = 'BT|shutdown';
    await track(sid);
    await waitForEvents(poller, acme.tenant.id, sid, 1);
    const doomed = await createTestApp(databaseUrl, {
      UXC_BASE_URL: sim.url,
      POLLER_ENABLED: 'false',
    });
    const stream = await SseClient.open(
      `${doomed.url}/v1/tasks/${encodeURIComponent(sid)}/stream`,
      bearer(acme),
    );
    await stream.waitForEvents(1);
    const held = request(doomed.url)
      .get(`/v1/tasks/${encodeURIComponent(sid)}?wait=60`)
      .set(bearer(acme))
      .then((res) => res.status);
    await waitFor('both listening', () => doomed.app.get(TaskEventFeed).subscriberCount >= 2);
    const closing = Date.now();
    await doomed.close();
    expect(Date.now() - closing).toBeLessThan(5_000);
    await stream.waitForEnd(1_000);
    expect(await held).toBe(200);
  });
});

/** Sends a GET and closes the socket at once, without reading the answer. */
function hangUpAfterRequest(port: number, path: string, apiKey: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => {
      socket.end(
        `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${apiKey}\r\n\r\n`,
      );
      socket.destroy();
      resolve();
    });
    socket.on('error', reject);
  });
}
