/**
 * The authority (host and port) of a callback URL, lowercased, as written:
 * the unit of the per-host concurrency, stored on each delivery lane.
 */
export function hostKey(url: string): string {
  const afterScheme = url.includes('://') ? url.slice(url.indexOf('://') + 3) : '';
  const authority = afterScheme.split('/')[0].split('?')[0].split('#')[0];
  return authority.slice(authority.indexOf('@') + 1).toLowerCase();
}
