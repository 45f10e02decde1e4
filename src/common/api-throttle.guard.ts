import { ExecutionContext, Injectable } from '@nestjs/common';
import { ThrottlerGuard } from '@nestjs/throttler';
import type { Request } from 'express';
import { bearerTokenHash } from './bearer-token';

/**
 * API_RATE_LIMIT per minute for each API key across every `/v1` route; a
 * request without a key counts against its IP address. Health checks,
 * metrics and the docs are never limited.
 */
@Injectable()
export class ApiThrottleGuard extends ThrottlerGuard {
  protected override async shouldSkip(context: ExecutionContext): Promise<boolean> {
    if (context.getType() !== 'http') return true;
    const req = context.switchToHttp().getRequest<Request>();
    return !(req.originalUrl ?? req.url).startsWith('/v1/');
  }

  protected override async getTracker(req: Record<string, unknown>): Promise<string> {
    // keyed by the hash, so the limiter's memory never holds a key
    const hash = bearerTokenHash(req as unknown as Request);
    if (hash) return `key:${hash}`;
    return `ip:${String((req as unknown as Request).ip)}`;
  }

  protected override generateKey(
    _context: ExecutionContext,
    tracker: string,
    throttlerName: string,
  ): string {
    // one budget per caller, not one per route
    return `${throttlerName}:${tracker}`;
  }
}
