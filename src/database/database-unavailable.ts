import { HttpException } from '@nestjs/common';

/**
 * Whether an error says the database could not be reached or dropped the
 * connection, as opposed to refusing the statement. Requests that meet one
 * answer 503 with Retry-After: the client did nothing wrong and the same
 * request will work once the pool reconnects.
 *
 * The error may come from Prisma (a known request error whose code names the
 * driver adapter's error kind), from the adapter itself (its `cause` holds the
 * kind or PostgreSQL's SQLSTATE), or from `pg` on the hot paths that use the
 * pool directly (a socket error code, a SQLSTATE, or pg's own messages).
 */
export function isDatabaseUnavailable(error: unknown): boolean {
  // an answer the code chose (its message may quote what the client typed)
  if (error instanceof HttpException) return false;
  const seen = new Set<unknown>();
  let current: unknown = error;
  while (typeof current === 'object' && current !== null && !seen.has(current)) {
    seen.add(current);
    if (saysUnavailable(current as Describable)) return true;
    const next = current as Describable;
    current = next.cause ?? next.meta?.driverAdapterError;
  }
  return false;
}

interface Describable {
  code?: unknown;
  kind?: unknown;
  message?: unknown;
  cause?: unknown;
  meta?: { driverAdapterError?: unknown; code?: unknown };
}

/** Prisma's codes for the driver adapter's connection failures (see its error mapping). */
const PRISMA_CODES = new Set(['P1001', 'P1002', 'P1008', 'P1017', 'P2024', 'P2037']);

/**
 * P2028 is any interactive-transaction failure; only this one means no
 * connection came within the wait (a host that does not answer, or a pool
 * that is full), which the same request later gets past.
 */
const TRANSACTION_NOT_STARTED = /Unable to start a transaction in the given time/;

const ADAPTER_KINDS = new Set([
  'DatabaseNotReachable',
  'ConnectionClosed',
  'SocketTimeout',
  'TooManyConnections',
]);

const SOCKET_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EAI_AGAIN']);

/**
 * SQLSTATE 08xxx: connection exceptions; 57P01–57P03: the server is shutting
 * down, crashed or not accepting connections yet; 53300: too many connections.
 */
function isUnavailableSqlState(code: string): boolean {
  return CONNECTION_SQLSTATES.has(code);
}

/** Not 08P01 (protocol violation): that one is a statement of ours, not the network. */
const CONNECTION_SQLSTATES = new Set([
  '08000',
  '08001',
  '08003',
  '08004',
  '08006',
  '08007',
  '57P01',
  '57P02',
  '57P03',
  '53300',
]);

const PG_MESSAGES =
  /Connection terminated|connection error and is not queryable|timeout exceeded when trying to connect|Client was closed and is not queryable|the database system is (starting up|shutting down|in recovery mode)/i;

function saysUnavailable(error: Describable): boolean {
  const code = typeof error.code === 'string' ? error.code : undefined;
  if (code !== undefined) {
    if (code === 'P2028' && typeof error.message === 'string') {
      if (TRANSACTION_NOT_STARTED.test(error.message)) return true;
    }
    if (PRISMA_CODES.has(code) || SOCKET_CODES.has(code) || isUnavailableSqlState(code)) {
      return true;
    }
  }
  // a raw query's failure (P2010) carries PostgreSQL's SQLSTATE in meta
  const metaCode = error.meta?.code;
  if (typeof metaCode === 'string' && isUnavailableSqlState(metaCode)) return true;
  if (typeof error.kind === 'string') {
    if (ADAPTER_KINDS.has(error.kind)) return true;
    const original = (error as { originalCode?: unknown }).originalCode;
    if (error.kind === 'postgres' && typeof original === 'string') {
      if (isUnavailableSqlState(original)) return true;
    }
  }
  return typeof error.message === 'string' && PG_MESSAGES.test(error.message);
}
