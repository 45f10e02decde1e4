import {
  disableReason,
  failingWithoutSuccessMs,
  shouldDisable,
  sweepIntervalMs,
} from './target-health';

const at = (iso: string): Date => new Date(iso);
const DAY = 24 * 60 * 60 * 1000;

describe('target health', () => {
  const now = at('2026-12-10T00:00:00Z');

  it('counts from the first failure when nothing ever succeeded', () => {
    const health = { failingSince: at('2026-12-04T00:00:00Z'), lastSuccessAt: null };
    expect(failingWithoutSuccessMs(health, now)).toBe(6 * DAY);
    expect(shouldDisable(health, now, 5 * DAY)).toBe(true);
    expect(shouldDisable(health, now, 7 * DAY)).toBe(false);
  });

  it('counts from a success that came after the first failure', () => {
    const health = {
      failingSince: at('2026-12-01T00:00:00Z'),
      lastSuccessAt: at('2026-12-08T00:00:00Z'),
    };
    expect(failingWithoutSuccessMs(health, now)).toBe(2 * DAY);
    expect(shouldDisable(health, now, 5 * DAY)).toBe(false);
  });

  it('ignores a success older than the run of failures', () => {
    const health = {
      failingSince: at('2026-12-04T00:00:00Z'),
      lastSuccessAt: at('2026-12-01T00:00:00Z'),
    };
    expect(shouldDisable(health, now, 5 * DAY)).toBe(true);
    expect(disableReason(health, 'callbackUrl', '5d')).toBe(
      'no webhook to callbackUrl succeeded since 2026-12-04T00:00:00.000Z (WEBHOOK_DISABLE_AFTER 5d)',
    );
  });

  it('sweeps a tenth of the window, between 1 s and 1 min', () => {
    expect(sweepIntervalMs(5 * DAY)).toBe(60_000);
    expect(sweepIntervalMs(3000)).toBe(1000);
    expect(sweepIntervalMs(200_000)).toBe(20_000);
  });
});
