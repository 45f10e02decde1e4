import {
  decideOnTakenKey,
  idempotencyKeyProblem,
  isStorableStatus,
  requestFingerprint,
} from './idempotency-key';

describe('Idempotency-Key', () => {
  it('takes 1–255 printable ASCII characters and names the header otherwise', () => {
    expect(idempotencyKeyProblem('a')).toBeNull();
    expect(idempotencyKeyProblem('8e5b2c1e-9a4f-4c53-b1c4-3f0d6c2a7e91')).toBeNull();
    expect(idempotencyKeyProblem('k'.repeat(255))).toBeNull();
    expect(idempotencyKeyProblem('')).toBe('Idempotency-Key must not be empty');
    expect(idempotencyKeyProblem('k'.repeat(256))).toBe(
      'Idempotency-Key must be at most 255 characters',
    );
    expect(idempotencyKeyProblem('tab\there')).toBe(
      'Idempotency-Key must be printable ASCII characters',
    );
  });

  it('fingerprints method, path and body', () => {
    const base = requestFingerprint('POST', '/v1/subscriptions', { sid: 'a' });
    expect(requestFingerprint('post', '/v1/subscriptions', { sid: 'a' })).toBe(base);
    expect(requestFingerprint('POST', '/v1/subscriptions', { sid: 'b' })).not.toBe(base);
    expect(requestFingerprint('POST', '/v1/subscriptions/batch', { sid: 'a' })).not.toBe(base);
    expect(requestFingerprint('POST', '/v1/webhook-test', undefined)).toBe(
      requestFingerprint('POST', '/v1/webhook-test', null),
    );
  });

  it('replays a finished request, refuses another request, and waits out one in flight', () => {
    const stored = { fingerprint: 'f', statusCode: 201, body: '{"id":"sub_1"}' };
    expect(decideOnTakenKey(stored, 'f')).toEqual({
      kind: 'replay',
      statusCode: 201,
      body: { id: 'sub_1' },
    });
    expect(decideOnTakenKey(stored, 'g')).toEqual({ kind: 'mismatch' });
    expect(decideOnTakenKey({ ...stored, statusCode: null, body: null }, 'f')).toEqual({
      kind: 'in-flight',
    });
    expect(decideOnTakenKey({ ...stored, statusCode: null, body: null }, 'g')).toEqual({
      kind: 'mismatch',
    });
  });

  it('keeps only answers of finished work', () => {
    expect([200, 201, 202, 204].every(isStorableStatus)).toBe(true);
    expect([400, 404, 409, 422, 429, 500, 503].some(isStorableStatus)).toBe(false);
  });
});
