import http from 'node:http';
import https from 'node:https';
import { performance } from 'node:perf_hooks';
import axios, { AxiosInstance, AxiosResponse } from 'axios';
import { OnApplicationShutdown } from '@nestjs/common';
import { parseRetryAfter } from '../common/retry-after';
import { RateLimiter, SlotSource } from './rate-limiter';
import { UxcCredential, UxcOutcome, UxcTransportError, describeUxcOutcome } from './uxc-outcome';
import { UXC_OK, UXC_TASK_GET_PATH } from './uxc-response';
import { validateEnvelope, validateTaskData } from './uxc-response.validator';
import { UxcMetrics } from './uxc.metrics';

/** Any logger with a `debug` method; Nest's `Logger` fits. */
export interface UxcClientLogger {
  debug(message: string): void;
}

export interface UxcClientOptions {
  /** e.g. `https://uxc.example.com`, without the API path. */
  baseUrl: string;
  /** Whole-call deadline, connection to last byte (`UXC_TIMEOUT_MS`). */
  timeoutMs: number;
  /** Requests per second per credential (`UXC_RATE_LIMIT`). */
  rateLimit: number;
  /** Where the credentials' budgets are kept; by default in this process only. */
  rateSlots?: SlotSource;
  metrics?: UxcMetrics;
  logger?: UxcClientLogger;
  /** An answer is ~13 KB; anything this large is not a task answer. */
  maxBodyBytes?: number;
}

// UXC may ask for a pause as long as a day, never for a negative one
const RETRY_AFTER_CLAMP = { minMs: 0, maxMs: 24 * 3600 * 1000 };
const MAX_ERRMSG_CHARS = 1000;
// a 429 without Retry-After still means "slow down": hold the credential this long
const DEFAULT_SLOW_DOWN_MS = 1000;
// RFC 6265 cookie-octet: anything else would break the Cookie header
const COOKIE_SAFE = /^[\x21\x23-\x2B\x2D-\x3A\x3C-\x5B\x5D-\x7E]*$/;

/**
 * The UXC client the poller uses. One call, `getTask`, which never throws:
 * every way a call can end is an `UxcOutcome`. Calls wait for their
 * credential's rate-limit token first, then go out over keep-alive sockets.
 */
export class UxcClient implements OnApplicationShutdown {
  private readonly http: AxiosInstance;
  private readonly httpAgent = new http.Agent({ keepAlive: true });
  private readonly httpsAgent = new https.Agent({ keepAlive: true });
  private readonly limiter: RateLimiter;
  private readonly host: string;

  constructor(private readonly options: UxcClientOptions) {
    const base = new URL(options.baseUrl);
    // the host alone goes into messages: a base URL may carry user:password
    this.host = base.host;
    this.limiter = new RateLimiter(options.rateLimit, {
      source: options.rateSlots,
      observer: {
        waitingChanged: (waiting) => options.metrics?.rateLimitWaiting.set(waiting),
        sourceFailed: (error) =>
          options.logger?.debug(`UXC rate budget unavailable, asking again: ${String(error)}`),
      },
    });
    this.http = axios.create({
      baseURL: options.baseUrl.replace(/\/+$/, ''),
      timeout: options.timeoutMs,
      httpAgent: this.httpAgent,
      httpsAgent: this.httpsAgent,
      // parsed and classified here, so that a bad body is an outcome, not an exception
      responseType: 'text',
      transformResponse: [(data: unknown) => data],
      validateStatus: () => true,
      maxRedirects: 0,
      maxContentLength: options.maxBodyBytes ?? 10 * 1024 * 1024,
      // an HTTP(S)_PROXY meant for the outside world must not capture the local simulator
      proxy: isLoopback(base.hostname) ? false : undefined,
    });
  }

  get baseUrl(): string {
    return this.options.baseUrl;
  }

  get rateLimiter(): RateLimiter {
    return this.limiter;
  }

  /**
   * `POST /api/dispatch/task/get` for one sid, as the business party owning
   * `credential`. An `urgent` call takes the credential's next rate-limit
   * token before the waiting calls that are not.
   */
  async getTask(credential: UxcCredential, sid: string, urgent = false): Promise<UxcOutcome> {
    const waitedMs = await this.limiter.acquire(credential.ak, urgent);
    this.options.metrics?.recordWait(waitedMs);
    const outcome = scrub(await this.send(credential, sid), credential.sk);
    this.options.metrics?.recordOutcome(outcome, credential.ak);
    const pauseMs = slowDownMs(outcome);
    if (pauseMs !== null) {
      // the whole credential waits, in every process, not only this task
      await this.limiter
        .pause(credential.ak, pauseMs)
        .catch((error: unknown) =>
          this.options.logger?.debug(`recording UXC's pause failed: ${String(error)}`),
        );
    }
    if (outcome.kind !== 'ok') {
      // debug, not warn: an outage would otherwise log once per due task; metrics and task history carry it
      this.options.logger?.debug(
        `UXC task/get sid=${JSON.stringify(sid)} ak=${credential.ak}: ${describeUxcOutcome(outcome)}`,
      );
    }
    return outcome;
  }

  close(): void {
    this.httpAgent.destroy();
    this.httpsAgent.destroy();
  }

  onApplicationShutdown(): void {
    this.close();
  }

  private async send(credential: UxcCredential, sid: string): Promise<UxcOutcome> {
    const started = performance.now();
    const since = (): number => Math.round((performance.now() - started) * 100) / 100;
    // axios' own timeout is per socket inactivity; this one bounds the whole call
    const controller = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, this.options.timeoutMs);
    try {
      const response = await this.http.post<string>(UXC_TASK_GET_PATH, JSON.stringify({ sid }), {
        headers: { Cookie: cookieHeader(credential), 'Content-Type': 'application/json' },
        signal: controller.signal,
      });
      return this.classifyResponse(response, sid, since);
    } catch (error) {
      return this.classifyError(error, timedOut, since());
    } finally {
      clearTimeout(timer);
    }
  }

  private classifyResponse(
    response: AxiosResponse<string>,
    sid: string,
    since: () => number,
  ): UxcOutcome {
    const retryAfterMs = parseRetryAfter(response.headers['retry-after'], RETRY_AFTER_CLAMP);
    const contentType = String(response.headers['content-type'] ?? 'no content-type').split(';')[0];
    const body = typeof response.data === 'string' ? response.data : '';
    const transport = (
      reason: UxcTransportError['reason'],
      message: string,
    ): UxcTransportError => ({
      kind: 'transport-error',
      reason,
      message,
      ...(reason === 'http-status' ? { httpStatus: response.status } : {}),
      ...(retryAfterMs !== null ? { retryAfterMs } : {}),
      durationMs: since(),
    });

    if (response.status < 200 || response.status >= 300) {
      return transport(
        'http-status',
        `UXC answered HTTP ${response.status} (${contentType}, ${Buffer.byteLength(body)} bytes)`,
      );
    }

    let parsed: unknown;
    try {
      parsed = JSON.parse(body);
    } catch {
      return transport(
        'bad-body',
        `UXC answered HTTP ${response.status} with a body that is not JSON (${contentType}, ${Buffer.byteLength(body)} bytes)`,
      );
    }
    const envelope = validateEnvelope(parsed);
    if (!envelope.valid) {
      return transport('bad-body', `UXC's answer is not a task answer: ${envelope.problem}`);
    }
    if (envelope.value.errNo !== UXC_OK) {
      return {
        kind: 'upstream-error',
        errNo: envelope.value.errNo,
        errMsg: envelope.value.errMsg.slice(0, MAX_ERRMSG_CHARS),
        ...(retryAfterMs !== null ? { retryAfterMs } : {}),
        durationMs: since(),
      };
    }
    const data = validateTaskData(envelope.value.data);
    if (!data.valid) {
      return transport('bad-body', `UXC's answer is not a task answer: ${data.problem}`);
    }
    if (data.value.sid !== undefined && data.value.sid !== sid) {
      // attributing another task's state to this sid would be worse than no answer
      return transport('bad-body', `UXC answered about another sid`);
    }
    return { kind: 'ok', data: data.value, raw: envelope.value, durationMs: since() };
  }

  /**
   * Axios errors embed the request config, Cookie header included: only the
   * error code is read from them, and the message is written here.
   */
  private classifyError(error: unknown, timedOut: boolean, durationMs: number): UxcTransportError {
    const code = errorCode(error);
    if (timedOut || code === 'ECONNABORTED' || code === 'ETIMEDOUT') {
      return {
        kind: 'transport-error',
        reason: 'timeout',
        message: `UXC at ${this.host} did not answer within ${this.options.timeoutMs} ms`,
        durationMs,
      };
    }
    if (code === 'ERR_BAD_RESPONSE' || code === 'ERR_FR_MAX_CONTENT_LENGTH_EXCEEDED') {
      return {
        kind: 'transport-error',
        reason: 'bad-body',
        message: `UXC at ${this.host} sent an answer that could not be read (${code})`,
        durationMs,
      };
    }
    return {
      kind: 'transport-error',
      reason: 'connection',
      message: `could not reach UXC at ${this.host} (${code ?? 'network error'})`,
      durationMs,
    };
  }
}

/**
 * How long UXC asked this credential to hold off, when it did: HTTP 429, or
 * 503 with Retry-After. Other failures are the task's business (its backoff).
 */
export function slowDownMs(outcome: UxcOutcome): number | null {
  if (outcome.kind !== 'transport-error' || outcome.reason !== 'http-status') return null;
  if (outcome.httpStatus === 429) return outcome.retryAfterMs ?? DEFAULT_SLOW_DOWN_MS;
  if (outcome.httpStatus === 503 && outcome.retryAfterMs !== undefined) return outcome.retryAfterMs;
  return null;
}

function cookieHeader(credential: UxcCredential): string {
  return `ak=${cookieValue(credential.ak)}; sk=${cookieValue(credential.sk)}`;
}

function cookieValue(value: string): string {
  return COOKIE_SAFE.test(value) ? value : encodeURIComponent(value);
}

function errorCode(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const code = (error as { code?: unknown }).code;
  // only a plain code: nothing else from the error may reach a message
  return typeof code === 'string' && /^[A-Z][A-Z0-9_]{1,40}$/.test(code) ? code : undefined;
}

function isLoopback(hostname: string): boolean {
  return hostname === 'localhost' || hostname === '[::1]' || /^127\./.test(hostname);
}

/** Last line of defence: an upstream errMsg could echo the cookie back. */
function scrub(outcome: UxcOutcome, sk: string): UxcOutcome {
  if (sk === '' || outcome.kind === 'ok') return outcome;
  const clean = (text: string): string =>
    [sk, encodeURIComponent(sk)].reduce(
      (acc, secret) => acc.split(secret).join('[redacted]'),
      text,
    );
  if (outcome.kind === 'upstream-error') return { ...outcome, errMsg: clean(outcome.errMsg) };
  return { ...outcome, message: clean(outcome.message) };
}
