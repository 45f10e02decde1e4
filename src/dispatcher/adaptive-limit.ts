/** What one answer says about a host's capacity. */
export type HostSignal = 'fast' | 'slow' | 'overloaded' | 'neutral';

/** An answer slower than this is no reason to send more at once. */
export const FAST_ANSWER_MS = 1000;

/**
 * Classifies one attempt for the per-host limit: a fast 2xx invites more
 * concurrency; a 5xx, 429, timeout or connection failure asks for less; a
 * 4xx says nothing about load.
 */
export function hostSignal(result: {
  statusCode: number | null;
  durationMs: number;
  refused: boolean;
}): HostSignal {
  const status = result.statusCode;
  if (status === null) return result.refused ? 'neutral' : 'overloaded';
  if (status >= 500 || status === 429) return 'overloaded';
  if (status >= 200 && status < 300) return result.durationMs <= FAST_ANSWER_MS ? 'fast' : 'slow';
  return 'neutral';
}

/**
 * How many requests may be in flight to one host, as TCP sizes its window:
 * while the host answers fast and every slot is in use, the limit doubles each
 * round (slow start) until the host first signals overload, and grows by one
 * a round after that; overload halves it, at most once per round of requests
 * (answers to requests sent before the last cut do not cut again). Starts at
 * `initial`, stays within 1..`max`.
 */
export class AdaptiveLimit {
  private value: number;
  /** Requests started before this count were sent under the old limit. */
  private cutAt = 0;
  private started = 0;
  private slowStart = true;

  constructor(
    initial: number,
    private readonly max: number,
  ) {
    this.value = Math.min(initial, max);
  }

  get limit(): number {
    return Math.max(1, Math.floor(this.value));
  }

  /** Counts a request being started; returns its ticket for `record`. */
  start(): number {
    return ++this.started;
  }

  record(ticket: number, signal: HostSignal, inFlightAtStart: number): void {
    if (signal === 'fast') {
      // grow only when the limit is what holds the host back
      if (inFlightAtStart + 1 >= this.limit) {
        const step = this.slowStart ? 1 : 1 / this.limit;
        this.value = Math.min(this.max, this.value + step);
      }
    } else if (signal === 'overloaded' && ticket > this.cutAt) {
      this.value = Math.max(1, this.value / 2);
      this.cutAt = this.started;
      this.slowStart = false;
    }
  }
}
