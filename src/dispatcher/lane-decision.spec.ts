import type { AttemptRecord, LaneHead, LeasedLane } from '../outbox/delivery.store';
import { completeAttempt, decideHead, isStaleProgress } from './lane-decision';

const NOW = new Date('2026-12-05T08:00:00Z');
const HOLD_MS = 60_000;

const lane: LeasedLane = {
  id: 'sub_1',
  subscriptionId: 'sub_1',
  deliveryId: null,
  host: 'h',
  version: 1,
};

function head(overrides: Partial<LaneHead> = {}): LaneHead {
  return {
    laneId: 'sub_1',
    id: 'msg_1',
    subscriptionId: 'sub_1',
    eventType: 'task.progress',
    sequence: 2,
    payload: '{}',
    attempts: 0,
    nextAttemptAt: NOW,
    firstFailedAt: null,
    detached: false,
    callbackUrl: 'https://example.com/hook',
    observedAt: NOW,
    tenantId: 'ten_1',
    secretOwner: 'ten_1',
    endpointId: null,
    webhookSecretEnc: 'enc',
    previousSecretEnc: null,
    previousSecretUntil: null,
    more: true,
    ...overrides,
  };
}

const attempt: AttemptRecord = {
  at: NOW,
  statusCode: 500,
  durationMs: 10,
  error: null,
  responseBody: null,
  responseHeaders: null,
};

describe('supersede stale progress', () => {
  it('is progress with a newer delivery behind it, on the lane it holds back', () => {
    expect(isStaleProgress(head())).toBe(true);
    expect(isStaleProgress(head({ more: false }))).toBe(false);
    expect(isStaleProgress(head({ eventType: 'task.running' }))).toBe(false);
    expect(isStaleProgress(head({ detached: true }))).toBe(false);
  });

  it('skips a stale progress head unsent, and sends one with nothing behind it', () => {
    const skipped = decideHead(lane, head(), NOW, HOLD_MS);
    expect(skipped).toMatchObject({
      send: false,
      completion: { outcome: 'superseded', deliveryId: 'msg_1', laneNext: 'now' },
    });
    expect(decideHead(lane, head({ more: false }), NOW, HOLD_MS)).toEqual({ send: true });
  });

  it('does not retry a stale progress head that failed, and retries one with nothing behind it', () => {
    const retry = { kind: 'retry' as const, delayMs: 1000 };
    expect(completeAttempt(lane, head(), retry, attempt, HOLD_MS)).toMatchObject({
      outcome: 'superseded',
      nextAttemptAt: null,
      laneNext: 'now',
    });
    expect(completeAttempt(lane, head({ more: false }), retry, attempt, HOLD_MS)).toMatchObject({
      outcome: 'retry',
      nextAttemptAt: new Date(NOW.getTime() + 1000),
    });
  });
});
