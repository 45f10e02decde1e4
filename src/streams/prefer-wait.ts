/** The longest a long poll is held, in seconds. */
export const MAX_WAIT_S = 60;

/**
 * The seconds asked for by `Prefer: wait=N` (RFC 7240, as Replicate uses it),
 * capped at MAX_WAIT_S; undefined when the header asks for no wait. A header
 * is a preference, not a field: an unreadable one is ignored rather than refused.
 */
export function preferredWait(header: string | string[] | undefined): number | undefined {
  const text = Array.isArray(header) ? header.join(',') : header;
  if (!text) return undefined;
  const match = /(?:^|[,;\s])wait\s*=\s*"?(\d{1,9})"?\s*(?=$|[,;\s])/i.exec(text);
  if (!match) return undefined;
  return Math.min(MAX_WAIT_S, Number(match[1]));
}
