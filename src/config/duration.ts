const UNIT_MS: Record<string, number> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
};

/**
 * Parses `1500`, `1500ms`, `5s`, `2m`, `1h`, `30d` into milliseconds.
 * A bare number is taken as milliseconds. Returns undefined for anything else,
 * so the caller can name the variable in its error.
 */
export function parseDuration(text: string): number | undefined {
  const match = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$/i.exec(text);
  if (!match) return undefined;
  const value = Number(match[1]) * UNIT_MS[(match[2] ?? 'ms').toLowerCase()];
  return Number.isFinite(value) ? Math.round(value) : undefined;
}
