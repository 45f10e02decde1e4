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
  return /^08[0-9A-Z]{3}$/.test(code) || /^57P0[123]$/.test(code) || code === '53300';
}

const PG_MESSAGES =
  /Connection terminated|connection error and is not queryable|timeout exceeded when trying to connect|Client was closed and is not queryable|the database system is (starting up|shutting down|in recovery mode)/i;

function saysUnavailable(error: Describable): boolean {
  const code = typeof error.code === 'string' ? error.code : undefined;
  if (code !== undefined) {
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
