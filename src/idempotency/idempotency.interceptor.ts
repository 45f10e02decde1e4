import {
  BadRequestException,
  CallHandler,
  ConflictException,
  ExecutionContext,
  Injectable,
  NestInterceptor,
  UnprocessableEntityException,
} from '@nestjs/common';
import type { Response } from 'express';
import { createHash } from 'node:crypto';
import { catchError, from, mergeMap, Observable, of, throwError } from 'rxjs';
import type { TenantRequest } from '../tenants/authenticated-tenant';
import { TenantSecrets } from '../tenants/tenant-secrets.service';
import {
  decideOnTakenKey,
  IDEMPOTENCY_HEADER,
  idempotencyKeyProblem,
  isStorableStatus,
  REPLAYED_HEADER,
  requestFingerprint,
} from './idempotency-key';
import { IdempotencyStore } from './idempotency.store';

/**
 * `Idempotency-Key` on every POST, as Stripe does it. Each POST route carries
 * it (`@Idempotent()`; a test fails on one that does not). It runs after the
 * guards, so the key belongs to the authenticated caller: the tenant, or the
 * admin token. The key is claimed before the handler runs (one insert: of
 * two concurrent requests only one executes, the other answers 409), and the
 * answer is stored once the handler finished; the same key with the same
 * request then answers the stored status and body, with another request 422.
 * Errors (4xx from validation or conflicts, any 5xx) are not kept: the key is
 * given back and the request may be retried with it. Stored answers are
 * sealed with ENCRYPTION_KEY: some hold a secret shown only once (a new API
 * key), which must not sit readable in the database.
 */
@Injectable()
export class IdempotencyInterceptor implements NestInterceptor {
  constructor(
    private readonly store: IdempotencyStore,
    private readonly secrets: TenantSecrets,
  ) {}

  async intercept(context: ExecutionContext, next: CallHandler): Promise<Observable<unknown>> {
    if (context.getType() !== 'http') return next.handle();
    const http = context.switchToHttp();
    const request = http.getRequest<TenantRequest>();
    if (request.method !== 'POST') return next.handle();
    const header = request.headers[IDEMPOTENCY_HEADER.toLowerCase()];
    if (header === undefined) return next.handle();
    if (Array.isArray(header))
      throw new BadRequestException(`${IDEMPOTENCY_HEADER} must be given once`);
    const problem = idempotencyKeyProblem(header);
    if (problem) throw new BadRequestException(problem);

    const response = http.getResponse<Response>();
    const scope = scopeOf(request);
    const fingerprint = requestFingerprint(request.method, request.originalUrl, request.body);
    // a key given back (the first request failed) or expired between our
    // claim and our read is claimed again; a few tries settle any race
    for (let attempt = 0; attempt < 3; attempt++) {
      if (await this.store.claim(scope, header, fingerprint)) {
        return this.execute(next, response, scope, header);
      }
      const stored = await this.store.find(scope, header);
      if (!stored) continue;
      const decision = decideOnTakenKey(
        { ...stored, body: stored.body === null ? null : this.secrets.open(stored.body) },
        fingerprint,
      );
      if (decision.kind === 'mismatch') {
        throw new UnprocessableEntityException(
          `${IDEMPOTENCY_HEADER} "${header}" was already used with a different request (method, path or body); use a new key for a new request`,
        );
      }
      if (decision.kind === 'replay') {
        response.status(decision.statusCode);
        response.setHeader(REPLAYED_HEADER, 'true');
        return of(decision.body);
      }
      break;
    }
    throw new ConflictException(
      `${IDEMPOTENCY_HEADER} "${header}": a request with this key is still being processed; retry once it has answered`,
    );
  }

  private execute(
    next: CallHandler,
    response: Response,
    scope: string,
    key: string,
  ): Observable<unknown> {
    return next.handle().pipe(
      mergeMap(async (value: unknown) => {
        if (isStorableStatus(response.statusCode)) {
          const body = value === undefined ? null : this.secrets.seal(JSON.stringify(value));
          await this.store.answer(scope, key, response.statusCode, body);
        } else {
          await this.store.release(scope, key);
        }
        return value;
      }),
      catchError((error: unknown) =>
        from(this.store.release(scope, key).catch(() => undefined)).pipe(
          mergeMap(() => throwError(() => error)),
        ),
      ),
    );
  }
}

/** Whose key it is: the tenant, or (admin routes) a digest of the bearer token. */
function scopeOf(request: TenantRequest): string {
  if (request.tenant) return `tenant:${request.tenant.id}`;
  const authorization = request.headers.authorization ?? '';
  return `auth:${createHash('sha256').update(authorization).digest('hex').slice(0, 32)}`;
}
