import { BlockList, isIPv4, isIPv6 } from 'node:net';

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

/**
 * Ranges that share a reason, as a `net.BlockList` (Node's own CIDR matching):
 * one list per reason, so that the first list matching names the reason.
 */
interface Rule {
  reason: string;
  list: BlockList;
}

/**
 * Never reachable, whatever the configuration: link-local covers the
 * 169.254.169.254 metadata service of AWS, GCP, Azure, OpenStack and others;
 * the rest are cloud metadata or platform endpoints living outside it.
 */
const ALWAYS_REFUSED_V4: Rule[] = [
  v4('169.254.0.0', 16, 'link-local'),
  v4('100.100.100.200', 32, 'cloud metadata'), // Alibaba Cloud
  v4('168.63.129.16', 32, 'cloud metadata'), // Azure WireServer
];
const ALWAYS_REFUSED_V6: Rule[] = [
  v6('fe80::', 10, 'link-local'),
  v6('fd00:ec2::254', 128, 'cloud metadata'), // AWS IMDS over IPv6
  v6('fd20:ce::254', 128, 'cloud metadata'), // GCP metadata over IPv6
];

/** Refused unless private networks are allowed. Order matters: first match names the reason. */
const PRIVATE_V4: Rule[] = [
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
const PRIVATE_V6: Rule[] = [
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
 * embedded address (the two 16-bit groups from `group` on) is judged by the
 * IPv4 rules.
 */
const EMBEDDED_V4: { rule: Rule; group: number }[] = [
  { rule: v6('::ffff:0:0', 96, 'IPv4-mapped'), group: 6 },
  { rule: v6('::ffff:0:0:0', 96, 'IPv4-translated'), group: 6 },
  { rule: v6('64:ff9b::', 96, 'NAT64'), group: 6 },
  { rule: v6('2002::', 16, '6to4'), group: 1 },
];

/**
 * Whether a webhook may be sent to `ip`. Accepts any IPv4 or IPv6 text form
 * Node accepts (`::ffff:127.0.0.1`, `fe80::1%eth0`); anything else is refused.
 */
export function isAddressAllowed(ip: string, allowPrivateNetworks: boolean): AddressVerdict {
  // the dispatcher asks again for every webhook to the same few addresses, and
  // BlockList's matching (an object per check and list) was 3% of a busy relay
  const key = `${allowPrivateNetworks ? 'p' : 'n'}${ip}`;
  let verdict = verdicts.get(key);
  if (verdict === undefined) {
    if (verdicts.size >= VERDICTS_KEPT) verdicts.clear();
    verdict = judge(ip, allowPrivateNetworks);
    verdicts.set(key, verdict);
  }
  return { ...verdict };
}

/** Verdicts kept, at most: a verdict depends only on the address and the setting. */
const VERDICTS_KEPT = 10_000;
const verdicts = new Map<string, AddressVerdict>();

function judge(ip: string, allowPrivateNetworks: boolean): AddressVerdict {
  const address = ip.startsWith('[') && ip.endsWith(']') ? ip.slice(1, -1) : ip;
  if (isIPv4(address)) return judgeV4(address, allowPrivateNetworks);
  // A zone index (`fe80::1%eth0`) only ever appears on link-local addresses,
  // but judge the address itself either way.
  const unzoned = address.split('%')[0];
  if (isIPv6(unzoned)) return judgeV6(unzoned, allowPrivateNetworks);
  return { ok: false, reason: 'not an IP address' };
}

function judgeV4(address: string, allowPrivate: boolean): AddressVerdict {
  const always = match(ALWAYS_REFUSED_V4, address, 'ipv4');
  if (always) return { ok: false, reason: always.reason };
  const priv = match(PRIVATE_V4, address, 'ipv4');
  if (priv && !allowPrivate) return { ok: false, reason: priv.reason, privateNetwork: true };
  return { ok: true };
}

function judgeV6(address: string, allowPrivate: boolean): AddressVerdict {
  for (const { rule, group } of EMBEDDED_V4) {
    if (rule.list.check(address, 'ipv6')) {
      const embedded = embeddedV4(address, group);
      const verdict = judgeV4(embedded, allowPrivate);
      if (verdict.ok) return verdict;
      return { ...verdict, reason: `${rule.reason} ${embedded}, ${verdict.reason}` };
    }
  }
  const always = match(ALWAYS_REFUSED_V6, address, 'ipv6');
  if (always) return { ok: false, reason: always.reason };
  const priv = match(PRIVATE_V6, address, 'ipv6');
  if (priv && !allowPrivate) return { ok: false, reason: priv.reason, privateNetwork: true };
  return { ok: true };
}

function match(rules: Rule[], address: string, family: 'ipv4' | 'ipv6'): Rule | undefined {
  return rules.find((rule) => rule.list.check(address, family));
}

function v4(address: string, prefix: number, reason: string): Rule {
  const list = new BlockList();
  list.addSubnet(address, prefix, 'ipv4');
  return { reason, list };
}

function v6(address: string, prefix: number, reason: string): Rule {
  const list = new BlockList();
  list.addSubnet(address, prefix, 'ipv6');
  return { reason, list };
}

/** The IPv4 address in groups `group` and `group + 1` of an address `isIPv6` accepted. */
function embeddedV4(address: string, group: number): string {
  const groups = ipv6Groups(address);
  const high = groups[group];
  const low = groups[group + 1];
  return [high >> 8, high & 0xff, low >> 8, low & 0xff].join('.');
}

/** The eight 16-bit groups of an address `isIPv6` accepted, including a trailing dotted quad. */
function ipv6Groups(address: string): number[] {
  let text = address.toLowerCase();
  const dotted = text.match(/(\d+)\.(\d+)\.(\d+)\.(\d+)$/);
  if (dotted) {
    const [a, b, c, d] = dotted.slice(1).map(Number);
    text = `${text.slice(0, -dotted[0].length)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = text.includes('::') ? text.split('::') : [text, undefined];
  const headGroups = head ? head.split(':') : [];
  const tailGroups = tail ? tail.split(':') : [];
  const missing = 8 - headGroups.length - tailGroups.length;
  const groups =
    tail === undefined ? headGroups : [...headGroups, ...Array(missing).fill('0'), ...tailGroups];
  return groups.map((group) => parseInt(group, 16));
}
