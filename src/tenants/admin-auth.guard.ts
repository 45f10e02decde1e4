import {
  CanActivate,
  ExecutionContext,
  ForbiddenException,
  Injectable,
  UnauthorizedException,
} from '@nestjs/common';
import type { Request } from 'express';
import { bearerToken, secretMatcher } from '../common/bearer-token';
import { ConfigService } from '../config/config.service';

/**
 * `Authorization: Bearer <ADMIN_TOKEN>`. With ADMIN_TOKEN unset the admin API
 * is off: 403 saying so, rather than a 404 that would look like a wrong URL.
 */
@Injectable()
export class AdminAuthGuard implements CanActivate {
  private readonly matches: ((token: string) => boolean) | undefined;

  constructor(config: ConfigService) {
    this.matches = secretMatcher(config.env.adminToken);
  }

  canActivate(context: ExecutionContext): boolean {
    if (!this.matches) {
      throw new ForbiddenException('the admin API is off: set ADMIN_TOKEN to turn it on');
    }
    const token = bearerToken(context.switchToHttp().getRequest<Request>());
    if (!token) {
      throw new UnauthorizedException(
        'missing admin token: send Authorization: Bearer <ADMIN_TOKEN>',
      );
    }
    if (!this.matches(token)) {
      throw new UnauthorizedException('invalid admin token');
    }
    return true;
  }
}
