import createClient, { type Middleware } from 'openapi-fetch';
import type { components, paths } from './schema';

/** The generated schema's models, by name. */
export type Schemas = components['schemas'];

const STORAGE_KEY = 'uxc-relay-console.session';

export interface Session {
  /** `tenant`: an API key; `admin`: the ADMIN_TOKEN. */
  role: 'tenant' | 'admin';
  token: string;
}

/** Kept in sessionStorage: gone with the tab, never in a URL. */
export function loadSession(): Session | null {
  const text = sessionStorage.getItem(STORAGE_KEY);
  if (!text) return null;
  try {
    return JSON.parse(text) as Session;
  } catch {
    return null;
  }
}

export function saveSession(session: Session | null): void {
  if (session) sessionStorage.setItem(STORAGE_KEY, JSON.stringify(session));
  else sessionStorage.removeItem(STORAGE_KEY);
}

const auth: Middleware = {
  onRequest({ request }) {
    const session = loadSession();
    if (session) request.headers.set('Authorization', `Bearer ${session.token}`);
    return request;
  },
};

/** The typed client of every route in the OpenAPI document this build was made from. */
export const api = createClient<paths>({ baseUrl: location.origin });
api.use(auth);

/** An answer that is not 2xx, with the server's message. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
  /** This server has no such route (an older relay): the page says so instead of failing. */
  get missingRoute(): boolean {
    // Nest's own 404 for an unknown path, or 405 where the path knows other methods only
    return (this.status === 404 && /^Cannot [A-Z]+ /.test(this.message)) || this.status === 405;
  }
}

function messageOf(body: unknown, status: number): string {
  const message = (body as { message?: unknown } | null)?.message;
  if (Array.isArray(message)) return message.join('; ');
  if (typeof message === 'string') return message;
  return `HTTP ${status}`;
}

/** Unwraps an openapi-fetch answer: the data, or an ApiError. */
export async function ok<T>(
  call: Promise<{ data?: T; error?: unknown; response: Response }>,
): Promise<T> {
  const { data, error, response } = await call;
  if (!response.ok) throw new ApiError(response.status, messageOf(error, response.status));
  return data as T;
}

/**
 * Routes of the contract that this build's OpenAPI document may not list yet
 * (endpoints, recoveries, stream tokens, tracking a sid): called untyped, with
 * the contract's shapes; a server without them answers 404 and the page says
 * "not available on this server".
 */
export async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
  const session = loadSession();
  const response = await fetch(path, {
    method,
    headers: {
      ...(session ? { Authorization: `Bearer ${session.token}` } : {}),
      ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  const parsed: unknown = text ? safeJson(text) : null;
  if (!response.ok) throw new ApiError(response.status, messageOf(parsed, response.status));
  return parsed as T;
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return { message: text };
  }
}

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

/** `/v1/endpoints`, as the contract describes it. */
export interface Endpoint {
  id: string;
  url: string;
  events: string[] | null;
  description: string | null;
  state: string;
  createdAt: string;
}

export interface Recovery {
  id: string;
  state?: string;
  [field: string]: unknown;
}
