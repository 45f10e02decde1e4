import { CanActivate, ExecutionContext, Injectable, UnauthorizedException } from '@nestjs/common';
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Request } from 'express';
import { bearerToken } from '../common/bearer-token';
import { ConfigService } from '../config/config.service';

function digest(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}

/** `/metrics` is open unless METRICS_TOKEN is set; then it takes `Authorization: Bearer <METRICS_TOKEN>`. */
@Injectable()
export class MetricsTokenGuard implements CanActivate {
  private readonly expected: Buffer | undefined;

  constructor(config: ConfigService) {
    const token = config.env.metricsToken;
    // compared as digests: equal lengths, so timingSafeEqual leaks nothing, not even the length
    this.expected = token === undefined ? undefined : digest(token);
  }

  canActivate(context: ExecutionContext): boolean {
    if (!this.expected) return true;
    const token = bearerToken(context.switchToHttp().getRequest<Request>());
    if (!token || !timingSafeEqual(digest(token), this.expected)) {
      throw new UnauthorizedException('metrics need Authorization: Bearer <METRICS_TOKEN>');
    }
    return true;
  }
}
