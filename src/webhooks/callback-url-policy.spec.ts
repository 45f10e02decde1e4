import { isAddressAllowed } from './address-policy';
import { checkCallbackUrl, HostResolver, MAX_CALLBACK_URL_LENGTH } from './callback-url-policy';

/** A resolver with fixed answers, so no test depends on the machine's DNS. */
function resolverFor(answers: Record<string, string[]>): HostResolver & { calls: string[] } {
  const calls: string[] = [];
  const resolve = async (host: string): Promise<string[]> => {
    calls.push(host);
    const found = answers[host];
    if (!found)
      throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' });
    return found;
  };
  return Object.assign(resolve, { calls });
}

const publicDns = resolverFor({
  'hooks.example.com': ['93.184.216.34', '2606:2800:220:1:248:1893:25c8:1946'],
  'internal.example.com': ['10.1.2.3'],
  'mixed.example.com': ['93.184.216.34', '192.168.1.10'],
  'rebind.example.com': ['169.254.169.254'],
  'six.example.com': ['fd12:3456::1'],
  'empty.example.com': [],
});

describe('isAddressAllowed', () => {
  it.each([
    ['169.254.169.254', 'link-local'],
    ['169.254.0.1', 'link-local'],
    ['fe80::1', 'link-local'],
    ['fe80::1%eth0', 'link-local'],
    ['febf:ffff::1', 'link-local'],
    ['fd00:ec2::254', 'cloud metadata'],
    ['fd20:ce::254', 'cloud metadata'],
    ['100.100.100.200', 'cloud metadata'],
    ['168.63.129.16', 'cloud metadata'],
    ['::ffff:169.254.169.254', 'IPv4-mapped 169.254.169.254, link-local'],
    ['::ffff:a9fe:a9fe', 'IPv4-mapped 169.254.169.254, link-local'],
    ['64:ff9b::a9fe:a9fe', 'NAT64 169.254.169.254, link-local'],
    ['2002:a9fe:a9fe::1', '6to4 169.254.169.254, link-local'],
  ])('always refuses %s (%s), even with private networks allowed', (ip, reason) => {
    expect(isAddressAllowed(ip, true)).toEqual({ ok: false, reason });
    expect(isAddressAllowed(ip, false)).toEqual({ ok: false, reason });
  });

  it.each([
    ['127.0.0.1', 'loopback'],
    ['127.255.255.254', 'loopback'],
    ['::1', 'loopback'],
    ['0.0.0.0', 'unspecified ("this network")'],
    ['0.1.2.3', 'unspecified ("this network")'],
    ['::', 'unspecified'],
    ['10.0.0.1', 'private network'],
    ['172.16.0.1', 'private network'],
    ['172.31.255.255', 'private network'],
    ['192.168.1.1', 'private network'],
    ['100.64.0.1', 'carrier-grade NAT'],
    ['100.127.255.255', 'carrier-grade NAT'],
    ['fc00::1', 'private network (unique local)'],
    ['fd12:3456::1', 'private network (unique local)'],
    ['fec0::1', 'private network (site-local)'],
    ['224.0.0.1', 'multicast'],
    ['239.255.255.250', 'multicast'],
    ['ff02::1', 'multicast'],
    ['255.255.255.255', 'broadcast'],
    ['240.0.0.1', 'reserved'],
    ['192.0.2.1', 'reserved (documentation)'],
    ['198.18.0.1', 'reserved (benchmarking)'],
    ['2001:db8::1', 'reserved (documentation)'],
    ['::7f00:1', 'reserved (IPv4-compatible)'],
    ['::ffff:127.0.0.1', 'IPv4-mapped 127.0.0.1, loopback'],
    ['::ffff:7f00:1', 'IPv4-mapped 127.0.0.1, loopback'],
    ['0:0:0:0:0:ffff:7f00:1', 'IPv4-mapped 127.0.0.1, loopback'],
    ['::ffff:10.0.0.1', 'IPv4-mapped 10.0.0.1, private network'],
    ['::ffff:0:a00:1', 'IPv4-translated 10.0.0.1, private network'],
    ['64:ff9b::127.0.0.1', 'NAT64 127.0.0.1, loopback'],
    ['64:ff9b:1::1', 'private network (local-use NAT64)'],
    ['2002:c0a8:101::1', '6to4 192.168.1.1, private network'],
  ])('refuses %s (%s) unless private networks are allowed', (ip, reason) => {
    expect(isAddressAllowed(ip, false)).toEqual({ ok: false, reason, privateNetwork: true });
    expect(isAddressAllowed(ip, true)).toEqual({ ok: true });
  });

  it.each([
    '93.184.216.34',
    '8.8.8.8',
    '1.1.1.1',
    '100.63.255.255', // just below CGNAT
    '100.128.0.0', // just above CGNAT
    '172.15.255.255',
    '172.32.0.0',
    '169.253.255.255',
    '223.255.255.255',
    '2606:4700:4700::1111',
    '::ffff:8.8.8.8',
    '64:ff9b::808:808',
    '2002:808:808::1',
  ])('allows the public address %s', (ip) => {
    expect(isAddressAllowed(ip, false)).toEqual({ ok: true });
  });

  it.each(['example.com', '', '1.2.3', '256.1.1.1', '[::1'])(
    'refuses %j, which is not an IP',
    (ip) => {
      expect(isAddressAllowed(ip, true)).toEqual({ ok: false, reason: 'not an IP address' });
    },
  );

  it('accepts a bracketed IPv6 literal as it appears in a URL', () => {
    expect(isAddressAllowed('[::1]', false)).toMatchObject({ ok: false, reason: 'loopback' });
    expect(isAddressAllowed('[2606:4700:4700::1111]', false)).toEqual({ ok: true });
  });
});

describe('checkCallbackUrl', () => {
  const strict = { allowPrivateNetworks: false, resolve: publicDns };
  const permissive = { allowPrivateNetworks: true, resolve: publicDns };

  it('accepts a public https URL and returns every resolved address', async () => {
    const verdict = await checkCallbackUrl('https://hooks.example.com/uxc?tenant=1', strict);
    expect(verdict).toEqual({
      ok: true,
      url: new URL('https://hooks.example.com/uxc?tenant=1'),
      addresses: ['93.184.216.34', '2606:2800:220:1:248:1893:25c8:1946'],
    });
  });

  it('accepts a public http URL with a port', async () => {
    await expect(
      checkCallbackUrl('http://hooks.example.com:8080/x', strict),
    ).resolves.toMatchObject({
      ok: true,
    });
  });

  it.each([
    ['', /non-empty/],
    ['not a url', /absolute http or https URL/],
    ['/relative/path', /absolute http or https URL/],
    ['ftp://hooks.example.com/', /http or https, not ftp/],
    ['file:///etc/passwd', /http or https, not file/],
    ['javascript:alert(1)', /http or https, not javascript/],
    ['gopher://hooks.example.com/', /http or https/],
    ['https://user:pass@hooks.example.com/', /user name or password/],
    ['https://user@hooks.example.com/', /user name or password/],
    ['https://:pass@hooks.example.com/', /user name or password/],
    ['http://[::1/', /absolute http or https URL/],
  ])('refuses %j', async (url, reason) => {
    const verdict = await checkCallbackUrl(url, permissive);
    expect(verdict.ok).toBe(false);
    if (!verdict.ok) {
      expect(verdict.reason).toMatch(reason);
      expect(verdict.reason).toContain('callbackUrl');
    }
  });

  it('refuses a URL longer than 2048 characters, accepts one of exactly 2048', async () => {
    const prefix = 'https://hooks.example.com/';
    const exact = prefix + 'a'.repeat(MAX_CALLBACK_URL_LENGTH - prefix.length);
    await expect(checkCallbackUrl(exact, strict)).resolves.toMatchObject({ ok: true });
    await expect(checkCallbackUrl(`${exact}a`, strict)).resolves.toEqual({
      ok: false,
      reason: 'callbackUrl must be at most 2048 characters',
    });
  });

  // Every spelling of loopback, private and unspecified addresses.
  it.each([
    ['http://localhost/', 'localhost'],
    ['http://LOCALHOST:3000/', 'localhost'],
    ['http://localhost./', 'localhost'],
    ['http://api.localhost/', 'api.localhost'],
    ['http://127.0.0.1/', '127.0.0.1'],
    ['http://127.1/', '127.0.0.1'],
    ['http://0.0.0.0/', '0.0.0.0'],
    ['http://0/', '0.0.0.0'],
    ['http://[::1]/', '::1'],
    ['http://[0:0:0:0:0:0:0:1]/', '::1'],
    ['http://[::]/', '::'],
    ['http://2130706433/', '127.0.0.1'],
    ['http://0177.0.0.1/', '127.0.0.1'],
    ['http://0x7f.1/', '127.0.0.1'],
    ['http://0x7f000001/', '127.0.0.1'],
    ['http://017700000001/', '127.0.0.1'],
    ['http://127.0.0.1.:8080/', '127.0.0.1'],
    ['http://[::ffff:127.0.0.1]/', '::ffff:7f00:1'],
    ['http://[::ffff:7f00:1]/', '::ffff:7f00:1'],
    ['http://[64:ff9b::127.0.0.1]/', '64:ff9b::7f00:1'],
    ['http://10.0.0.1/', '10.0.0.1'],
    ['http://167772161/', '10.0.0.1'],
    ['http://0xa.0.0.1/', '10.0.0.1'],
    ['http://172.16.5.4/', '172.16.5.4'],
    ['http://192.168.0.1/', '192.168.0.1'],
    ['http://0xc0.0xa8.0.1/', '192.168.0.1'],
    ['http://100.64.1.1/', '100.64.1.1'],
    ['http://[fd00::1]/', 'fd00::1'],
    ['http://[::ffff:192.168.0.1]/', '::ffff:c0a8:1'],
    ['http://224.0.0.1/', '224.0.0.1'],
    ['http://255.255.255.255/', '255.255.255.255'],
    ['http://internal.example.com/', '10.1.2.3'],
    ['http://mixed.example.com/', '192.168.1.10'],
    ['http://six.example.com/', 'fd12:3456::1'],
  ])('refuses %s (%s) unless private networks are allowed', async (url, address) => {
    const refused = await checkCallbackUrl(url, strict);
    expect(refused.ok).toBe(false);
    if (!refused.ok) {
      expect(refused.reason).toContain(address);
      expect(refused.reason).toContain('callbackUrl');
      expect(refused.reason).toContain('CALLBACK_ALLOW_PRIVATE_NETWORKS=true');
    }
    if (!url.toLowerCase().includes('localhost')) {
      await expect(checkCallbackUrl(url, permissive)).resolves.toMatchObject({ ok: true });
    }
  });

  it('with private networks allowed, localhost goes to the resolver like any name', async () => {
    const resolve = resolverFor({ localhost: ['127.0.0.1', '::1'] });
    await expect(
      checkCallbackUrl('http://localhost:4200/hook', { allowPrivateNetworks: true, resolve }),
    ).resolves.toMatchObject({ ok: true, addresses: ['127.0.0.1', '::1'] });
    expect(resolve.calls).toEqual(['localhost']);
  });

  it.each([
    ['http://169.254.169.254/latest/meta-data/', '169.254.169.254'],
    ['http://2852039166/', '169.254.169.254'],
    ['http://0xa9.0xfe.0xa9.0xfe/', '169.254.169.254'],
    ['http://0251.0376.0251.0376/', '169.254.169.254'],
    ['http://169.254.0.1:8080/', '169.254.0.1'],
    ['http://[fe80::1]/', 'fe80::1'],
    ['http://[fd00:ec2::254]/', 'fd00:ec2::254'],
    ['http://100.100.100.200/', '100.100.100.200'],
    ['http://[::ffff:169.254.169.254]/', '::ffff:a9fe:a9fe'],
    ['http://metadata.google.internal/computeMetadata/v1/', 'metadata.google.internal'],
    ['http://METADATA.GOOGLE.INTERNAL./', 'metadata.google.internal'],
    ['http://metadata/', 'metadata'],
    ['http://instance-data.ec2.internal/', 'instance-data.ec2.internal'],
    ['http://rebind.example.com/', '169.254.169.254'],
  ])('always refuses %s (%s)', async (url, address) => {
    for (const opts of [strict, permissive]) {
      const verdict = await checkCallbackUrl(url, opts);
      expect(verdict.ok).toBe(false);
      if (!verdict.ok) {
        expect(verdict.reason).toContain(address);
        expect(verdict.reason).toContain('never allowed');
      }
    }
  });

  it('names the host and the address a name resolves to', async () => {
    await expect(checkCallbackUrl('https://internal.example.com/hook', strict)).resolves.toEqual({
      ok: false,
      reason:
        'callbackUrl host internal.example.com resolves to 10.1.2.3, which is refused (private network); set CALLBACK_ALLOW_PRIVATE_NETWORKS=true to allow private networks',
    });
    await expect(checkCallbackUrl('https://rebind.example.com/', permissive)).resolves.toEqual({
      ok: false,
      reason:
        'callbackUrl host rebind.example.com resolves to 169.254.169.254, which is never allowed (link-local)',
    });
  });

  it('refuses a host that does not resolve, or resolves to nothing', async () => {
    await expect(checkCallbackUrl('https://nowhere.example.com/', strict)).resolves.toEqual({
      ok: false,
      reason: 'callbackUrl host nowhere.example.com could not be resolved',
    });
    await expect(checkCallbackUrl('https://empty.example.com/', strict)).resolves.toEqual({
      ok: false,
      reason: 'callbackUrl host empty.example.com could not be resolved',
    });
  });

  it('does not resolve IP literals', async () => {
    const resolve = resolverFor({});
    await checkCallbackUrl('http://93.184.216.34/', { allowPrivateNetworks: false, resolve });
    await checkCallbackUrl('http://[2606:4700:4700::1111]/', {
      allowPrivateNetworks: false,
      resolve,
    });
    expect(resolve.calls).toEqual([]);
  });

  it('uses the system resolver by default', async () => {
    // `localhost` must resolve on any machine; allowed only with private networks on.
    await expect(
      checkCallbackUrl('http://localhost/', { allowPrivateNetworks: true }),
    ).resolves.toMatchObject({ ok: true });
    await expect(
      checkCallbackUrl('http://does-not-exist.invalid/', { allowPrivateNetworks: true }),
    ).resolves.toEqual({
      ok: false,
      reason: 'callbackUrl host does-not-exist.invalid could not be resolved',
    });
  });
});
