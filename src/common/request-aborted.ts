import { createParamDecorator, ExecutionContext } from '@nestjs/common';
import type { Response } from 'express';

/** The request's AbortSignal, made on the first call: only a request that waits needs one. */
export type AbortSignalOf = () => AbortSignal;

/**
 * An AbortSignal that fires when the client goes away before its answer is
 * written, so a held request (a long poll) lets go of what it waits on.
 */
export const RequestAborted = createParamDecorator(
  (_data: unknown, context: ExecutionContext): AbortSignalOf => {
    const res = context.switchToHttp().getResponse<Response>();
    let signal: AbortSignal | undefined;
    return () => (signal ??= abortSignalOf(res));
  },
);

function abortSignalOf(res: Response): AbortSignal {
  const controller = new AbortController();
  // gone before the signal was asked for: its 'close' fired already and never comes again
  if (res.destroyed && !res.writableFinished) controller.abort();
  res.on('close', () => {
    if (!res.writableFinished) controller.abort();
  });
  return controller.signal;
}
