import {
  CanActivate,
  ExecutionContext,
  ForbiddenException,
  Injectable,
  UnauthorizedException,
} from '@nestjs/common';
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Request } from 'express';
import { bearerToken } from '../common/bearer-token';
import { ConfigService } from '../config/config.service';

function digest(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}

/**
 * `Authorization: Bearer <ADMIN_TOKEN>`. With ADMIN_TOKEN unset the admin API
 * is off: 403 saying so, rather than a 404 that would look like a wrong URL.
 */
@Injectable()
export class AdminAuthGuard implements CanActivate {
  private readonly expected: Buffer | undefined;

  constructor(config: ConfigService) {
    const token = config.env.adminToken;
    // compared as digests: equal lengths, so timingSafeEqual leaks nothing, not even the length
    this.expected = token === undefined ? undefined : digest(token);
  }

  canActivate(context: ExecutionContext): boolean {
    if (!this.expected) {
      throw new ForbiddenException('the admin API is off: set ADMIN_TOKEN to turn it on');
    }
    const token = bearerToken(context.switchToHttp().getRequest<Request>());
    if (!token) {
      throw new UnauthorizedException(
        'missing admin token: send Authorization: Bearer <ADMIN_TOKEN>',
      );
    }
    if (!timingSafeEqual(digest(token), this.expected)) {
      throw new UnauthorizedException('invalid admin token');
    }
    return true;
  }
}
