import { isIPv4, isIPv6 } from 'node:net';

/**
 * Which IP addresses a webhook may be sent to. Applied twice: when a callback
 * URL is registered (to every address its host resolves to) and again when the
 * dispatcher connects (to the address actually used), so a DNS answer that
 * changes after registration cannot reach a refused address.
 */
export interface AddressVerdict {
  ok: boolean;
  /** Short human-readable class of the refused address, e.g. `link-local`. */
  reason?: string;
  /**
   * True when the address is refused only because private networks are not
   * allowed (`CALLBACK_ALLOW_PRIVATE_NETWORKS=true` would let it through).
   */
  privateNetwork?: boolean;
}

interface Range {
  /** Network address, as a 32-bit (IPv4) or 128-bit (IPv6) integer. */
  base: bigint;
  prefix: number;
  reason: string;
}

/**
 * Never reachable, whatever the configuration: link-local covers the
 * 169.254.169.254 metadata service of AWS, GCP, Azure, OpenStack and others;
 * the rest are cloud metadata or platform endpoints living outside it.
 */
const ALWAYS_REFUSED_V4: Range[] = [
  v4('169.254.0.0', 16, 'link-local'),
  v4('100.100.100.200', 32, 'cloud metadata'), // Alibaba Cloud
  v4('168.63.129.16', 32, 'cloud metadata'), // Azure WireServer
];
const ALWAYS_REFUSED_V6: Range[] = [
  v6('fe80::', 10, 'link-local'),
  v6('fd00:ec2::254', 128, 'cloud metadata'), // AWS IMDS over IPv6
  v6('fd20:ce::254', 128, 'cloud metadata'), // GCP metadata over IPv6
];

/** Refused unless private networks are allowed. Order matters: first match names the reason. */
const PRIVATE_V4: Range[] = [
  v4('0.0.0.0', 8, 'unspecified ("this network")'),
  v4('10.0.0.0', 8, 'private network'),
  v4('100.64.0.0', 10, 'carrier-grade NAT'),
  v4('127.0.0.0', 8, 'loopback'),
  v4('172.16.0.0', 12, 'private network'),
  v4('192.0.0.0', 24, 'reserved'),
  v4('192.0.2.0', 24, 'reserved (documentation)'),
  v4('192.88.99.0', 24, 'reserved (6to4 relay)'),
  v4('192.168.0.0', 16, 'private network'),
  v4('198.18.0.0', 15, 'reserved (benchmarking)'),
  v4('198.51.100.0', 24, 'reserved (documentation)'),
  v4('203.0.113.0', 24, 'reserved (documentation)'),
  v4('224.0.0.0', 4, 'multicast'),
  v4('255.255.255.255', 32, 'broadcast'),
  v4('240.0.0.0', 4, 'reserved'),
];
const PRIVATE_V6: Range[] = [
  v6('::', 128, 'unspecified'),
  v6('::1', 128, 'loopback'),
  v6('::', 96, 'reserved (IPv4-compatible)'),
  v6('64:ff9b:1::', 48, 'private network (local-use NAT64)'),
  v6('100::', 64, 'reserved (discard-only)'),
  v6('2001:db8::', 32, 'reserved (documentation)'),
  v6('fc00::', 7, 'private network (unique local)'),
  v6('fec0::', 10, 'private network (site-local)'),
  v6('ff00::', 8, 'multicast'),
];

/**
 * IPv6 forms that carry an IPv4 address the packet really goes to; the
 * embedded address is judged by the IPv4 rules.
 */
const EMBEDDED_V4: { range: Range; shift: bigint }[] = [
  { range: v6('::ffff:0:0', 96, 'IPv4-mapped'), shift: 0n },
  { range: v6('::ffff:0:0:0', 96, 'IPv4-translated'), shift: 0n },
  { range: v6('64:ff9b::', 96, 'NAT64'), shift: 0n },
  { range: v6('2002::', 16, '6to4'), shift: 80n },
];

/**
 * Whether a webhook may be sent to `ip`. Accepts any IPv4 or IPv6 text form
 * Node accepts (`::ffff:127.0.0.1`, `fe80::1%eth0`); anything else is refused.
 */
export function isAddressAllowed(ip: string, allowPrivateNetworks: boolean): AddressVerdict {
  const address = ip.startsWith('[') && ip.endsWith(']') ? ip.slice(1, -1) : ip;
  if (isIPv4(address)) return judgeV4(parseV4(address), allowPrivateNetworks);
  // A zone index (`fe80::1%eth0`) only ever appears on link-local addresses,
  // but judge the address itself either way.
  const unzoned = address.split('%')[0];
  if (isIPv6(unzoned)) return judgeV6(parseV6(unzoned), allowPrivateNetworks);
  return { ok: false, reason: 'not an IP address' };
}

function judgeV4(value: bigint, allowPrivate: boolean): AddressVerdict {
  const always = match(ALWAYS_REFUSED_V4, value, 32);
  if (always) return { ok: false, reason: always.reason };
  const priv = match(PRIVATE_V4, value, 32);
  if (priv && !allowPrivate) return { ok: false, reason: priv.reason, privateNetwork: true };
  return { ok: true };
}

function judgeV6(value: bigint, allowPrivate: boolean): AddressVerdict {
  for (const { range, shift } of EMBEDDED_V4) {
    if (inRange(range, value, 128)) {
      const embedded = (value >> shift) & 0xffffffffn;
      const verdict = judgeV4(embedded, allowPrivate);
      if (verdict.ok) return verdict;
      return { ...verdict, reason: `${range.reason} ${formatV4(embedded)}, ${verdict.reason}` };
    }
  }
  const always = match(ALWAYS_REFUSED_V6, value, 128);
  if (always) return { ok: false, reason: always.reason };
  const priv = match(PRIVATE_V6, value, 128);
  if (priv && !allowPrivate) return { ok: false, reason: priv.reason, privateNetwork: true };
  return { ok: true };
}

function match(ranges: Range[], value: bigint, bits: number): Range | undefined {
  return ranges.find((range) => inRange(range, value, bits));
}

function inRange(range: Range, value: bigint, bits: number): boolean {
  const hostBits = BigInt(bits - range.prefix);
  return value >> hostBits === range.base >> hostBits;
}

function v4(address: string, prefix: number, reason: string): Range {
  return { base: parseV4(address), prefix, reason };
}

function v6(address: string, prefix: number, reason: string): Range {
  return { base: parseV6(address), prefix, reason };
}

/** Only called on strings `isIPv4` accepted (strict dotted quad). */
function parseV4(address: string): bigint {
  return address.split('.').reduce((acc, part) => (acc << 8n) | BigInt(Number(part)), 0n);
}

/** Only called on strings `isIPv6` accepted, including a trailing dotted quad. */
function parseV6(address: string): bigint {
  let text = address.toLowerCase();
  const dotted = text.match(/(\d+\.\d+\.\d+\.\d+)$/);
  if (dotted) {
    const quad = parseV4(dotted[1]);
    text = `${text.slice(0, -dotted[1].length)}${(quad >> 16n).toString(16)}:${(quad & 0xffffn).toString(16)}`;
  }
  const [head, tail] = text.includes('::') ? text.split('::') : [text, undefined];
  const headGroups = head ? head.split(':') : [];
  const tailGroups = tail ? tail.split(':') : [];
  const missing = 8 - headGroups.length - tailGroups.length;
  const groups =
    tail === undefined ? headGroups : [...headGroups, ...Array(missing).fill('0'), ...tailGroups];
  return groups.reduce((acc, group) => (acc << 16n) | BigInt(parseInt(group, 16)), 0n);
}

function formatV4(value: bigint): string {
  return [24n, 16n, 8n, 0n].map((shift) => String((value >> shift) & 0xffn)).join('.');
}
