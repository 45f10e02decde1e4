import * as http from 'node:http';
import { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { HostResolver } from '../webhooks/callback-url-policy';
import { RETRY_AFTER_MAX_MS, WebhookSender } from './webhook-sender';
import { buildWebhookHeaders, generateWebhookSecret } from '../webhooks/webhook-signer';

interface Received {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

interface TestServer {
  origin: string;
  port: number;
  requests: Received[];
  /** Connections ever accepted. */
  connections: number;
  /** Connections still open. */
  open: number;
  close(): Promise<void>;
}

/** A real HTTP receiver on 127.0.0.1 that records what reaches it. */
async function startServer(
  handler: (req: http.IncomingMessage, res: http.ServerResponse, body: string) => void,
): Promise<TestServer> {
  const state: TestServer = {
    origin: '',
    port: 0,
    requests: [],
    connections: 0,
    open: 0,
    close: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      state.requests.push({
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body,
      });
      handler(req, res, body);
    });
  });
  server.on('connection', (socket) => {
    state.connections++;
    state.open++;
    socket.on('close', () => state.open--);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  state.port = (server.address() as AddressInfo).port;
  state.origin = `http://127.0.0.1:${state.port}`;
  return state;
}

function fixedResolver(...answers: string[][]): HostResolver & { calls: number } {
  let calls = 0;
  const resolve = async (host: string): Promise<string[]> => {
    const answer = answers[Math.min(calls, answers.length - 1)];
    calls++;
    resolve.calls = calls;
    if (answer.length === 0) {
      throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' });
    }
    return answer;
  };
  resolve.calls = 0;
  return resolve;
}

const secret = generateWebhookSecret();
const body = JSON.stringify({ type: 'task.running', data: { sid: 'BT|1', sequence: 2 } });
const headers = (): Record<string, string> =>
  buildWebhookHeaders('msg_test', body, [secret], new Date());

describe('WebhookSender against real HTTP servers', () => {
  const servers: TestServer[] = [];
  const senders: WebhookSender[] = [];
  const server = async (handler: Parameters<typeof startServer>[0]): Promise<TestServer> => {
    const started = await startServer(handler);
    servers.push(started);
    return started;
  };
  const sender = (
    options: Partial<ConstructorParameters<typeof WebhookSender>[0]> = {},
  ): WebhookSender => {
    const created = new WebhookSender({ timeoutMs: 5000, allowPrivateNetworks: true, ...options });
    senders.push(created);
    return created;
  };

  afterEach(async () => {
    senders.splice(0).forEach((s) => s.close());
    await Promise.all(servers.splice(0).map((s) => s.close()));
  });

  it('POSTs the exact body and headers, which the receiver verifies', async () => {
    const receiver = await server((req, res, received) => {
      try {
        new Webhook(secret).verify(received, req.headers as Record<string, string>);
        res.writeHead(204).end();
      } catch {
        res.writeHead(400).end();
      }
    });
    const sent = headers();
    const result = await sender().send(`${receiver.origin}/hooks/uxc?x=1`, sent, body);

    expect(result).toEqual({
      statusCode: 204,
      durationMs: expect.any(Number),
      error: null,
      responseBody: '',
      responseHeaders: expect.objectContaining({ connection: 'keep-alive' }),
      retryAfterMs: null,
      refused: false,
    });
    expect(receiver.requests).toHaveLength(1);
    const [request] = receiver.requests;
    expect(request).toMatchObject({ method: 'POST', url: '/hooks/uxc?x=1', body });
    expect(request.headers).toMatchObject({
      'webhook-id': 'msg_test',
      'webhook-timestamp': sent['webhook-timestamp'],
      'webhook-signature': sent['webhook-signature'],
      'content-type': 'application/json',
      'content-length': String(Buffer.byteLength(body)),
    });
    expect(request.headers['user-agent']).toMatch(/^uxc-relay\//);
  });

  it('reports non-2xx answers with the first 1 KB of the body', async () => {
    const receiver = await server((_req, res) => res.writeHead(500).end('x'.repeat(100_000)));
    const result = await sender().send(receiver.origin, headers(), body);
    expect(result.statusCode).toBe(500);
    expect(result.error).toBeNull();
    expect(result.responseBody).toBe('x'.repeat(1024));
  });

  it('reuses one kept-alive connection for consecutive requests', async () => {
    const receiver = await server((_req, res) => res.writeHead(200).end('ok'));
    const s = sender();
    for (let i = 0; i < 3; i++) {
      expect((await s.send(receiver.origin, headers(), body)).statusCode).toBe(200);
    }
    expect(receiver.requests).toHaveLength(3);
    expect(receiver.connections).toBe(1);
  });

  it('does not follow a redirect', async () => {
    const receiver = await server((req, res) => {
      if (req.url === '/hook') res.writeHead(302, { location: '/elsewhere' }).end();
      else res.writeHead(200).end();
    });
    const result = await sender().send(`${receiver.origin}/hook`, headers(), body);
    expect(result.statusCode).toBe(302);
    expect(receiver.requests.map((r) => r.url)).toEqual(['/hook']);
  });

  it('gives up on a receiver that does not answer within the timeout', async () => {
    const receiver = await server(() => undefined);
    const result = await sender({ timeoutMs: 300 }).send(receiver.origin, headers(), body);
    expect(result).toMatchObject({
      statusCode: null,
      error: 'timeout after 300ms',
      responseBody: null,
      responseHeaders: null,
      refused: false,
    });
    expect(result.durationMs).toBeGreaterThanOrEqual(290);
    expect(result.durationMs).toBeLessThan(2000);
  });

  it('keeps the status of a receiver that answers but never finishes its body', async () => {
    const receiver = await server((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('accepted, still talking');
    });
    const result = await sender({ timeoutMs: 300 }).send(receiver.origin, headers(), body);
    expect(result).toMatchObject({
      statusCode: 200,
      error: null,
      responseBody: 'accepted, still talking',
      responseHeaders: expect.objectContaining({ 'content-type': 'text/plain' }),
    });
  });

  it('tears a request down when its signal aborts, and says so', async () => {
    const receiver = await server(() => undefined);
    const abort = new AbortController();
    const sending = sender({ timeoutMs: 10_000 }).send(
      receiver.origin,
      headers(),
      body,
      abort.signal,
    );
    await new Promise((done) => setTimeout(done, 100));
    abort.abort();
    const result = await sending;
    expect(result).toMatchObject({
      statusCode: null,
      error: 'request aborted: the relay is shutting down',
      responseHeaders: null,
    });
    expect(result.durationMs).toBeLessThan(5000);
  });

  it('reports a refused connection without throwing', async () => {
    const closed = await startServer(() => undefined);
    await closed.close();
    const result = await sender().send(closed.origin, headers(), body);
    expect(result).toMatchObject({ statusCode: null, error: 'connection refused', refused: false });
  });

  it('reports a connection dropped by the receiver', async () => {
    const receiver = await server((req) => req.socket.destroy());
    const result = await sender().send(receiver.origin, headers(), body);
    expect(result).toMatchObject({ statusCode: null, error: 'connection reset', refused: false });
  });

  it.each([
    [429, '7', 7000],
    [503, '120', 120_000],
    [429, '0', 1000],
    [503, '86400', RETRY_AFTER_MAX_MS],
    [429, 'soon', null],
    [500, '30', null],
  ])('on %i with Retry-After %j waits %j ms', async (status, retryAfter, expected) => {
    const receiver = await server((_req, res) =>
      res.writeHead(status, { 'retry-after': retryAfter }).end(),
    );
    const result = await sender().send(receiver.origin, headers(), body);
    expect(result).toMatchObject({ statusCode: status, retryAfterMs: expected, error: null });
  });

  it('reads Retry-After given as an HTTP date', async () => {
    const at = new Date(Date.now() + 90_000).toUTCString();
    const receiver = await server((_req, res) => res.writeHead(429, { 'retry-after': at }).end());
    const result = await sender().send(receiver.origin, headers(), body);
    // HTTP dates have whole seconds; the answer travels in well under 2 s.
    expect(result.retryAfterMs).toBeGreaterThan(87_000);
    expect(result.retryAfterMs).toBeLessThanOrEqual(90_000);
  });

  describe('address policy at connect time', () => {
    it('refuses 127.0.0.1 without any request reaching it when private networks are off', async () => {
      const receiver = await server((_req, res) => res.writeHead(200).end());
      const result = await sender({ allowPrivateNetworks: false }).send(
        receiver.origin,
        headers(),
        body,
      );
      expect(result).toMatchObject({
        statusCode: null,
        error: 'address 127.0.0.1 is refused: loopback',
        responseBody: null,
        refused: true,
      });
      expect(receiver.connections).toBe(0);
    });

    it.each(['http://[::1]:1/', 'http://2130706433:1/', 'http://0x7f.1:1/'])(
      'refuses the loopback literal %s',
      async (url) => {
        const result = await sender({ allowPrivateNetworks: false }).send(url, headers(), body);
        expect(result).toMatchObject({ refused: true, statusCode: null });
        expect(result.error).toMatch(/^address (::1|127\.0\.0\.1) is refused: loopback$/);
      },
    );

    it('refuses link-local even with private networks allowed', async () => {
      const result = await sender().send('http://169.254.169.254/latest/', headers(), body);
      expect(result).toMatchObject({
        refused: true,
        error: 'address 169.254.169.254 is refused: link-local',
      });
    });

    it('connects to the address the resolver gives for a host name', async () => {
      const receiver = await server((req, res) => res.writeHead(200).end(req.headers.host));
      const resolve = fixedResolver(['127.0.0.1']);
      const result = await sender({ resolve }).send(
        `http://hooks.test:${receiver.port}/x`,
        headers(),
        body,
      );
      expect(result).toMatchObject({
        statusCode: 200,
        responseBody: `hooks.test:${receiver.port}`,
      });
      expect(resolve.calls).toBe(1);
    });

    it('does not connect to a refused address a host name resolves to', async () => {
      const receiver = await server((_req, res) => res.writeHead(200).end());
      const resolve = fixedResolver(['169.254.169.254']);
      const result = await sender({ resolve }).send(
        `http://hooks.test:${receiver.port}/`,
        headers(),
        body,
      );
      expect(result).toMatchObject({
        statusCode: null,
        error: 'address 169.254.169.254 is refused: link-local',
        refused: true,
      });
      expect(receiver.connections).toBe(0);
    });

    it('re-checks each new connection, so a host that rebinds to a refused address is not reached', async () => {
      // The receiver closes each connection, so the second send must connect (and resolve) again.
      const receiver = await server((_req, res) =>
        res.writeHead(200, { connection: 'close' }).end(),
      );
      const resolve = fixedResolver(['127.0.0.1'], ['169.254.169.254']);
      const s = sender({ resolve });
      const first = await s.send(`http://rebind.test:${receiver.port}/`, headers(), body);
      const second = await s.send(`http://rebind.test:${receiver.port}/`, headers(), body);
      expect(first.statusCode).toBe(200);
      expect(second).toMatchObject({
        statusCode: null,
        refused: true,
        error: 'address 169.254.169.254 is refused: link-local',
      });
      expect(receiver.connections).toBe(1);
    });

    it('skips refused addresses in a mixed answer and uses the allowed one', async () => {
      const receiver = await server((_req, res) => res.writeHead(200).end());
      const resolve = fixedResolver(['169.254.169.254', '127.0.0.1']);
      const result = await sender({ resolve }).send(
        `http://mixed.test:${receiver.port}/`,
        headers(),
        body,
      );
      expect(result).toMatchObject({ statusCode: 200, refused: false });
    });

    it('reports a failed DNS lookup', async () => {
      const result = await sender({ resolve: fixedResolver([]) }).send(
        'http://nowhere.test/',
        headers(),
        body,
      );
      expect(result).toMatchObject({
        statusCode: null,
        error: 'DNS lookup failed for nowhere.test',
        refused: false,
      });
    });

    it('reports a failed DNS lookup with the system resolver', async () => {
      const result = await sender().send('http://does-not-exist.invalid/', headers(), body);
      expect(result).toMatchObject({
        error: 'DNS lookup failed for does-not-exist.invalid',
        refused: false,
      });
    });
  });

  it('refuses other protocols and malformed URLs without throwing', async () => {
    const s = sender();
    await expect(s.send('ftp://127.0.0.1/', headers(), body)).resolves.toMatchObject({
      refused: true,
      error: 'unsupported protocol ftp:',
    });
    await expect(s.send('not a url', headers(), body)).resolves.toMatchObject({
      refused: true,
      error: 'invalid URL',
    });
  });

  it('never puts the secret or the signature in an error', async () => {
    const receiver = await server((req) => req.socket.destroy());
    const sent = headers();
    const result = await sender().send(receiver.origin, sent, body);
    expect(result.error).not.toContain(secret.slice(6));
    expect(result.error).not.toContain(sent['webhook-signature']);
  });

  it('close() ends kept-alive connections', async () => {
    const receiver = await server((_req, res) => res.writeHead(200).end());
    const s = sender();
    await s.send(receiver.origin, headers(), body);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(receiver.open).toBe(1);
    s.close();
    const deadline = Date.now() + 2000;
    while (receiver.open > 0 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    expect(receiver.open).toBe(0);
  });
});
