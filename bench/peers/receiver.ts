/**
 * Webhook receivers: one HTTP server per port (each port is a host to the
 * relay), answering 204 at once. Nothing heavy is verified; each request is
 * recorded with its receipt time on this process's clock, its webhook-id and
 * what its body says (subscription, sequence, sid, the plan step it reports).
 */
import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import { AddressInfo } from 'node:net';
import { nowMs, servePeer } from '../support/peer';

export interface Receipt {
  at: number;
  host: number;
  webhookId: string;
  subscriptionId: string;
  sequence: number;
  sid: string;
  type: string;
  message: string;
}

export interface ReceiverCounts {
  received: number;
  /** the most requests any one host had open at once */
  maxConcurrentPerHost: number[];
  /** TCP connections opened to each host since the last reset: a keep-alive client's pool size */
  connectionsPerHost: number[];
  /** the most requests open at once over all hosts */
  maxConcurrent: number;
  firstAt: number | null;
  lastAt: number | null;
  /** webhooks by event type (recorded ones only) */
  byType: Record<string, number>;
}

const servers: Server[] = [];
let receipts: Receipt[] = [];
let record = true;
let received = 0;
let firstAt: number | null = null;
let lastAt: number | null = null;
let open: number[] = [];
let byType: Record<string, number> = {};
let openTotal = 0;
let connections: number[] = [];
let maxOpenTotal = 0;
let maxOpen: number[] = [];

function handler(host: number) {
  return (req: IncomingMessage, res: ServerResponse): void => {
    open[host]++;
    if (open[host] > maxOpen[host]) maxOpen[host] = open[host];
    openTotal++;
    if (openTotal > maxOpenTotal) maxOpenTotal = openTotal;
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const at = nowMs();
      received++;
      firstAt ??= at;
      lastAt = at;
      if (record) {
        try {
          const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
            type: string;
            data: { subscriptionId: string; sequence: number; sid: string; message: string };
          };
          receipts.push({
            at,
            host,
            webhookId: String(req.headers['webhook-id']),
            subscriptionId: body.data.subscriptionId,
            sequence: body.data.sequence,
            sid: body.data.sid,
            type: body.type,
            message: body.data.message,
          });
          byType[body.type] = (byType[body.type] ?? 0) + 1;
        } catch {
          // counted all the same; a body that is not a webhook has nothing to record
        }
      }
      open[host]--;
      openTotal--;
      res.writeHead(204).end();
    });
  };
}

servePeer({
  start: async (args: { hosts: number }) => {
    open = new Array<number>(args.hosts).fill(0);
    maxOpen = new Array<number>(args.hosts).fill(0);
    connections = new Array<number>(args.hosts).fill(0);
    const ports: number[] = [];
    for (let host = 0; host < args.hosts; host++) {
      const server = createServer({ keepAliveTimeout: 60_000 }, handler(host));
      server.on('connection', () => connections[host]++);
      await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
      servers.push(server);
      ports.push((server.address() as AddressInfo).port);
    }
    return { ports };
  },
  /** forget what came so far; `record: false` only counts (for the wire loop) */
  reset: (args: { record: boolean }) => {
    receipts = [];
    record = args.record;
    received = 0;
    firstAt = null;
    lastAt = null;
    byType = {};
    maxOpenTotal = 0;
    connections = connections.map(() => 0);
    maxOpen = maxOpen.map(() => 0);
  },
  counts: (): ReceiverCounts => ({
    received,
    maxConcurrentPerHost: maxOpen,
    maxConcurrent: maxOpenTotal,
    connectionsPerHost: connections,
    firstAt,
    lastAt,
    byType,
  }),
  receipts: (): Receipt[] => receipts,
});
