import { Module } from '@nestjs/common';
import { LoggerModule } from 'nestjs-pino';
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { DestinationStream } from 'pino';
import { ConfigService } from '../config/config.service';
import { REDACTED_PATHS } from './redaction';

/** Where log lines go; tests swap it for a buffer they can read. */
export const LOG_DESTINATION = Symbol('LOG_DESTINATION');

@Module({
  providers: [{ provide: LOG_DESTINATION, useValue: undefined }],
  exports: [LOG_DESTINATION],
})
class LogDestinationModule {}

export const LoggingModule = LoggerModule.forRootAsync({
  imports: [LogDestinationModule],
  inject: [ConfigService, LOG_DESTINATION],
  useFactory: (config: ConfigService, destination: DestinationStream | undefined) => ({
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
    ].filter((part) => part !== undefined) as never,
  }),
});
