import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { Webhook } from 'standardwebhooks';

/** One request as the receiver saw it. */
/** Standard Webhooks' tolerance for a timestamp's distance from the receiver's clock */
const SIGNATURE_TOLERANCE_SECONDS = 5 * 60;

export interface ReceivedRequest {
  /** Date.now() when the request's body had fully arrived */
  at: number;
  method: string;
  path: string;
  headers: Record<string, string>;
  body: string;
  webhookId: string;
  /** the parsed body, or undefined when it is not JSON */
  json: unknown;
  /** the status code answered (or about to be answered, while delayed) */
  status: number;
}

/** How to answer one request. */
export interface Answer {
  status?: number;
  /** wait this long before answering */
  delayMs?: number;
  /** answer only once this settles (the test decides when the request ends) */
  until?: Promise<unknown>;
  headers?: Record<string, string>;
  body?: string;
  /** sets Retry-After (seconds or an HTTP date) */
  retryAfter?: number | string;
  /** answers 302 with this Location */
  redirectTo?: string;
  /** closes the connection without answering */
  hangUp?: boolean;
}

export interface ReceiverOptions {
  /** answers 401 to a request that none of these Standard Webhooks secrets verifies */
  secrets?: string[];
  /** the answer when no scripted one is queued; 200 by default */
  answer?: Answer | ((request: ReceivedRequest) => Answer);
  /** listen on this port (e.g. to come back on the same URL after a stop) */
  port?: number;
}

/**
 * A real HTTP webhook receiver on 127.0.0.1 for tests: records every request
 * with its headers and raw body, answers as scripted (status sequences,
 * delays, Retry-After, redirects, hang-ups), can verify signatures with the
 * `standardwebhooks` package, and can go down and come back on the same port.
 */
export class WebhookReceiver {
  readonly requests: ReceivedRequest[] = [];
  /** requests arrived but not answered yet, highest seen */
  maxConcurrent = 0;
  private concurrent = 0;
  private readonly scripted: Answer[] = [];
  private server: http.Server | null = null;
  private readonly sockets = new Set<Socket>();
  private waiters: (() => void)[] = [];
  private constructor(
    private options: ReceiverOptions,
    public port: number,
  ) {}

  static async start(options: ReceiverOptions = {}): Promise<WebhookReceiver> {
    const receiver = new WebhookReceiver(options, options.port ?? 0);
    await receiver.listen();
    return receiver;
  }

  /** A URL on this receiver; the path tells subscriptions apart. */
  url(path = '/hook'): string {
    return `http://127.0.0.1:${this.port}${path}`;
  }

  /** Queues answers for the next requests, in order; after them the default answer applies. */
  script(...answers: Answer[]): void {
    this.scripted.push(...answers);
  }

  setAnswer(answer: ReceiverOptions['answer']): void {
    this.options = { ...this.options, answer };
  }

  /** Requests for one path. */
  on(path: string): ReceivedRequest[] {
    return this.requests.filter((request) => request.path === path);
  }

  /** Resolves once `predicate` holds, checked on every request; rejects after `timeoutMs`. */
  async waitFor(
    predicate: (requests: ReceivedRequest[]) => boolean,
    timeoutMs = 10_000,
  ): Promise<ReceivedRequest[]> {
    const deadline = Date.now() + timeoutMs;
    while (!predicate(this.requests)) {
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new Error(
          `receiver: condition not met within ${timeoutMs} ms (${this.requests.length} requests so far)`,
        );
      }
      await new Promise<void>((done) => {
        const timer = setTimeout(done, Math.min(left, 50));
        this.waiters.push(() => {
          clearTimeout(timer);
          done();
        });
      });
    }
    return this.requests;
  }

  /** Waits until `count` requests have arrived in all. */
  waitForCount(count: number, timeoutMs?: number): Promise<ReceivedRequest[]> {
    return this.waitFor((requests) => requests.length >= count, timeoutMs);
  }

  /** The verified payload, as a client would check it; throws when the signature does not verify. */
  static verify(request: ReceivedRequest, secret: string): unknown {
    // Webhook.verify judges the timestamp against the clock now, so a ledger
    // read more than its 5-minute tolerance after a request arrived (a soak)
    // would call every older request unsigned: judge it against the moment it
    // arrived, and let the package compute the signature
    const header = (name: string): string | undefined =>
      Object.entries(request.headers).find(([key]) => key.toLowerCase() === name)?.[1];
    const id = header('webhook-id');
    const stamp = header('webhook-timestamp');
    const signatures = header('webhook-signature');
    if (!id || !stamp || !signatures) throw new Error('missing webhook headers');
    const seconds = Number(stamp);
    if (!Number.isInteger(seconds)) throw new Error(`webhook-timestamp ${stamp} is not a number`);
    if (Math.abs(request.at / 1000 - seconds) > SIGNATURE_TOLERANCE_SECONDS) {
      throw new Error(`webhook-timestamp ${stamp} was stale when the request arrived`);
    }
    const expected = new Webhook(secret).sign(id, new Date(seconds * 1000), request.body);
    if (!signatures.split(' ').includes(expected)) throw new Error('no matching signature');
    return request.body === '' ? undefined : JSON.parse(request.body);
  }

  static verifies(request: ReceivedRequest, secret: string): boolean {
    try {
      WebhookReceiver.verify(request, secret);
      return true;
    } catch {
      return false;
    }
  }

  /** Closes idle and open connections, so the next request must connect anew. */
  dropConnections(): void {
    for (const socket of this.sockets) socket.destroy();
  }

  /** Stops listening and drops every connection: the receiver is down. */
  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = null;
    await new Promise<void>((done) => {
      server.close(() => done());
      server.closeAllConnections();
      this.dropConnections();
    });
  }

  /** Comes back on the same port. */
  async restart(): Promise<void> {
    if (!this.server) await this.listen();
  }

  close(): Promise<void> {
    return this.stop();
  }

  private async listen(): Promise<void> {
    const server = http.createServer((req, res) => this.handle(req, res));
    server.keepAliveTimeout = 30_000;
    server.on('connection', (socket: Socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.port = (server.address() as AddressInfo).port;
    this.server = server;
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const headers: Record<string, string> = {};
      for (const [name, value] of Object.entries(req.headers)) {
        if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value;
      }
      let json: unknown;
      try {
        json = JSON.parse(body);
      } catch {
        json = undefined;
      }
      const request: ReceivedRequest = {
        at: Date.now(),
        method: req.method ?? '',
        path: (req.url ?? '').split('?')[0],
        headers,
        body,
        webhookId: headers['webhook-id'] ?? '',
        json,
        status: 0,
      };
      const answer = this.answerFor(request);
      const verified =
        !this.options.secrets ||
        this.options.secrets.some((secret) => WebhookReceiver.verifies(request, secret));
      request.status = !verified
        ? 401
        : (answer.status ?? (answer.redirectTo !== undefined ? 302 : 200));
      this.requests.push(request);
      this.concurrent += 1;
      this.maxConcurrent = Math.max(this.maxConcurrent, this.concurrent);
      const waiters = this.waiters;
      this.waiters = [];
      waiters.forEach((wake) => wake());

      const respond = (): void => {
        this.concurrent -= 1;
        if (answer.hangUp) {
          req.socket.destroy();
          return;
        }
        const responseHeaders: Record<string, string> = {
          'content-type': 'text/plain',
          ...answer.headers,
        };
        if (answer.retryAfter !== undefined)
          responseHeaders['retry-after'] = String(answer.retryAfter);
        if (answer.redirectTo !== undefined) responseHeaders.location = answer.redirectTo;
        res.writeHead(request.status, responseHeaders);
        res.end(answer.body ?? (verified ? 'ok' : 'signature does not verify'));
      };
      if (answer.delayMs || answer.until) {
        let pending = true;
        const once = (): void => {
          if (!pending) return;
          pending = false;
          respond();
        };
        const timer = answer.delayMs ? setTimeout(once, answer.delayMs) : undefined;
        void answer.until?.then(once, once);
        res.on('close', () => {
          if (pending && !res.writableFinished) {
            pending = false;
            clearTimeout(timer);
            this.concurrent -= 1;
          }
        });
      } else {
        respond();
      }
    });
  }

  private answerFor(request: ReceivedRequest): Answer {
    const scripted = this.scripted.shift();
    if (scripted) return scripted;
    const fallback = this.options.answer;
    if (typeof fallback === 'function') return fallback(request);
    return fallback ?? {};
  }
}
