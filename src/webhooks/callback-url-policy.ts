import { promises as dns } from 'node:dns';
import { isIP } from 'node:net';
import { AddressVerdict, isAddressAllowed } from './address-policy';

export const MAX_CALLBACK_URL_LENGTH = 2048;

/** Resolves a host name to every address a connection might use. */
export type HostResolver = (host: string) => Promise<string[]>;

export interface CallbackUrlPolicyOptions {
  allowPrivateNetworks: boolean;
  /**
   * Defaults to `dns.lookup(host, { all: true })`, the resolver connections
   * use, with answers kept for REGISTRATION_DNS_TTL_MS.
   */
  resolve?: HostResolver;
}

export type CallbackUrlVerdict =
  { ok: true; url: URL; addresses: string[] } | { ok: false; reason: string };

/**
 * Host names that lead to cloud metadata services without going through a
 * public DNS answer (they resolve through the platform's own resolver), so
 * they are refused by name, before any lookup.
 */
const METADATA_HOSTS = new Set([
  'metadata',
  'metadata.google.internal',
  'metadata.goog',
  'metadata.azure.internal',
  'instance-data',
  'instance-data.ec2.internal',
]);

/**
 * Decides whether the relay may POST webhooks to `url`. Reasons are written
 * for the API's 400 answer and always name `callbackUrl`.
 */
export async function checkCallbackUrl(
  url: string,
  opts: CallbackUrlPolicyOptions,
): Promise<CallbackUrlVerdict> {
  if (typeof url !== 'string' || url.length === 0) {
    return refuse('callbackUrl must be a non-empty string');
  }
  if (url.length > MAX_CALLBACK_URL_LENGTH) {
    return refuse(`callbackUrl must be at most ${MAX_CALLBACK_URL_LENGTH} characters`);
  }
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return refuse('callbackUrl must be an absolute http or https URL');
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    return refuse(`callbackUrl must use http or https, not ${parsed.protocol.slice(0, -1)}`);
  }
  if (parsed.username !== '' || parsed.password !== '') {
    return refuse('callbackUrl must not contain a user name or password');
  }
  // The WHATWG parser has already turned decimal, octal and hex IPv4
  // spellings into dotted quads and compressed IPv6 literals.
  const host = hostOf(parsed);
  if (host === '') return refuse('callbackUrl must have a host');

  if (isIP(host)) {
    const verdict = isAddressAllowed(host, opts.allowPrivateNetworks);
    return verdict.ok
      ? { ok: true, url: parsed, addresses: [host] }
      : refuse(refusedAddressMessage(`callbackUrl points to ${host}`, verdict));
  }

  if (METADATA_HOSTS.has(host)) {
    return refuse(`callbackUrl points to ${host}, which is never allowed (cloud metadata)`);
  }
  // `localhost` and its subdomains are loopback by definition (RFC 6761),
  // whatever a resolver might answer.
  if ((host === 'localhost' || host.endsWith('.localhost')) && !opts.allowPrivateNetworks) {
    return refuse(
      refusedAddressMessage(`callbackUrl points to ${host}`, {
        ok: false,
        reason: 'loopback',
        privateNetwork: true,
      }),
    );
  }

  let addresses: string[];
  try {
    addresses = await (opts.resolve ?? cachedResolve)(host);
  } catch {
    return refuse(`callbackUrl host ${host} could not be resolved`);
  }
  if (addresses.length === 0) return refuse(`callbackUrl host ${host} could not be resolved`);
  for (const address of addresses) {
    const verdict = isAddressAllowed(address, opts.allowPrivateNetworks);
    if (!verdict.ok) {
      return refuse(
        refusedAddressMessage(`callbackUrl host ${host} resolves to ${address}`, verdict),
      );
    }
  }
  return { ok: true, url: parsed, addresses };
}

/** The host as a connection would use it: no IPv6 brackets, no trailing dot. */
export function hostOf(url: URL): string {
  const host = url.hostname.toLowerCase();
  if (host.startsWith('[') && host.endsWith(']')) return host.slice(1, -1);
  return host.endsWith('.') ? host.slice(0, -1) : host;
}

export const defaultResolve: HostResolver = async (host) => {
  const answers = await dns.lookup(host, { all: true, verbatim: true });
  return answers.map((answer) => answer.address);
};

/**
 * How long a registration trusts a DNS answer. A lookup goes through the
 * libuv thread pool (four threads by default), so one per registration caps
 * the API at the resolver's pace; and the address is checked again at every
 * delivery against the address actually connected to, so a stale answer here
 * lets nothing through.
 */
export const REGISTRATION_DNS_TTL_MS = 30_000;
const DNS_CACHE_MAX = 1000;
const dnsAnswers = new Map<string, { addresses: Promise<string[]>; expiresAt: number }>();

/** `defaultResolve`, with answers (and lookups in flight) shared for REGISTRATION_DNS_TTL_MS. */
export const cachedResolve: HostResolver = (host) => {
  const now = Date.now();
  const hit = dnsAnswers.get(host);
  if (hit && hit.expiresAt > now) return hit.addresses;
  if (dnsAnswers.size >= DNS_CACHE_MAX) dnsAnswers.clear();
  const addresses = defaultResolve(host);
  dnsAnswers.set(host, { addresses, expiresAt: now + REGISTRATION_DNS_TTL_MS });
  // a failed lookup is not remembered: the next registration asks again
  addresses.catch(() => dnsAnswers.delete(host));
  return addresses;
};

function refusedAddressMessage(subject: string, verdict: AddressVerdict): string {
  const reason = verdict.reason ?? 'refused';
  return verdict.privateNetwork
    ? `${subject}, which is refused (${reason}); set CALLBACK_ALLOW_PRIVATE_NETWORKS=true to allow private networks`
    : `${subject}, which is never allowed (${reason})`;
}

function refuse(reason: string): { ok: false; reason: string } {
  return { ok: false, reason };
}
