/**
 * The authority (host and port) of a callback URL, lowercased, as written:
 * the unit of the per-host cap. Must match `HOST_KEY_SQL_PATTERN`, which
 * computes the same key inside the claim query.
 */
const HOST_KEY_PATTERN = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/(?:[^@/?#]*@)?([^/?#]*)/;
export const HOST_KEY_SQL_PATTERN = '^[A-Za-z][A-Za-z0-9+.-]*://(?:[^@/?#]*@)?([^/?#]*)';

export function hostKey(url: string): string {
  return (HOST_KEY_PATTERN.exec(url)?.[1] ?? '').toLowerCase();
}

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
