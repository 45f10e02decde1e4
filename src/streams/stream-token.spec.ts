import { StreamTokens } from './stream-token';

const key = Buffer.alloc(32, 3);
const grant = {
  tenantId: 'ten_1',
  apiKeyId: 'key_1',
  sid: 'BT|a.b',
  expiresAt: new Date('2026-12-04T12:05:00Z'),
};

describe('stream tokens', () => {
  const tokens = new StreamTokens(key);

  it('grant what they were issued for until they expire', () => {
    const token = tokens.issue(grant);
    expect(token).toMatch(/^st_[\w-]+\.[\w-]+$/);
    expect(tokens.verify(token, new Date('2026-12-04T12:04:59Z'))).toEqual(grant);
    expect(tokens.verify(token, new Date('2026-12-04T12:05:00Z'))).toBeUndefined();
  });

  it('grant a whole tenant when issued without a sid', () => {
    const token = tokens.issue({ ...grant, sid: undefined });
    expect(tokens.verify(token, new Date('2026-12-04T12:00:00Z'))).toEqual({
      tenantId: 'ten_1',
      apiKeyId: 'key_1',
      expiresAt: grant.expiresAt,
    });
  });

  it('refuse a changed claim, a token of another key, and garbage', () => {
    const now = new Date('2026-12-04T12:00:00Z');
    const token = tokens.issue(grant);
    const [body, signature] = token.slice(3).split('.');
    const claims = JSON.parse(Buffer.from(body, 'base64url').toString()) as Record<string, unknown>;
    const forged = Buffer.from(JSON.stringify({ ...claims, t: 'ten_2' })).toString('base64url');
    expect(tokens.verify(`st_${forged}.${signature}`, now)).toBeUndefined();
    expect(new StreamTokens(Buffer.alloc(32, 4)).verify(token, now)).toBeUndefined();
    for (const bad of ['', 'st_', 'st_.', 'st_a.b.c', token.slice(3), `${token}x`])
      expect(tokens.verify(bad, now)).toBeUndefined();
  });
});
