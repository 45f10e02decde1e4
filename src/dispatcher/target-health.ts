/**
 * What the disable decision knows of a delivery target (a subscription; an
 * endpoint the same way): when its current run of failures began and when
 * it last had a success.
 */
export interface TargetHealth {
  /** the first failure of its oldest pending delivery's current run of failures */
  failingSince: Date;
  lastSuccessAt: Date | null;
}

/**
 * How long the target has failed without a single success: from the later of
 * its first failure and its last success (a success in between means the
 * receiver worked then, so only the failures after it count).
 */
export function failingWithoutSuccessMs(health: TargetHealth, now: Date): number {
  const since = Math.max(health.failingSince.getTime(), health.lastSuccessAt?.getTime() ?? 0);
  return Math.max(0, now.getTime() - since);
}

/** WEBHOOK_DISABLE_AFTER: a target failing without a success this long is disabled. */
export function shouldDisable(health: TargetHealth, now: Date, disableAfterMs: number): boolean {
  return failingWithoutSuccessMs(health, now) >= disableAfterMs;
}

/** The words of the alert's `reason`. */
export function disableReason(health: TargetHealth, target: string, disableAfter: string): string {
  const since = new Date(
    Math.max(health.failingSince.getTime(), health.lastSuccessAt?.getTime() ?? 0),
  ).toISOString();
  return `no webhook to ${target} succeeded since ${since} (WEBHOOK_DISABLE_AFTER ${disableAfter})`;
}

/** How often the sweep looks: a tenth of the window, between 1 s and 1 min. */
export function sweepIntervalMs(disableAfterMs: number): number {
  return Math.min(60_000, Math.max(1000, Math.floor(disableAfterMs / 10)));
}
