import { createParamDecorator, ExecutionContext } from '@nestjs/common';
import type { Request } from 'express';

/** Who a tenant-authenticated request acts for. */
export interface AuthenticatedTenant {
  id: string;
  name: string;
  apiKeyId: string;
}

export type TenantRequest = Request & { tenant?: AuthenticatedTenant };

/** The tenant `TenantAuthGuard` authenticated; only on routes behind that guard. */
export const CurrentTenant = createParamDecorator(
  (_data: unknown, context: ExecutionContext): AuthenticatedTenant => {
    const tenant = context.switchToHttp().getRequest<TenantRequest>().tenant;
    if (!tenant) throw new Error('CurrentTenant used on a route without TenantAuthGuard');
    return tenant;
  },
);
