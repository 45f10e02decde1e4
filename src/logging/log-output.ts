import type { IncomingMessage, ServerResponse } from 'node:http';
import { pino, type DestinationStream, type Logger, type LoggerOptions } from 'pino';
import pretty from 'pino-pretty';
import { REDACTED_PATHS } from './redaction';

/** `pretty`: one readable line per entry, for a person at a terminal; `json`: for collectors. */
export type LogFormat = 'json' | 'pretty';

/** `auto` (the default) is pretty on a terminal and JSON otherwise. */
export function resolveLogFormat(
  setting: LogFormat | 'auto',
  stdout: { isTTY?: boolean } = process.stdout,
): LogFormat {
  if (setting !== 'auto') return setting;
  return stdout.isTTY ? 'pretty' : 'json';
}

/**
 * Where log lines go, synchronously: the lines of a shutdown (or of a failed
 * start) are written before the process exits, instead of dying in an async buffer.
 */
export function logDestination(format: LogFormat): DestinationStream {
  if (format === 'json') return pino.destination({ dest: 1, sync: true });
  const stream = pretty({
    destination: 1,
    sync: true,
    colorize: true,
    translateTime: 'SYS:HH:MM:ss.l',
    ignore: 'pid,hostname,context,req,res,responseTime',
    messageFormat: '{if context}[{context}] {end}{msg}',
    singleLine: true,
  });
  PRETTY_DESTINATIONS.add(stream);
  return stream;
}

const PRETTY_DESTINATIONS = new WeakSet<object>();

/** What a destination expects: anything but `logDestination`'s pretty stream (a file, a test's buffer) gets JSON. */
export function formatOf(destination: DestinationStream): LogFormat {
  return PRETTY_DESTINATIONS.has(destination) ? 'pretty' : 'json';
}

/** The pino options every relay logger shares: level, redaction, and in JSON ISO times and level names. */
export function pinoOptions(level: string, format: LogFormat): LoggerOptions {
  return {
    level,
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    ...(format === 'json'
      ? {
          timestamp: pino.stdTimeFunctions.isoTime,
          formatters: { level: (label: string) => ({ level: label }) },
        }
      : {}),
  };
}

/** The one-line summary of an answered request, read in both formats. */
export function requestLine(req: IncomingMessage, res: ServerResponse, ms: number): string {
  return `${req.method} ${req.url?.split('?')[0]} ${res.statusCode} ${Math.round(ms)}ms`;
}

/**
 * A logger for what happens before Nest's is in place, or instead of it: a
 * failed start prints in the same format as a running relay.
 */
export function bootLogger(level = 'info', format: LogFormat = resolveLogFormat('auto')): Logger {
  return pino(pinoOptions(level, format), logDestination(format));
}
