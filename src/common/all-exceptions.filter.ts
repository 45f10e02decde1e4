import {
  ArgumentsHost,
  Catch,
  ExceptionFilter,
  HttpException,
  HttpStatus,
  Logger,
  NotFoundException,
} from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { randomUUID } from 'node:crypto';
import type { Request, Response } from 'express';
import { isDatabaseUnavailable } from '../database/database-unavailable';
import { isUniqueViolation } from '../database/unique-violation';
import { Prisma } from '../generated/prisma/client';
import { BROKEN_TEXT_REASON } from './broken-text';
import { ErrorBody, errorBody } from './error-body';
import { allowedMethods } from './allowed-methods';

/**
 * The one place errors become HTTP answers. Deliberate HTTP errors pass
 * through; a unique-key race is a 409 and a vanished row a 404; a known path
 * asked with the wrong method a 405; anything else is a 500 whose body holds
 * only an id to find the logged details by.
 */
@Catch()
export class AllExceptionsFilter implements ExceptionFilter {
  private readonly logger = new Logger('Errors');

  constructor(private readonly adapterHost: HttpAdapterHost) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const response = http.getResponse<Response>();
    if (response.headersSent) return;
    const request = http.getRequest<Request>();
    const allow = this.unmatchedRoute(exception) ? this.allowFor(request) : [];
    if (allow.length > 0) {
      response
        .status(HttpStatus.METHOD_NOT_ALLOWED)
        .setHeader('Allow', allow.join(', '))
        .json(
          errorBody(
            HttpStatus.METHOD_NOT_ALLOWED,
            `${request.method} is not allowed on this path; use ${allow.join(', ')}`,
          ),
        );
      return;
    }
    if (isDatabaseUnavailable(exception)) {
      // the pool reconnects by itself: the same request works again shortly
      this.logger.warn(
        `${request.method} ${request.path} answered 503: the database is unreachable (${describeBriefly(exception)})`,
      );
      response
        .status(HttpStatus.SERVICE_UNAVAILABLE)
        .setHeader('Retry-After', String(DATABASE_RETRY_AFTER_SECONDS))
        .json(
          errorBody(
            HttpStatus.SERVICE_UNAVAILABLE,
            'the database is unavailable for the moment; retry the request later',
          ),
        );
      return;
    }
    const { status, body } = this.describe(exception, request);
    response.status(status).json(body);
  }

  private describe(exception: unknown, request: Request): { status: number; body: ErrorBody } {
    if (exception instanceof HttpException) {
      const status = exception.getStatus();
      const answer = exception.getResponse();
      // Express's router could not %-decode a path parameter (`%ED%A0%80` is a lone surrogate)
      if (status === 400 && /^Failed to decode param/.test(exception.message)) {
        return this.plain(status, `the path ${BROKEN_TEXT_REASON} or a broken %-escape`);
      }
      if (typeof answer === 'string') return { status, body: errorBody(status, answer) };
      const given = answer as { message?: string | string[]; errors?: ErrorBody['errors'] };
      const body = errorBody(status, given.message ?? exception.message);
      if (given.errors) body.errors = given.errors;
      return { status, body };
    }
    if (isUniqueViolation(exception)) {
      return this.plain(HttpStatus.CONFLICT, 'the resource already exists');
    }
    if (exception instanceof Prisma.PrismaClientKnownRequestError && exception.code === 'P2025') {
      return this.plain(HttpStatus.NOT_FOUND, 'not found');
    }
    // the request checks catch these first; a value that slips past them is still the client's
    if (isBrokenTextRefusal(exception)) {
      return this.plain(HttpStatus.BAD_REQUEST, `a value ${BROKEN_TEXT_REASON}`);
    }
    const errorId = randomUUID();
    this.logger.error(
      {
        errorId,
        // the request, as its request line names it (X-Request-Id)
        req: {
          id: (request as Request & { id?: string }).id,
          method: request.method,
          url: request.originalUrl.split('?')[0],
        },
        err:
          exception instanceof Error
            ? { name: exception.name, message: exception.message, stack: exception.stack }
            : String(exception),
      },
      `Unhandled error ${errorId}`,
    );
    return {
      status: 500,
      body: { statusCode: 500, error: 'Internal Server Error', message: 'internal error', errorId },
    };
  }

  /** Nest's own 404 for a path no route matched (with this method). */
  private unmatchedRoute(exception: unknown): boolean {
    return exception instanceof NotFoundException && /^Cannot [A-Z]+ /.test(exception.message);
  }

  private allowFor(request: Request): string[] {
    return allowedMethods(this.adapterHost.httpAdapter?.getInstance(), request.path);
  }

  private plain(status: number, message: string): { status: number; body: ErrorBody } {
    return { status, body: errorBody(status, message) };
  }
}

/** Long enough for a restarted server to accept connections again. */
const DATABASE_RETRY_AFTER_SECONDS = 5;

function describeBriefly(exception: unknown): string {
  if (!(exception instanceof Error)) return String(exception);
  const code = (exception as { code?: unknown }).code;
  const first = exception.message.split('\n').find((line) => line.trim() !== '') ?? '';
  return `${exception.name}${typeof code === 'string' ? ` ${code}` : ''}: ${first.slice(0, 200)}`;
}

/** PostgreSQL refusing a NUL byte or a broken escape in text or jsonb (22021, 22P05). */
function isBrokenTextRefusal(exception: unknown): boolean {
  if (!(exception instanceof Error)) return false;
  const text = `${exception.message} ${JSON.stringify((exception as { meta?: unknown }).meta ?? null)}`;
  return /\b22021\b|\b22P05\b|invalid byte sequence for encoding|unsupported Unicode escape sequence/.test(
    text,
  );
}
