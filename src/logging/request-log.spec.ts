import { createServer, Server } from 'node:http';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { pinoOptions } from './log-output';
import { requestLogger } from './request-log';

/** A real HTTP server behind the request logger, its log lines kept. */
async function serve(
  level: string,
): Promise<{ url: string; lines: () => Record<string, unknown>[]; close: () => Promise<void> }> {
  const chunks: string[] = [];
  const out = new Writable({
    write: (chunk: Buffer, _encoding, done) => {
      chunks.push(chunk.toString('utf8'));
      done();
    },
  });
  const log = requestLogger(pino(pinoOptions(level, 'json'), out));
  const server: Server = createServer((req, res) =>
    log(req, res, () => {
      res.statusCode = req.url?.startsWith('/missing') ? 404 : 200;
      res.end('{}');
    }),
  );
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    lines: () =>
      chunks
        .join('')
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line) as Record<string, unknown>),
    close: () => new Promise((done) => server.close(() => done())),
  };
}

async function waitForLines(
  lines: () => Record<string, unknown>[],
  count: number,
): Promise<Record<string, unknown>[]> {
  for (let i = 0; i < 100 && lines().length < count; i++) {
    await new Promise((done) => setTimeout(done, 10));
  }
  return lines();
}

describe('request log lines', () => {
  it('writes one line per answered request, its path without the query, and answers the request id', async () => {
    const server = await serve('info');
    try {
      const given = await fetch(`${server.url}/v1/tasks/BT%7Cx?sid=secret-sid`, {
        headers: { 'x-request-id': 'req-given-1' },
      });
      expect(given.headers.get('x-request-id')).toBe('req-given-1');
      const fresh = await fetch(`${server.url}/missing?x=1`, { method: 'POST' });
      const freshId = fresh.headers.get('x-request-id');
      expect(freshId).toMatch(/^[0-9a-f-]{36}$/);
      await fetch(`${server.url}/health/ready`);

      const lines = await waitForLines(server.lines, 2);
      expect(lines).toEqual([
        expect.objectContaining({
          level: 'info',
          req: { id: 'req-given-1', method: 'GET', url: '/v1/tasks/BT%7Cx' },
          res: { statusCode: 200 },
          responseTime: expect.any(Number),
          msg: expect.stringMatching(/^GET \/v1\/tasks\/BT%7Cx 200 \d+ms$/),
        }),
        expect.objectContaining({
          req: { id: freshId, method: 'POST', url: '/missing' },
          res: { statusCode: 404 },
          msg: expect.stringMatching(/^POST \/missing 404 \d+ms$/),
        }),
      ]);
      expect(JSON.stringify(server.lines())).not.toContain('secret-sid');
    } finally {
      await server.close();
    }
  });

  it('writes nothing below info, and still answers the request id', async () => {
    const server = await serve('warn');
    try {
      const answer = await fetch(`${server.url}/v1/tasks/BT%7Cx`);
      expect(answer.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
      await new Promise((done) => setTimeout(done, 50));
      expect(server.lines()).toEqual([]);
    } finally {
      await server.close();
    }
  });
});
