import { Prisma } from '../generated/prisma/client';

/** A unique index refused the write (Prisma's P2002): usually a concurrent insert of the same row. */
export function isUniqueViolation(error: unknown): error is Prisma.PrismaClientKnownRequestError {
  return error instanceof Prisma.PrismaClientKnownRequestError && error.code === 'P2002';
}
