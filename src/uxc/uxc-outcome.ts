import { UxcEnvelope, UxcTaskData } from './uxc-response';

/** The AK/SK pair a business party was issued. The `sk` is a secret: never log it. */
export interface UxcCredential {
  ak: string;
  sk: string;
}

export interface UxcOk {
  kind: 'ok';
  data: UxcTaskData;
  /** The whole parsed answer, unknown fields included. */
  raw: UxcEnvelope<unknown>;
  durationMs: number;
}

/** UXC answered, with `errNo ≠ 0`. */
export interface UxcUpstreamError {
  kind: 'upstream-error';
  errNo: number;
  errMsg: string;
  retryAfterMs?: number;
  durationMs: number;
}

export type UxcTransportReason = 'timeout' | 'connection' | 'http-status' | 'bad-body';

/** No usable answer came back. */
export interface UxcTransportError {
  kind: 'transport-error';
  reason: UxcTransportReason;
  /** Written by the client itself: never the text of an HTTP library error, which embeds the cookie. */
  message: string;
  httpStatus?: number;
  retryAfterMs?: number;
  durationMs: number;
}

export type UxcOutcome = UxcOk | UxcUpstreamError | UxcTransportError;
/**
 * None is final: the meanings of UXC's error numbers are not documented, so
 * the poller retries every failure until UXC_ERROR_GIVE_UP.
 */
export type UxcFailure = UxcUpstreamError | UxcTransportError;

/** One short line for logs and task history, e.g. `errNo 3002: invalid ak/sk`. */
export function describeUxcOutcome(outcome: UxcOutcome): string {
  switch (outcome.kind) {
    case 'ok':
      return `ok (status ${outcome.data.status ?? 'absent'})`;
    case 'upstream-error':
      return `errNo ${outcome.errNo}: ${outcome.errMsg}`;
    case 'transport-error':
      return `${outcome.reason}: ${outcome.message}`;
  }
}
