/**
 * A NUL character, or half of a UTF-16 surrogate pair without its other half:
 * PostgreSQL stores neither in text or jsonb (22021, 22P05), and no client
 * means either. With the `u` flag a well-formed pair is one code point, so
 * `\p{Cs}` matches lone halves only.
 */
const BROKEN_TEXT = /[\0\p{Cs}]/u;

export function isBrokenText(text: string): boolean {
  return BROKEN_TEXT.test(text);
}

/** The path of the first string (or object key) in `value` holding broken text. */
export function findBrokenText(value: unknown, path: string): string | undefined {
  if (typeof value === 'string') return isBrokenText(value) ? path : undefined;
  if (value === null || typeof value !== 'object') return undefined;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const found = findBrokenText(value[i], `${path}.${i}`);
      if (found) return found;
    }
    return undefined;
  }
  for (const [key, inner] of Object.entries(value)) {
    const here = path ? `${path}.${key}` : key;
    if (isBrokenText(key)) return `${path ? `${path}.` : ''}(a key)`;
    const found = findBrokenText(inner, here);
    if (found) return found;
  }
  return undefined;
}

export const BROKEN_TEXT_REASON = 'holds a NUL character or broken Unicode (a lone surrogate)';
