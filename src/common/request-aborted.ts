import { createParamDecorator, ExecutionContext } from '@nestjs/common';
import type { Response } from 'express';

/**
 * An AbortSignal that fires when the client goes away before its answer is
 * written, so a held request (a long poll) lets go of what it waits on.
 */
export const RequestAborted = createParamDecorator(
  (_data: unknown, context: ExecutionContext): AbortSignal => {
    const res = context.switchToHttp().getResponse<Response>();
    const controller = new AbortController();
    // gone while the guards ran: its 'close' fired already and never comes again
    if (res.destroyed && !res.writableFinished) controller.abort();
    res.on('close', () => {
      if (!res.writableFinished) controller.abort();
    });
    return controller.signal;
  },
);
