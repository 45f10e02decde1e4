/**
 * `Retry-After` as delay-seconds or an HTTP-date, in milliseconds, clamped to
 * `[minMs, maxMs]` so that the other side can neither make the relay hammer it
 * nor park work for days. Null when absent or unreadable.
 */
export function parseRetryAfter(
  value: unknown,
  { minMs, maxMs }: { minMs: number; maxMs: number },
  now: number = Date.now(),
): number | null {
  if (typeof value !== 'string') return null;
  const text = value.trim();
  let ms: number;
  if (/^\d+$/.test(text)) {
    ms = Number(text) * 1000;
  } else {
    // Every HTTP-date form names a month or day; V8 would otherwise read "-5" as a date.
    if (!/[a-z]/i.test(text)) return null;
    const at = Date.parse(text);
    if (Number.isNaN(at)) return null;
    ms = at - now;
  }
  return Math.min(maxMs, Math.max(minMs, ms));
}
