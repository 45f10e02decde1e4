import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import type { Request } from 'express';
import { bearerToken, secretMatcher } from '../common/bearer-token';
import { ConfigService } from '../config/config.service';
import { TenantAuthGuard } from '../tenants/tenant-auth.guard';

/** The request of an operator: the admin, or one tenant (then `tenant` is set). */
export type OperatorRequest = Request & { tenant?: { id: string }; admin?: boolean };

/**
 * The ADMIN_TOKEN (sees the whole relay) or a tenant API key (sees its own
 * deliveries): the console's health page works for both kinds of sign-in.
 */
@Injectable()
export class OperatorAuthGuard implements CanActivate {
  private readonly isAdmin: ((token: string) => boolean) | undefined;

  constructor(
    config: ConfigService,
    private readonly tenants: TenantAuthGuard,
  ) {
    this.isAdmin = secretMatcher(config.env.adminToken);
  }

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const req = context.switchToHttp().getRequest<OperatorRequest>();
    const token = bearerToken(req);
    if (token && this.isAdmin?.(token)) {
      req.admin = true;
      return true;
    }
    return this.tenants.canActivate(context);
  }
}
