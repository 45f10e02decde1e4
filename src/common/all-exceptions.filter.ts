import {
  ArgumentsHost,
  Catch,
  ExceptionFilter,
  HttpException,
  HttpStatus,
  Logger,
} from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { Response } from 'express';
import { isUniqueViolation } from '../database/unique-violation';
import { Prisma } from '../generated/prisma/client';

interface ErrorBody {
  statusCode: number;
  error: string;
  message: string | string[];
  errorId?: string;
}

/**
 * The one place errors become HTTP answers. Deliberate HTTP errors pass
 * through; a unique-key race is a 409 and a vanished row a 404; anything else
 * is a 500 whose body holds only an id to find the logged details by.
 */
@Catch()
export class AllExceptionsFilter implements ExceptionFilter {
  private readonly logger = new Logger('Errors');

  catch(exception: unknown, host: ArgumentsHost): void {
    const response = host.switchToHttp().getResponse<Response>();
    const { status, body } = this.describe(exception);
    if (response.headersSent) return;
    response.status(status).json(body);
  }

  private describe(exception: unknown): { status: number; body: ErrorBody } {
    if (exception instanceof HttpException) {
      const status = exception.getStatus();
      const answer = exception.getResponse();
      const message =
        typeof answer === 'string'
          ? answer
          : ((answer as { message?: string | string[] }).message ?? exception.message);
      return { status, body: { statusCode: status, error: reasonPhrase(status), message } };
    }
    if (isUniqueViolation(exception)) {
      return this.plain(HttpStatus.CONFLICT, 'the resource already exists');
    }
    if (exception instanceof Prisma.PrismaClientKnownRequestError && exception.code === 'P2025') {
      return this.plain(HttpStatus.NOT_FOUND, 'not found');
    }
    const errorId = randomUUID();
    this.logger.error(
      {
        errorId,
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

  private plain(status: number, message: string): { status: number; body: ErrorBody } {
    return { status, body: { statusCode: status, error: reasonPhrase(status), message } };
  }
}

function reasonPhrase(status: number): string {
  const name = HttpStatus[status] as string | undefined;
  if (!name) return 'Error';
  return name
    .toLowerCase()
    .split('_')
    .map((word) => word[0].toUpperCase() + word.slice(1))
    .join(' ');
}
