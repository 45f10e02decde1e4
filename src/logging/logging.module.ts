import { Global, MiddlewareConsumer, Module, NestModule } from '@nestjs/common';
import { pino, type DestinationStream, type Logger as Pino } from 'pino';
import { ConfigService } from '../config/config.service';
import { formatOf, logDestination, pinoOptions, resolveLogFormat } from './log-output';
import { RelayLogger } from './relay-logger';
import { requestLogger } from './request-log';

/** Where log lines go; tests swap it for a buffer they can read. */
export const LOG_DESTINATION = Symbol('LOG_DESTINATION');

/** The relay's one pino logger, writing to LOG_DESTINATION. */
export const PINO_LOGGER = Symbol('PINO_LOGGER');

/**
 * pino for the whole relay, Nest's logger on top of it, and a line per
 * answered request. Lines written while a request is served carry no request
 * binding: keeping one would put an async context on every promise of the
 * process (the poller's and the dispatcher's too); the lines that concern a
 * request name it themselves.
 */
@Global()
@Module({
  providers: [
    {
      provide: LOG_DESTINATION,
      inject: [ConfigService],
      useFactory: (config: ConfigService) => logDestination(resolveLogFormat(config.env.logFormat)),
    },
    {
      provide: PINO_LOGGER,
      inject: [ConfigService, LOG_DESTINATION],
      useFactory: (config: ConfigService, destination: DestinationStream): Pino =>
        pino(pinoOptions(config.env.logLevel, formatOf(destination)), destination),
    },
    {
      provide: RelayLogger,
      inject: [PINO_LOGGER],
      useFactory: (logger: Pino) => new RelayLogger(logger),
    },
  ],
  exports: [RelayLogger, PINO_LOGGER],
})
export class LoggingModule implements NestModule {
  constructor(private readonly logger: RelayLogger) {}

  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(requestLogger(this.logger.pino)).forRoutes('*path');
  }
}
