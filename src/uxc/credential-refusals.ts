import { Logger } from '@nestjs/common';
import { describeUxcOutcome, UxcOutcome } from './uxc-outcome';

/**
 * errNo 3002 is listed in UXC's document without a meaning; next to 3103 and
 * 5000, a wrong ak/sk is its likeliest reading (and what the simulator answers).
 * An HTTP 401 or 403 from a gateway in front of UXC means the same.
 */
export const CREDENTIAL_REFUSED_ERRNOS: ReadonlySet<number> = new Set([3002]);

export function isCredentialRefusal(outcome: UxcOutcome): boolean {
  if (outcome.kind === 'upstream-error') return CREDENTIAL_REFUSED_ERRNOS.has(outcome.errNo);
  return (
    outcome.kind === 'transport-error' && (outcome.httpStatus === 401 || outcome.httpStatus === 403)
  );
}

/**
 * One warning when UXC starts refusing a tenant's credentials and one line
 * when it accepts them again, instead of a line for every task of that tenant
 * on every poll. The ak names the credential; the sk never appears.
 */
export class CredentialRefusals {
  private readonly refused = new Set<string>();

  constructor(
    private readonly logger: Pick<Logger, 'warn' | 'log'> = new Logger('UxcCredentials'),
  ) {}

  observe(tenantId: string, ak: string, outcome: UxcOutcome): void {
    const key = `${tenantId}\u0000${ak}`;
    if (isCredentialRefusal(outcome)) {
      if (this.refused.has(key)) return;
      this.refused.add(key);
      this.logger.warn({
        msg: `UXC refuses the credentials of tenant ${tenantId} (ak ${ak}): ${describeUxcOutcome(outcome)}. Its tasks keep failing until the credentials are fixed (PATCH /v1/tenants/${tenantId} with uxcAk and uxcSk)`,
        tenantId,
        ak,
        ...(outcome.kind === 'upstream-error' ? { errNo: outcome.errNo } : {}),
      });
    } else if (outcome.kind === 'ok' && this.refused.delete(key)) {
      this.logger.log({
        msg: `UXC accepts the credentials of tenant ${tenantId} (ak ${ak}) again`,
        tenantId,
        ak,
      });
    }
  }
}
