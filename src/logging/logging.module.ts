import { Global, Module } from '@nestjs/common';
import { LoggerModule } from 'nestjs-pino';
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { DestinationStream } from 'pino';
import { ConfigService } from '../config/config.service';
import { formatOf, logDestination, pinoOptions, requestLine, resolveLogFormat } from './log-output';
import { RelayLogger } from './relay-logger';

/** Where log lines go; tests swap it for a buffer they can read. */
export const LOG_DESTINATION = Symbol('LOG_DESTINATION');

@Module({
  providers: [
    {
      provide: LOG_DESTINATION,
      inject: [ConfigService],
      useFactory: (config: ConfigService) => logDestination(resolveLogFormat(config.env.logFormat)),
    },
  ],
  exports: [LOG_DESTINATION],
})
class LogDestinationModule {}

const PinoModule = LoggerModule.forRootAsync({
  imports: [LogDestinationModule],
  inject: [ConfigService, LOG_DESTINATION],
  useFactory: (config: ConfigService, destination: DestinationStream) => ({
    pinoHttp: [
      {
        ...pinoOptions(config.env.logLevel, formatOf(destination)),
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
        customSuccessMessage: (req: IncomingMessage, res: ServerResponse, ms: number) =>
          requestLine(req, res, ms),
        customErrorMessage: (req: IncomingMessage, res: ServerResponse) => requestLine(req, res, 0),
        autoLogging: { ignore: (req: IncomingMessage) => req.url?.startsWith('/health') ?? false },
      },
      destination,
    ],
  }),
});

/** pino for the whole relay, and Nest's logger on top of it. */
@Global()
@Module({
  imports: [PinoModule],
  providers: [RelayLogger],
  exports: [RelayLogger],
})
export class LoggingModule {}
