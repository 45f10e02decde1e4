import { Injectable } from '@nestjs/common';
import { Logger } from 'nestjs-pino';

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

@Injectable()
export class RelayLogger extends Logger {
  override log(message: unknown, ...optionalParams: unknown[]): void {
    if (isFrameworkContext(optionalParams.at(-1))) {
      super.debug(message, ...optionalParams);
    } else {
      super.log(message, ...optionalParams);
    }
  }
}
