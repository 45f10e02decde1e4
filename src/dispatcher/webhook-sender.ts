import * as http from 'node:http';
import * as https from 'node:https';
import { isIP, LookupFunction } from 'node:net';
import { performance } from 'node:perf_hooks';
import { parseRetryAfter } from '../common/retry-after';
import { isAddressAllowed } from '../webhooks/address-policy';
import { defaultResolve, hostOf, HostResolver } from '../webhooks/callback-url-policy';
import { cachingResolver } from './dns-cache';

export interface WebhookSenderOptions {
  /** Per attempt, from the start of connecting to the end of reading the answer. */
  timeoutMs: number;
  allowPrivateNetworks: boolean;
  /** Open connections per host:port; unlimited when absent. */
  maxSockets?: number;
  /** Defaults to `dns.lookup(host, { all: true })`; tests inject their own answers. */
  resolve?: HostResolver;
}

export interface SendResult {
  /** The receiver's status code, or `null` when no answer arrived. */
  statusCode: number | null;
  durationMs: number;
  /** Why no answer arrived (`timeout after 15000ms`, `connection refused`, …). */
  error: string | null;
  /** The first 1 KB of the answer, decoded as UTF-8; `null` when no answer arrived. */
  responseBody: string | null;
  /** The answer's headers (at most 64, each value cut at 1 KB); `null` when no answer arrived. */
  responseHeaders: Record<string, string | string[]> | null;
  /** `Retry-After` of a 429 or 503, clamped to 1 s..1 h. */
  retryAfterMs: number | null;
  /** True when the URL policy refused the address: no request left the relay. */
  refused: boolean;
}

export const RESPONSE_BODY_LIMIT = 1024;
/** Past this, an answer is not worth draining to keep the connection alive. */
const DRAIN_LIMIT = 64 * 1024;
export const RETRY_AFTER_MIN_MS = 1000;
export const RETRY_AFTER_MAX_MS = 60 * 60 * 1000;
const RETRY_AFTER_CLAMP = { minMs: RETRY_AFTER_MIN_MS, maxMs: RETRY_AFTER_MAX_MS };

class RefusedAddressError extends Error {}
class AttemptTimeoutError extends Error {}
class DnsLookupError extends Error {}

interface Attempt {
  result: Omit<SendResult, 'durationMs'>;
  /** A kept-alive connection that the receiver had already closed: safe to try once more. */
  staleConnection: boolean;
}

/**
 * Sends one webhook request and reports what happened. Never throws for
 * anything the network or the receiver does, never follows redirects, and
 * applies the address policy to the address it actually connects to.
 */
export class WebhookSender {
  private readonly httpAgent: http.Agent;
  private readonly httpsAgent: https.Agent;
  private readonly resolve: HostResolver;

  constructor(private readonly options: WebhookSenderOptions) {
    this.resolve = options.resolve ?? cachingResolver(defaultResolve);
    // The lookup goes on the agents so every new connection is checked,
    // including ones a kept-alive pool opens later.
    const agentOptions = {
      keepAlive: true,
      maxSockets: options.maxSockets ?? Infinity,
      lookup: this.checkedLookup,
    };
    this.httpAgent = new http.Agent(agentOptions);
    this.httpsAgent = new https.Agent(agentOptions);
  }

  async send(
    url: string | URL,
    headers: Record<string, string>,
    body: string,
    signal?: AbortSignal,
  ): Promise<SendResult> {
    const started = performance.now();
    const elapsed = (): number => Math.round(performance.now() - started);
    let target: URL;
    try {
      target = typeof url === 'string' ? new URL(url) : url;
    } catch {
      return { ...failure('invalid URL', true), durationMs: elapsed() };
    }
    if (target.protocol !== 'http:' && target.protocol !== 'https:') {
      return { ...failure(`unsupported protocol ${target.protocol}`, true), durationMs: elapsed() };
    }
    // A connection to an IP literal skips the lookup, so check it here.
    const host = hostOf(target);
    if (isIP(host)) {
      const verdict = isAddressAllowed(host, this.options.allowPrivateNetworks);
      if (!verdict.ok) {
        return {
          ...failure(`address ${host} is refused: ${verdict.reason}`, true),
          durationMs: elapsed(),
        };
      }
    }
    const payload = Buffer.from(body, 'utf8');
    const deadline = started + this.options.timeoutMs;
    let attempt = await this.attempt(target, host, headers, payload, deadline, signal);
    if (attempt.staleConnection && performance.now() < deadline && !signal?.aborted) {
      attempt = await this.attempt(target, host, headers, payload, deadline, signal);
    }
    return { ...attempt.result, durationMs: elapsed() };
  }

  /** Closes kept-alive connections; in-flight requests fail. */
  close(): void {
    this.httpAgent.destroy();
    this.httpsAgent.destroy();
  }

  /** Nest calls this after every module's shutdown work, i.e. after in-flight deliveries. */
  onApplicationShutdown(): void {
    this.close();
  }

  private attempt(
    target: URL,
    host: string,
    headers: Record<string, string>,
    payload: Buffer,
    deadline: number,
    signal: AbortSignal | undefined,
  ): Promise<Attempt> {
    return new Promise((resolve) => {
      let settled = false;
      const settle = (attempt: Attempt): void => {
        if (settled) return;
        settled = true;
        resolve(attempt);
      };
      const isHttps = target.protocol === 'https:';
      const req = (isHttps ? https : http).request({
        method: 'POST',
        protocol: target.protocol,
        hostname: host,
        port: target.port || undefined,
        path: `${target.pathname}${target.search}`,
        headers: { ...headers, 'content-length': String(payload.length) },
        agent: isHttps ? this.httpsAgent : this.httpAgent,
        servername: isHttps && !isIP(host) ? host : undefined,
        signal,
      });

      let response:
        | {
            statusCode: number;
            retryAfter: string | undefined;
            headers: Record<string, string | string[]>;
          }
        | undefined;
      const chunks: Buffer[] = [];
      let kept = 0;
      const settleWithResponse = (): void => {
        if (!response) return;
        const { statusCode, retryAfter, headers: responseHeaders } = response;
        settle({
          result: {
            statusCode,
            error: null,
            responseBody: Buffer.concat(chunks).toString('utf8'),
            responseHeaders,
            retryAfterMs:
              statusCode === 429 || statusCode === 503
                ? parseRetryAfter(retryAfter, RETRY_AFTER_CLAMP)
                : null,
            refused: false,
          },
          staleConnection: false,
        });
      };

      // One timer covers connecting, sending and reading the answer; once the
      // status has arrived a late body only shortens what is kept.
      const timer = setTimeout(
        () => {
          if (response) settleWithResponse();
          req.destroy(new AttemptTimeoutError(`timeout after ${this.options.timeoutMs}ms`));
        },
        Math.max(1, deadline - performance.now()),
      );
      req.on('close', () => clearTimeout(timer));

      req.on('response', (res) => {
        response = {
          statusCode: res.statusCode ?? 0,
          retryAfter: header(res, 'retry-after'),
          headers: keptHeaders(res),
        };
        let seen = 0;
        res.on('data', (chunk: Buffer) => {
          seen += chunk.length;
          if (kept < RESPONSE_BODY_LIMIT) {
            const part = chunk.subarray(0, RESPONSE_BODY_LIMIT - kept);
            chunks.push(part);
            kept += part.length;
            if (kept >= RESPONSE_BODY_LIMIT) settleWithResponse();
          }
          if (seen > DRAIN_LIMIT) res.destroy();
        });
        res.on('end', settleWithResponse);
        res.on('close', settleWithResponse);
        res.on('error', settleWithResponse);
      });

      req.on('error', (err: Error) => {
        if (response) return settleWithResponse();
        settle({
          result: failure(describeError(err, host), err instanceof RefusedAddressError),
          staleConnection: req.reusedSocket && errorCode(err) === 'ECONNRESET',
        });
      });

      req.end(payload);
    });
  }

  /**
   * Resolves like `dns.lookup` but hands the socket only addresses the policy
   * allows, so whatever the DNS answers at connect time, a refused address is
   * never connected to.
   */
  private readonly checkedLookup: LookupFunction = (hostname, options, callback) => {
    this.resolve(hostname).then(
      (addresses) => {
        const wanted =
          options.family === 4 || options.family === 6
            ? addresses.filter((address) => isIP(address) === options.family)
            : addresses;
        if (wanted.length === 0) {
          const err = new DnsLookupError(`DNS lookup failed for ${hostname}`);
          return callback(Object.assign(err, { code: 'ENOTFOUND' }), '', 0);
        }
        const allowed = wanted.filter(
          (address) => isAddressAllowed(address, this.options.allowPrivateNetworks).ok,
        );
        if (allowed.length === 0) {
          const verdict = isAddressAllowed(wanted[0], this.options.allowPrivateNetworks);
          const err = new RefusedAddressError(`address ${wanted[0]} is refused: ${verdict.reason}`);
          return callback(err, '', 0);
        }
        if (options.all) {
          const entries = allowed.map((address) => ({ address, family: isIP(address) }));
          return (callback as unknown as AllCallback)(null, entries);
        }
        callback(null, allowed[0], isIP(allowed[0]));
      },
      (cause: unknown) => {
        const err = new DnsLookupError(`DNS lookup failed for ${hostname}`);
        callback(Object.assign(err, { code: errorCode(cause) ?? 'ENOTFOUND' }), '', 0);
      },
    );
  };
}

type AllCallback = (
  err: NodeJS.ErrnoException | null,
  addresses: { address: string; family: number }[],
) => void;

function failure(error: string, refused: boolean): Omit<SendResult, 'durationMs'> {
  return {
    statusCode: null,
    error,
    responseBody: null,
    responseHeaders: null,
    retryAfterMs: null,
    refused,
  };
}

const HEADER_COUNT_LIMIT = 64;
const HEADER_VALUE_LIMIT = 1024;

/** The receiver's headers as the attempt log keeps them: bounded, whatever the receiver sends. */
function keptHeaders(res: http.IncomingMessage): Record<string, string | string[]> {
  const kept: Record<string, string | string[]> = {};
  let count = 0;
  for (const [name, value] of Object.entries(res.headers)) {
    if (value === undefined) continue;
    if (++count > HEADER_COUNT_LIMIT) break;
    kept[name] = Array.isArray(value)
      ? value.map((v) => v.slice(0, HEADER_VALUE_LIMIT))
      : value.slice(0, HEADER_VALUE_LIMIT);
  }
  return kept;
}

function header(res: http.IncomingMessage, name: string): string | undefined {
  const value = res.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function errorCode(err: unknown): string | undefined {
  if (err instanceof AggregateError && err.errors.length > 0) return errorCode(err.errors[0]);
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** Error text for the attempt log: short, stable, and free of headers or secrets. */
function describeError(err: Error, host: string): string {
  if (
    err instanceof RefusedAddressError ||
    err instanceof AttemptTimeoutError ||
    err instanceof DnsLookupError
  ) {
    return err.message;
  }
  const code = errorCode(err);
  switch (code) {
    case 'ABORT_ERR':
      return 'request aborted: the relay is shutting down';
    case 'ECONNREFUSED':
      return 'connection refused';
    case 'ECONNRESET':
    case 'EPIPE':
      return 'connection reset';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'EAI_FAIL':
    case 'ENODATA':
      return `DNS lookup failed for ${host}`;
    case 'EHOSTUNREACH':
      return 'host unreachable';
    case 'ENETUNREACH':
      return 'network unreachable';
    case 'ETIMEDOUT':
      return 'connection timed out';
  }
  if (code?.startsWith('HPE_')) return 'invalid HTTP response';
  if (code?.startsWith('ERR_SSL') || code?.includes('CERT') || code?.startsWith('ERR_TLS')) {
    return `TLS error: ${err.message}`;
  }
  return code ? `${code}: ${err.message}` : err.message;
}
