import { LoggerService } from '@nestjs/common';
import type { Level, Logger as Pino } from 'pino';

/**
 * Nest's own start-up chatter (a line per module, controller and route) is
 * for whoever debugs the framework: it goes to `debug`, so `info` shows what
 * an operator needs.
 */
const FRAMEWORK_CONTEXTS = new Set([
  'InstanceLoader',
  'RoutesResolver',
  'RouterExplorer',
  'NestFactory',
  'NestApplication',
]);

export function isFrameworkContext(context: unknown): boolean {
  return typeof context === 'string' && FRAMEWORK_CONTEXTS.has(context);
}

/**
 * Nest's `LoggerService` over pino, from the first line of a start to the
 * last of a shutdown. A Nest `Logger` passes its context as the last
 * parameter: it becomes the `context` field. An object message gives its
 * fields (an Error becomes `err`), and a string after it is the line's
 * `msg`; a string message is the `msg`.
 */
export class RelayLogger implements LoggerService {
  constructor(readonly pino: Pino) {}

  log(message: unknown, ...params: unknown[]): void {
    this.write(isFrameworkContext(params.at(-1)) ? 'debug' : 'info', message, params);
  }
  error(message: unknown, ...params: unknown[]): void {
    this.write('error', message, params);
  }
  warn(message: unknown, ...params: unknown[]): void {
    this.write('warn', message, params);
  }
  debug(message: unknown, ...params: unknown[]): void {
    this.write('debug', message, params);
  }
  verbose(message: unknown, ...params: unknown[]): void {
    this.write('trace', message, params);
  }
  fatal(message: unknown, ...params: unknown[]): void {
    this.write('fatal', message, params);
  }

  private write(level: Level, message: unknown, params: unknown[]): void {
    if (!this.pino.isLevelEnabled(level)) return;
    const fields: Record<string, unknown> = {};
    const rest = params.slice(0, -1);
    if (params.length > 0 && params.at(-1) !== undefined) fields.context = params.at(-1);
    if (typeof message === 'object' && message !== null) {
      if (message instanceof Error) fields.err = message;
      else Object.assign(fields, message);
      // logger.error({ errorId, err }, 'Unhandled error …'): the string after the object is the line
      if (typeof rest[0] === 'string') this.pino[level](fields, rest[0]);
      else this.pino[level](fields);
    } else if (isStackOfNestsHandler(level, message, rest)) {
      // Nest's exception handlers call error(message, stack)
      const err = new Error(message as string);
      err.stack = rest[0] as string;
      fields.err = err;
      this.pino[level](fields, message as string);
    } else {
      this.pino[level](fields, String(message));
    }
  }
}

function isStackOfNestsHandler(level: Level, message: unknown, rest: unknown[]): boolean {
  return (
    level === 'error' &&
    typeof message === 'string' &&
    rest.length === 1 &&
    typeof rest[0] === 'string' &&
    /\n\s*at /.test(rest[0])
  );
}
