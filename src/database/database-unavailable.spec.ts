import { NotFoundException } from '@nestjs/common';
import { Prisma } from '../generated/prisma/client';
import { isDatabaseUnavailable } from './database-unavailable';

const prismaError = (code: string, message: string, meta?: Record<string, unknown>) =>
  new Prisma.PrismaClientKnownRequestError(message, { code, clientVersion: 'test', meta });

const pgError = (code: string, message: string) => Object.assign(new Error(message), { code });

describe('isDatabaseUnavailable', () => {
  it.each([
    [
      'a refused connection',
      Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' }),
    ],
    [
      'a server shutting down (57P01)',
      pgError('57P01', 'terminating connection due to administrator command'),
    ],
    ['a server starting up (57P03)', pgError('57P03', 'the database system is starting up')],
    ['pg losing its connection', new Error('Connection terminated unexpectedly')],
    ["Prisma's unreachable server (P1001)", prismaError('P1001', "Can't reach database server")],
    [
      "Prisma's closed connection (P1017)",
      prismaError('P1017', 'Server has closed the connection.'),
    ],
    [
      'a raw query cut off (P2010 with 08006)',
      prismaError('P2010', 'Raw query failed', { code: '08006' }),
    ],
    [
      'no connection within the transaction wait (P2028)',
      prismaError(
        'P2028',
        'Transaction API error: Unable to start a transaction in the given time.',
      ),
    ],
    [
      'the cause of a wrapped error',
      new Error('write failed', { cause: pgError('57P01', 'terminating connection') }),
    ],
  ])('is true for %s', (_name, error) => {
    expect(isDatabaseUnavailable(error)).toBe(true);
  });

  it.each([
    [
      'an HTTP answer quoting what the client typed',
      new NotFoundException('subscription Connection terminated not found'),
    ],
    [
      'a protocol violation (08P01), a statement of ours',
      pgError('08P01', 'bind message supplies 2 parameters'),
    ],
    [
      'another transaction failure (P2028)',
      prismaError('P2028', 'Transaction API error: Transaction already closed'),
    ],
    ['a unique violation (P2002)', prismaError('P2002', 'Unique constraint failed')],
    ['a statement error (42703)', pgError('42703', 'column "nope" does not exist')],
    ['something that is not an error', 'Connection terminated'],
  ])('is false for %s', (_name, error) => {
    expect(isDatabaseUnavailable(error)).toBe(false);
  });
});
