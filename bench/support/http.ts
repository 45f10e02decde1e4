import { Agent, request } from 'node:http';

export interface JsonAnswer<T = unknown> {
  status: number;
  body: T;
}

/** A keep-alive JSON client for the relay's REST API (node:http, no extra dependency). */
export class ApiClient {
  private readonly agent: Agent;
  private readonly base: URL;

  constructor(
    url: string,
    private readonly apiKey: string,
    sockets = 64,
  ) {
    this.base = new URL(url);
    this.agent = new Agent({ keepAlive: true, maxSockets: sockets });
  }

  call<T = unknown>(method: string, path: string, body?: unknown): Promise<JsonAnswer<T>> {
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    return new Promise((resolve, reject) => {
      const req = request(
        {
          agent: this.agent,
          host: this.base.hostname,
          port: this.base.port,
          method,
          path,
          headers: {
            authorization: `Bearer ${this.apiKey}`,
            ...(payload
              ? { 'content-type': 'application/json', 'content-length': payload.length }
              : {}),
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            let parsed: unknown = text;
            try {
              parsed = text === '' ? null : JSON.parse(text);
            } catch {
              // a non-JSON answer is returned as text
            }
            resolve({ status: res.statusCode ?? 0, body: parsed as T });
          });
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(payload);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}

export interface LoadResult {
  requests: number;
  errors: number;
  seconds: number;
  perSecond: number;
  p50Ms: number;
  p99Ms: number;
  /** answers by HTTP status */
  statuses: Record<string, number>;
}

/**
 * `clients` loops in parallel, each sending its next request as soon as the
 * previous one is answered, until `count` requests have gone or `maxMs` passed.
 */
export async function load(
  clients: number,
  count: number,
  maxMs: number,
  send: (i: number) => Promise<number>,
): Promise<LoadResult> {
  const latencies: number[] = [];
  const statuses: Record<string, number> = {};
  let next = 0;
  let errors = 0;
  const started = performance.now();
  const deadline = started + maxMs;
  const loop = async (): Promise<void> => {
    while (next < count && performance.now() < deadline) {
      const i = next++;
      const t = performance.now();
      try {
        const status = await send(i);
        statuses[status] = (statuses[status] ?? 0) + 1;
        if (status >= 300) errors++;
      } catch {
        errors++;
        statuses.error = (statuses.error ?? 0) + 1;
      }
      latencies.push(performance.now() - t);
    }
  };
  await Promise.all(Array.from({ length: clients }, loop));
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  return {
    requests: latencies.length,
    errors,
    seconds: round(seconds, 2),
    perSecond: Math.round(latencies.length / seconds),
    p50Ms: round(quantile(latencies, 0.5), 1),
    p99Ms: round(quantile(latencies, 0.99), 1),
    statuses,
  };
}

/** The q-quantile of ascending `sorted` (nearest rank); 0 for none. */
export function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}

export function round(value: number, digits = 0): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}
