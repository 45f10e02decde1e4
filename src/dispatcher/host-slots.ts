/**
 * The authority (host and port) of a callback URL, lowercased, as written:
 * the unit of the per-host cap. `HOST_KEY_SQL` computes the same key inside
 * the claim query, with plain string functions because a regular expression
 * over every pending row's URL was most of that query's time.
 */
export function hostKey(url: string): string {
  const afterScheme = url.includes('://') ? url.slice(url.indexOf('://') + 3) : '';
  const authority = afterScheme.split('/')[0].split('?')[0].split('#')[0];
  return authority.slice(authority.indexOf('@') + 1).toLowerCase();
}

/** `hostKey(s.callback_url)` in SQL; keep the two in step. */
export const HOST_KEY_SQL = `lower(substring(split_part(split_part(split_part(split_part(s.callback_url, '://', 2), '/', 1), '?', 1), '#', 1)
  from position('@' in split_part(split_part(split_part(split_part(s.callback_url, '://', 2), '/', 1), '?', 1), '#', 1)) + 1))`;

/** Requests in flight per callback host in this process, against a cap per host. */
export class HostSlots {
  private readonly busy = new Map<string, number>();

  constructor(readonly perHost: number) {}

  acquire(host: string): void {
    this.busy.set(host, (this.busy.get(host) ?? 0) + 1);
  }

  release(host: string): void {
    const left = (this.busy.get(host) ?? 0) - 1;
    if (left > 0) this.busy.set(host, left);
    else this.busy.delete(host);
  }

  inFlight(host: string): number {
    return this.busy.get(host) ?? 0;
  }

  /** Hosts with a request in flight and how many, for the claim query. */
  snapshot(): { hosts: string[]; counts: number[]; saturated: string[] } {
    const hosts = [...this.busy.keys()];
    return {
      hosts,
      counts: hosts.map((host) => this.busy.get(host) as number),
      saturated: hosts.filter((host) => (this.busy.get(host) as number) >= this.perHost),
    };
  }
}
