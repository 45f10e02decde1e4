import { UseInterceptors } from '@nestjs/common';
import { IdempotencyInterceptor } from './idempotency.interceptor';

/**
 * `Idempotency-Key` for one POST route. Every POST route carries it (a test
 * walks the routes); read routes carry no interceptor at all, because Nest's
 * interceptor chain (async resources, observables) cost a GET about a tenth of
 * its time when this one was global.
 */
export const Idempotent = (): MethodDecorator & ClassDecorator =>
  UseInterceptors(IdempotencyInterceptor);
