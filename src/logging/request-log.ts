import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger as Pino } from 'pino';
import { requestLine } from './log-output';

type RequestWithId = IncomingMessage & { id?: string };

/**
 * Every request gets an id (the caller's `X-Request-Id`, or a new one),
 * answered in `X-Request-Id`; every answered request but a health check gets
 * one `info` line once its answer is out: `GET /v1/tasks/… 200 3ms`, with
 * `req` (id, method, path without the query string, which may carry a sid),
 * `res.statusCode` and `responseTime`. Nothing else is kept per request: with
 * `info` off, a request costs an id and a header.
 */
export function requestLogger(
  logger: Pino,
): (req: RequestWithId, res: ServerResponse, next: () => void) => void {
  return (req, res, next) => {
    const header = req.headers['x-request-id'];
    const id = typeof header === 'string' ? header : randomUUID();
    req.id = id;
    res.setHeader('x-request-id', id);
    if (logger.isLevelEnabled('info') && !req.url?.startsWith('/health')) {
      const started = Date.now();
      let logged = false;
      const done = (): void => {
        if (logged) return;
        logged = true;
        const ms = Date.now() - started;
        logger.info(
          {
            req: { id, method: req.method, url: req.url?.split('?')[0] },
            res: { statusCode: res.statusCode },
            responseTime: ms,
          },
          requestLine(req, res, ms),
        );
      };
      // 'finish' when the answer went out, 'close' alone when the client left first
      res.once('finish', done);
      res.once('close', done);
    }
    next();
  };
}
