import { describe, expect, it } from 'vitest';
import { addressRefusal, checkedAddress, parseChannelUrl } from './address-guard.ts';

describe('webhook address guard', () => {
  it('always refuses link-local and metadata addresses', () => {
    for (const address of ['169.254.169.254', 'fe80::1', 'fd00:ec2::254', '::ffff:169.254.169.254', '0.0.0.0', '100.100.100.200']) {
      expect(addressRefusal(address, true), address).not.toBeNull();
    }
  });

  it('refuses loopback and private ranges unless allowed', () => {
    for (const address of ['127.0.0.1', '10.1.2.3', '172.20.0.1', '192.168.1.1', '::1', 'fd12::1', '::ffff:127.0.0.1']) {
      expect(addressRefusal(address, false), address).not.toBeNull();
      expect(addressRefusal(address, true), address).toBeNull();
    }
    expect(addressRefusal('93.184.216.34', false)).toBeNull();
  });

  it('refuses schemes other than http(s) and credentials in the URL', () => {
    expect(() => parseChannelUrl('file:///etc/passwd')).toThrow(/Only http and https/);
    expect(() => parseChannelUrl('gopher://x')).toThrow(/Only http and https/);
    expect(() => parseChannelUrl('https://u:p@example.com/')).toThrow(/credentials/);
    expect(() => parseChannelUrl('not a url')).toThrow(/not a URL/);
  });

  it('resolves names and judges every address they resolve to', async () => {
    await expect(checkedAddress(new URL('http://localhost:9/'), false)).rejects.toThrow(/loopback or private/);
    await expect(checkedAddress(new URL('http://localhost:9/'), true)).resolves.toMatchObject({ address: expect.stringMatching(/^(127\.0\.0\.1|::1)$/) });
    await expect(checkedAddress(new URL('http://[::ffff:a9fe:a9fe]/'), true)).rejects.toThrow(/link-local/);
  });
});
