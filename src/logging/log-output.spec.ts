import { Writable } from 'node:stream';
import { pino } from 'pino';
import { pinoOptions, resolveLogFormat } from './log-output';
import { RelayLogger } from './relay-logger';

function capture(): { stream: Writable; lines: () => Record<string, unknown>[] } {
  const chunks: string[] = [];
  const stream = new Writable({
    write: (chunk: Buffer, _encoding, done) => {
      chunks.push(chunk.toString('utf8'));
      done();
    },
  });
  return {
    stream,
    lines: () =>
      chunks
        .join('')
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line) as Record<string, unknown>),
  };
}

describe('log output', () => {
  it('is pretty on a terminal and JSON otherwise, unless LOG_FORMAT says', () => {
    expect(resolveLogFormat('auto', { isTTY: true })).toBe('pretty');
    expect(resolveLogFormat('auto', { isTTY: false })).toBe('json');
    expect(resolveLogFormat('auto', {})).toBe('json');
    expect(resolveLogFormat('json', { isTTY: true })).toBe('json');
    expect(resolveLogFormat('pretty', {})).toBe('pretty');
  });

  it('writes JSON with ISO times and level names, secrets redacted', () => {
    const out = capture();
    const logger = pino(pinoOptions('info', 'json'), out.stream);
    logger.warn({ tenantId: 'ten_1', uxcSk: 'sk-secret' }, 'something to act on');
    expect(out.lines()).toEqual([
      expect.objectContaining({
        level: 'warn',
        time: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
        tenantId: 'ten_1',
        uxcSk: '[redacted]',
        msg: 'something to act on',
      }),
    ]);
  });

  it('keeps Nest start-up chatter at debug and everything else at its level', () => {
    const out = capture();
    const nest = new RelayLogger(pino(pinoOptions('info', 'json'), out.stream));
    nest.log('AppModule dependencies initialized', 'InstanceLoader');
    nest.log('Mapped {/v1/tasks, GET} route', 'RouterExplorer');
    nest.log('DATABASE_URL is not set: starting embedded PostgreSQL', 'Database');
    nest.warn({ msg: 'a warning with ids', taskId: 'task_1' }, 'PollerService');
    expect(out.lines()).toEqual([
      expect.objectContaining({
        level: 'info',
        context: 'Database',
        msg: 'DATABASE_URL is not set: starting embedded PostgreSQL',
      }),
      expect.objectContaining({
        level: 'warn',
        context: 'PollerService',
        msg: 'a warning with ids',
        taskId: 'task_1',
      }),
    ]);
  });

  it("logs an Error as err, and the stack Nest's exception handlers pass as err.stack", () => {
    const out = capture();
    const nest = new RelayLogger(pino(pinoOptions('info', 'json'), out.stream));
    nest.error(new Error('boom'), 'Errors');
    nest.error(
      'handler failed',
      'Error: handler failed\n    at somewhere (file.js:1:1)',
      'ExceptionsHandler',
    );
    nest.log('no context');
    const [error, handler, plain] = out.lines();
    expect(error).toMatchObject({
      level: 'error',
      context: 'Errors',
      msg: 'boom',
      err: { message: 'boom' },
    });
    expect(handler).toMatchObject({
      level: 'error',
      context: 'ExceptionsHandler',
      msg: 'handler failed',
      err: { stack: expect.stringContaining('at somewhere') },
    });
    expect(plain).toMatchObject({ level: 'info', msg: 'no context' });
    expect(plain).not.toHaveProperty('context');
  });
});
