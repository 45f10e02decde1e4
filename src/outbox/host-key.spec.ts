import { hostKey } from './host-key';

describe('hostKey', () => {
  it('is the lowercased authority, port included, credentials left out', () => {
    expect(hostKey('https://Example.COM/hook?a=1')).toBe('example.com');
    expect(hostKey('http://127.0.0.1:4200/uxc')).toBe('127.0.0.1:4200');
    expect(hostKey('https://user:pw@hooks.example.com:8443#x')).toBe('hooks.example.com:8443');
    expect(hostKey('http://[::1]:80/')).toBe('[::1]:80');
    expect(hostKey('http://Hooks.test?x=1')).toBe('hooks.test');
  });

  it('tells ports of one host apart', () => {
    expect(hostKey('http://a.test:1/')).not.toBe(hostKey('http://a.test:2/'));
  });
});
