import { Webhook as StandardWebhook } from 'standardwebhooks';
import { Webhook as SvixWebhook } from 'svix';
import {
  buildWebhookHeaders,
  generateWebhookMessageId,
  generateWebhookSecret,
  signPayload,
  WEBHOOK_USER_AGENT,
} from './webhook-signer';

const body = JSON.stringify({ type: 'task.succeeded', data: { sid: 'BT|7aa9', sequence: 4 } });

function verifiers(
  secret: string,
): { name: string; verify: (b: string, h: Record<string, string>) => unknown }[] {
  const standard = new StandardWebhook(secret);
  const svix = new SvixWebhook(secret);
  return [
    { name: 'standardwebhooks', verify: (b, h) => standard.verify(b, h) },
    { name: 'svix', verify: (b, h) => svix.verify(b, h) },
  ];
}

describe('generateWebhookSecret', () => {
  it('is whsec_ followed by base64 of 32 random bytes, different every time', () => {
    const a = generateWebhookSecret();
    const b = generateWebhookSecret();
    expect(a).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(Buffer.from(a.slice(6), 'base64')).toHaveLength(32);
    expect(a).not.toEqual(b);
  });
});

describe('generateWebhookMessageId', () => {
  it('is a unique msg_ id', () => {
    const ids = new Set(Array.from({ length: 100 }, generateWebhookMessageId));
    expect(ids.size).toBe(100);
    for (const id of ids) expect(id).toMatch(/^msg_[0-9a-f]{32}$/);
  });
});

describe('signPayload', () => {
  it('matches the Standard Webhooks reference vector', () => {
    // From the Standard Webhooks specification's test vectors.
    const signature = signPayload(
      {
        msgId: 'msg_p5jXN8AQM9LWM0D4loKWxJek',
        timestamp: 1614265330,
        body: '{"test": 2432232314}',
      },
      ['whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'],
    );
    expect(signature).toBe('v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=');
  });

  it('gives one space-separated signature per secret, in order', () => {
    const [a, b] = [generateWebhookSecret(), generateWebhookSecret()];
    const input = { msgId: 'msg_1', timestamp: 1_800_000_000, body };
    const both = signPayload(input, [a, b]);
    expect(both).toBe(`${signPayload(input, [a])} ${signPayload(input, [b])}`);
    expect(both.split(' ')).toHaveLength(2);
  });

  it('changes when any signed part changes', () => {
    const secret = generateWebhookSecret();
    const base = { msgId: 'msg_1', timestamp: 1_800_000_000, body };
    const reference = signPayload(base, [secret]);
    expect(signPayload({ ...base, msgId: 'msg_2' }, [secret])).not.toBe(reference);
    expect(signPayload({ ...base, timestamp: 1_800_000_001 }, [secret])).not.toBe(reference);
    expect(signPayload({ ...base, body: `${body} ` }, [secret])).not.toBe(reference);
    expect(signPayload(base, [generateWebhookSecret()])).not.toBe(reference);
  });

  it('refuses to sign without a secret or with a malformed one, without quoting it', () => {
    const input = { msgId: 'msg_1', timestamp: 1_800_000_000, body };
    expect(() => signPayload(input, [])).toThrow(/at least one webhook secret/);
    const bad = 'whsec_not*base64!secretvalue';
    expect(() => signPayload(input, [bad])).toThrow(/not whsec_ followed by base64/);
    try {
      signPayload(input, [bad]);
    } catch (err) {
      expect((err as Error).message).not.toContain('secretvalue');
    }
  });
});

describe('buildWebhookHeaders', () => {
  const secret = generateWebhookSecret();

  it('carries the Standard Webhooks headers, content type and user agent', () => {
    const now = new Date('2026-11-27T05:00:01.900Z');
    const headers = buildWebhookHeaders('msg_abc', body, [secret], now);
    expect(headers).toEqual({
      'webhook-id': 'msg_abc',
      'webhook-timestamp': String(Math.floor(now.getTime() / 1000)),
      'webhook-signature': signPayload(
        { msgId: 'msg_abc', timestamp: Math.floor(now.getTime() / 1000), body },
        [secret],
      ),
      'content-type': 'application/json',
      'user-agent': WEBHOOK_USER_AGENT,
    });
    expect(WEBHOOK_USER_AGENT).toMatch(/^uxc-relay\/\d+\.\d+\.\d+/);
  });

  it.each(verifiers(secret))('verifies with $name as a receiver would', ({ verify }) => {
    const headers = buildWebhookHeaders('msg_live', body, [secret], new Date());
    expect(verify(body, headers)).toEqual(JSON.parse(body));
  });

  it.each(verifiers(secret))('is rejected by $name when the body is altered', ({ verify }) => {
    const headers = buildWebhookHeaders('msg_live', body, [secret], new Date());
    expect(() => verify(body.replace('4', '5'), headers)).toThrow();
  });

  it.each(verifiers(secret))('is rejected by $name under another secret', ({ verify }) => {
    const headers = buildWebhookHeaders('msg_live', body, [generateWebhookSecret()], new Date());
    expect(() => verify(body, headers)).toThrow();
  });

  it.each(verifiers(secret))('is rejected by $name when replayed an hour later', ({ verify }) => {
    const headers = buildWebhookHeaders(
      'msg_live',
      body,
      [secret],
      new Date(Date.now() - 3600_000),
    );
    expect(() => verify(body, headers)).toThrow();
  });

  describe('during a rotation', () => {
    const oldSecret = generateWebhookSecret();
    const newSecret = generateWebhookSecret();
    const headers = buildWebhookHeaders('msg_rot', body, [newSecret, oldSecret], new Date());

    it('carries two signatures', () => {
      expect(headers['webhook-signature'].split(' ')).toHaveLength(2);
    });

    it.each([
      ...verifiers(oldSecret).map((v) => ({ ...v, which: 'old' })),
      ...verifiers(newSecret).map((v) => ({ ...v, which: 'new' })),
    ])('the $which secret alone verifies with $name', ({ verify }) => {
      expect(verify(body, headers)).toEqual(JSON.parse(body));
    });

    it.each(verifiers(generateWebhookSecret()))('a third secret fails with $name', ({ verify }) => {
      expect(() => verify(body, headers)).toThrow();
    });
  });
});
