import { hashApiKey } from '../tenants/api-key';
import { bearerToken, bearerTokenHash } from './bearer-token';

describe('bearerTokenHash', () => {
  it('is the hash under which API keys are stored, for the token of the header', () => {
    const req = { headers: { authorization: 'Bearer uxr_abc' } };
    expect(bearerToken(req)).toBe('uxr_abc');
    expect(bearerTokenHash(req)).toBe(hashApiKey('uxr_abc'));
  });

  it('is undefined without a bearer token, and differs per request', () => {
    expect(bearerTokenHash({ headers: {} })).toBeUndefined();
    expect(bearerTokenHash({ headers: { authorization: 'Basic abc' } })).toBeUndefined();
    const a = bearerTokenHash({ headers: { authorization: 'Bearer uxr_a' } });
    const b = bearerTokenHash({ headers: { authorization: 'Bearer uxr_b' } });
    expect(a).not.toBe(b);
  });
});
