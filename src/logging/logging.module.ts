import { Module } from '@nestjs/common';
import { LoggerModule } from 'nestjs-pino';
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { pino, type DestinationStream } from 'pino';
import { ConfigService } from '../config/config.service';
import { REDACTED_PATHS } from './redaction';

/** Where log lines go; tests swap it for a buffer they can read. */
export const LOG_DESTINATION = Symbol('LOG_DESTINATION');

@Module({
  providers: [
    {
      provide: LOG_DESTINATION,
      // synchronous: the lines of a shutdown are written before the process
      // re-raises its signal and exits, instead of dying in an async buffer
      useFactory: () => pino.destination({ dest: 1, sync: true }),
    },
  ],
  exports: [LOG_DESTINATION],
})
class LogDestinationModule {}

export const LoggingModule = LoggerModule.forRootAsync({
  imports: [LogDestinationModule],
  inject: [ConfigService, LOG_DESTINATION],
  useFactory: (config: ConfigService, destination: DestinationStream) => ({
    pinoHttp: [
      {
        level: config.env.logLevel,
        redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
        genReqId: (req: IncomingMessage, res: ServerResponse) => {
          const id = (req.headers['x-request-id'] as string | undefined) ?? randomUUID();
          res.setHeader('x-request-id', id);
          return id;
        },
        // the query string may carry a sid; the path and status are what operators need
        serializers: {
          req: (req: { id: string; method: string; url: string }) => ({
            id: req.id,
            method: req.method,
            url: req.url.split('?')[0],
          }),
        },
        autoLogging: { ignore: (req: IncomingMessage) => req.url?.startsWith('/health') ?? false },
      },
      destination,
    ],
  }),
});
