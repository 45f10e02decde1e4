/**
 * The wire ceiling: a plain keep-alive loop (node:http Agent, no database)
 * that POSTs signed Standard Webhooks bodies of the relay's shape to the same
 * receivers, with a given number of requests open per host.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { Agent, request } from 'node:http';
import { servePeer } from '../support/peer';

export interface WireLoopRun {
  ports: number[];
  perHost: number;
  count: number;
  maxMs: number;
}

export interface WireLoopResult {
  sent: number;
  failed: number;
  seconds: number;
  perSecond: number;
}

const key = randomBytes(24);

function body(n: number): string {
  return JSON.stringify({
    type: 'task.running',
    timestamp: new Date().toISOString(),
    data: {
      subscriptionId: `sub_${randomBytes(10).toString('hex')}`,
      sid: `BT|wire-${n}`,
      sequence: 2,
      state: 'running',
      previousState: 'queued',
      status: 200,
      previousStatus: 100,
      progress: 0.5,
      queueNum: 0,
      queueTotal: 0,
      costTime: 0,
      message: 'running',
      outputResult: [],
      metadata: null,
    },
  });
}

function post(agent: Agent, port: number, n: number): Promise<boolean> {
  const text = body(n);
  const id = `msg_${randomBytes(12).toString('hex')}`;
  const timestamp = Math.floor(Date.now() / 1000);
  const signature = createHmac('sha256', key).update(`${id}.${timestamp}.${text}`).digest('base64');
  return new Promise((done) => {
    const req = request(
      {
        agent,
        host: '127.0.0.1',
        port,
        method: 'POST',
        path: '/wire',
        headers: {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(text),
          'webhook-id': id,
          'webhook-timestamp': String(timestamp),
          'webhook-signature': `v1,${signature}`,
        },
      },
      (res) => {
        res.resume();
        res.on('end', () => done((res.statusCode ?? 0) < 300));
      },
    );
    req.on('error', () => done(false));
    req.end(text);
  });
}

servePeer({
  start: () => ({}),
  run: async (args: WireLoopRun): Promise<WireLoopResult> => {
    const agents = args.ports.map(() => new Agent({ keepAlive: true, maxSockets: args.perHost }));
    let next = 0;
    let sent = 0;
    let failed = 0;
    const started = performance.now();
    const deadline = started + args.maxMs;
    const loop = async (host: number): Promise<void> => {
      while (next < args.count && performance.now() < deadline) {
        const n = next++;
        if (await post(agents[host], args.ports[host], n)) sent++;
        else failed++;
      }
    };
    const loops: Promise<void>[] = [];
    for (let host = 0; host < args.ports.length; host++)
      for (let i = 0; i < args.perHost; i++) loops.push(loop(host));
    await Promise.all(loops);
    const seconds = (performance.now() - started) / 1000;
    for (const agent of agents) agent.destroy();
    return { sent, failed, seconds, perSecond: Math.round(sent / seconds) };
  },
});
