import { Logger } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { ExecutionContextHost } from '@nestjs/core/helpers/execution-context-host';
import express from 'express';
import type { Server } from 'node:http';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { pinoOptions } from '../logging/log-output';
import { RelayLogger } from '../logging/relay-logger';
import { requestLogger } from '../logging/request-log';
import { AllExceptionsFilter } from './all-exceptions.filter';

describe('an unexpected error', () => {
  let server: Server;
  let url: string;
  const chunks: string[] = [];
  const lines = (): Record<string, unknown>[] =>
    chunks
      .join('')
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as Record<string, unknown>);

  beforeAll(async () => {
    const out = new Writable({
      write: (chunk: Buffer, _encoding, done) => {
        chunks.push(chunk.toString('utf8'));
        done();
      },
    });
    const logger = pino(pinoOptions('info', 'json'), out);
    Logger.overrideLogger(new RelayLogger(logger));
    const filter = new AllExceptionsFilter(new HttpAdapterHost());
    const app = express();
    app.use(requestLogger(logger));
    app.get('/v1/broken', (req, res) =>
      filter.catch(new Error('the disk is on fire'), new ExecutionContextHost([req, res])),
    );
    await new Promise<void>((done) => {
      server = app.listen(0, '127.0.0.1', () => done());
    });
    url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  });

  afterAll(async () => {
    Logger.overrideLogger(false);
    await new Promise((done) => server.close(done));
  });

  it('answers 500 with an id only, and logs the error under that id with its request', async () => {
    const answer = await fetch(`${url}/v1/broken?sid=BT%7Csecret`, {
      headers: { 'x-request-id': 'req-broken-1' },
    });
    expect(answer.status).toBe(500);
    const body = (await answer.json()) as { errorId: string; message: string };
    expect(body.message).toBe('internal error');
    expect(JSON.stringify(body)).not.toContain('disk');
    const logged = lines().find((line) => line.errorId === body.errorId);
    expect(logged).toMatchObject({
      level: 'error',
      context: 'Errors',
      msg: `Unhandled error ${body.errorId}`,
      req: { id: 'req-broken-1', method: 'GET', url: '/v1/broken' },
      err: { message: 'the disk is on fire' },
    });
  });
});
