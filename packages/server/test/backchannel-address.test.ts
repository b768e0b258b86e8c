/**
 * The back-channel logout address policy (core/backchannel-address.ts) as a table: which URIs
 * pass, which are refused and by which rule — schemes, userinfo, fragments, numeric tricks,
 * private / loopback / link-local / CGNAT / multicast ranges, IPv6 and its IPv4-carrying forms,
 * names that resolve to such addresses — with and without operator allowances; and
 * LOCKSTEP_BACKCHANNEL_ALLOW as the config reads it.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ConfigError, configFromEnv } from '../src/config.ts';
import {
  allowRanges, checkBackchannelUri, classifyAddress, LOOPBACK_RANGES, parseCidr, type AddressRule, type Lookup,
} from '../src/core/backchannel-address.ts';

/** A fake DNS: names map to their addresses; anything else does not resolve. */
const DNS: Record<string, string[]> = {
  'rp.example.com': ['93.184.216.34'],
  'v6.example.com': ['2606:4700::1111'],
  'internal.example.com': ['10.0.0.5'],
  'half-internal.example.com': ['93.184.216.34', '10.0.0.5'],
  'metadata.example.com': ['169.254.169.254'],
  'mapped.example.com': ['::ffff:169.254.169.254'],
  'ula.example.com': ['fd00::5'],
  localhost: ['127.0.0.1', '::1'],
};
const lookup: Lookup = async (host) => {
  const found = DNS[host];
  if (!found) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' });
  return found.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
};

type Expect = 'ok' | AddressRule;

/** [uri, verdict with no allowance, verdict with the demo's loopback allowance]. */
const TABLE: [string, Expect, Expect][] = [
  // Public https: allowed.
  ['https://rp.example.com/backchannel-logout', 'ok', 'ok'],
  ['https://rp.example.com:8443/bcl?tenant=1', 'ok', 'ok'],
  ['https://v6.example.com/bcl', 'ok', 'ok'],
  ['https://93.184.216.34/bcl', 'ok', 'ok'],
  ['https://[2606:4700::1111]/bcl', 'ok', 'ok'],
  ['HTTPS://RP.Example.COM/bcl', 'ok', 'ok'],
  // Plain http needs an allowed range, even to a public address.
  ['http://rp.example.com/bcl', 'https_required', 'https_required'],
  ['http://93.184.216.34/bcl', 'https_required', 'https_required'],
  // Other schemes.
  ['file:///etc/passwd', 'scheme', 'scheme'],
  ['gopher://rp.example.com:70/_x', 'scheme', 'scheme'],
  ['ftp://rp.example.com/bcl', 'scheme', 'scheme'],
  ['javascript:alert(1)', 'scheme', 'scheme'],
  ['ws://rp.example.com/bcl', 'scheme', 'scheme'],
  // Credentials and fragments.
  ['https://user:pw@rp.example.com/bcl', 'userinfo', 'userinfo'],
  ['https://user@rp.example.com/bcl', 'userinfo', 'userinfo'],
  ['https://@rp.example.com/bcl', 'userinfo', 'userinfo'],
  ['https://rp.example.com/bcl#fragment', 'fragment', 'fragment'],
  ['https://rp.example.com/bcl#', 'fragment', 'fragment'],
  // Not a URI of printable ASCII.
  ['https://rp.example.com/b cl', 'invalid', 'invalid'],
  ['https://rp.example.com/\tbcl', 'invalid', 'invalid'],
  ['not a uri', 'invalid', 'invalid'],
  // Private, loopback, link-local (cloud metadata), CGNAT, "this network", multicast, reserved, documentation.
  ['https://169.254.169.254/latest/meta-data/', 'non_public_address', 'non_public_address'],
  ['http://169.254.169.254/latest/meta-data/', 'non_public_address', 'non_public_address'],
  ['https://10.1.2.3/bcl', 'non_public_address', 'non_public_address'],
  ['https://172.16.0.1/bcl', 'non_public_address', 'non_public_address'],
  ['https://172.31.255.255/bcl', 'non_public_address', 'non_public_address'],
  ['https://192.168.1.1/bcl', 'non_public_address', 'non_public_address'],
  ['https://100.64.0.1/bcl', 'non_public_address', 'non_public_address'],
  ['https://100.127.255.254/bcl', 'non_public_address', 'non_public_address'],
  ['https://0.0.0.0/bcl', 'non_public_address', 'non_public_address'],
  ['https://0.1.2.3/bcl', 'non_public_address', 'non_public_address'],
  ['https://224.0.0.1/bcl', 'non_public_address', 'non_public_address'],
  ['https://239.255.255.250/bcl', 'non_public_address', 'non_public_address'],
  ['https://255.255.255.255/bcl', 'non_public_address', 'non_public_address'],
  ['https://192.0.2.10/bcl', 'non_public_address', 'non_public_address'],
  ['https://127.0.0.1/bcl', 'non_public_address', 'ok'],
  ['http://127.0.0.1:9/bcl', 'non_public_address', 'ok'],
  ['http://127.45.6.7/bcl', 'non_public_address', 'ok'],
  // Just outside the private ranges: public.
  ['https://172.32.0.1/bcl', 'ok', 'ok'],
  ['https://100.128.0.1/bcl', 'ok', 'ok'],
  ['https://11.0.0.1/bcl', 'ok', 'ok'],
  // IPv6: loopback, unspecified, unique-local, link-local, site-local, multicast, documentation, outside 2000::/3.
  ['https://[::1]/bcl', 'non_public_address', 'ok'],
  ['http://[::1]:9/bcl', 'non_public_address', 'ok'],
  ['https://[::]/bcl', 'non_public_address', 'non_public_address'],
  ['https://[fc00::1]/bcl', 'non_public_address', 'non_public_address'],
  ['https://[fd12:3456:789a::1]/bcl', 'non_public_address', 'non_public_address'],
  ['https://[fe80::1]/bcl', 'non_public_address', 'non_public_address'],
  ['https://[febf::1]/bcl', 'non_public_address', 'non_public_address'],
  ['https://[fec0::1]/bcl', 'non_public_address', 'non_public_address'],
  ['https://[ff02::1]/bcl', 'non_public_address', 'non_public_address'],
  ['https://[2001:db8::1]/bcl', 'non_public_address', 'non_public_address'],
  ['https://[100::1]/bcl', 'non_public_address', 'non_public_address'],
  ['https://[1234::1]/bcl', 'non_public_address', 'non_public_address'],
  // IPv6 forms that carry an IPv4 address: judged by that address.
  ['https://[::ffff:127.0.0.1]/bcl', 'non_public_address', 'ok'],
  ['https://[::ffff:7f00:1]/bcl', 'non_public_address', 'ok'],
  ['https://[::ffff:169.254.169.254]/bcl', 'non_public_address', 'non_public_address'],
  ['https://[::ffff:a9fe:a9fe]/bcl', 'non_public_address', 'non_public_address'],
  ['https://[::ffff:10.0.0.1]/bcl', 'non_public_address', 'non_public_address'],
  ['https://[::169.254.169.254]/bcl', 'non_public_address', 'non_public_address'],
  ['https://[64:ff9b::a9fe:a9fe]/bcl', 'non_public_address', 'non_public_address'],
  ['https://[64:ff9b::c0a8:101]/bcl', 'non_public_address', 'non_public_address'],
  ['https://[2002:a9fe:a9fe::1]/bcl', 'non_public_address', 'non_public_address'],
  ['https://[2002:c0a8:101::1]/bcl', 'non_public_address', 'non_public_address'],
  ['https://[::ffff:93.184.216.34]/bcl', 'ok', 'ok'],
  ['https://[2002:5db8:d822::1]/bcl', 'ok', 'ok'],
  // Numeric tricks: another spelling of an IPv4 address is refused whatever it points at.
  ['https://2130706433/bcl', 'numeric_host', 'numeric_host'],
  ['http://2130706433/bcl', 'numeric_host', 'numeric_host'],
  ['https://0x7f.1/bcl', 'numeric_host', 'numeric_host'],
  ['https://0x7f000001/bcl', 'numeric_host', 'numeric_host'],
  ['https://0177.0.0.1/bcl', 'numeric_host', 'numeric_host'],
  ['https://127.1/bcl', 'numeric_host', 'numeric_host'],
  ['https://127.0.1/bcl', 'numeric_host', 'numeric_host'],
  ['https://0/bcl', 'numeric_host', 'numeric_host'],
  ['https://%31%32%37.0.0.1/bcl', 'numeric_host', 'numeric_host'],
  ['https://127.0.0.1./bcl', 'numeric_host', 'numeric_host'],
  ['https://0xa9.0xfe.0xa9.0xfe/bcl', 'numeric_host', 'numeric_host'],
  ['https://2852039166/latest/meta-data/', 'numeric_host', 'numeric_host'],
  ['https://1572395042/bcl', 'numeric_host', 'numeric_host'],
  ['https://010.0.0.1/bcl', 'numeric_host', 'numeric_host'],
  // Names: every address they resolve to counts.
  ['https://internal.example.com/bcl', 'non_public_address', 'non_public_address'],
  ['https://half-internal.example.com/bcl', 'non_public_address', 'non_public_address'],
  ['https://metadata.example.com/bcl', 'non_public_address', 'non_public_address'],
  ['https://mapped.example.com/bcl', 'non_public_address', 'non_public_address'],
  ['https://ula.example.com/bcl', 'non_public_address', 'non_public_address'],
  ['https://localhost/bcl', 'non_public_address', 'ok'],
  ['http://localhost:3000/bcl', 'non_public_address', 'ok'],
  // A name that does not resolve: refused at delivery (this table); at creation see below.
  ['https://nowhere.invalid/bcl', 'unresolvable', 'unresolvable'],
];

const verdict = async (uri: string, allow: string[], unresolvable: 'accept' | 'refuse' = 'refuse') => {
  const v = await checkBackchannelUri(uri, { allow: allowRanges(allow), lookup, unresolvable });
  return v.ok ? 'ok' : v.rule;
};

describe('back-channel logout address policy', () => {
  test('the table: no allowance (a production default), and the demo\'s loopback allowance', async () => {
    const wrong: string[] = [];
    for (const [uri, none, demo] of TABLE) {
      const [a, b] = [await verdict(uri, []), await verdict(uri, [...LOOPBACK_RANGES])];
      if (a !== none) wrong.push(`${uri} without allowance: ${a}, want ${none}`);
      if (b !== demo) wrong.push(`${uri} with loopback allowed: ${b}, want ${demo}`);
    }
    assert.deepEqual(wrong, []);
  });

  test('an operator range allows those addresses, plain http included; nothing else changes', async () => {
    const allow = ['10.0.0.0/8', 'fd00::/8'];
    assert.equal(await verdict('http://10.1.2.3:8080/bcl', allow), 'ok');
    assert.equal(await verdict('https://internal.example.com/bcl', allow), 'ok');
    assert.equal(await verdict('http://internal.example.com/bcl', allow), 'ok');
    assert.equal(await verdict('https://[fd00::5]/bcl', allow), 'ok');
    assert.equal(await verdict('https://ula.example.com/bcl', allow), 'ok');
    assert.equal(await verdict('https://half-internal.example.com/bcl', allow), 'ok', 'public and allowed addresses');
    assert.equal(await verdict('http://half-internal.example.com/bcl', allow), 'https_required', 'http needs every address in an allowed range');
    assert.equal(await verdict('https://192.168.1.1/bcl', allow), 'non_public_address');
    assert.equal(await verdict('https://127.0.0.1/bcl', allow), 'non_public_address', 'loopback is not implied by other ranges');
    assert.equal(await verdict('https://169.254.169.254/bcl', allow), 'non_public_address');
    assert.equal(await verdict('https://167772161/bcl', allow), 'numeric_host', '10.0.0.1 in decimal is still a numeric trick');
    assert.equal(await verdict('https://[::ffff:10.0.0.1]/bcl', allow), 'ok', 'a mapped form of an allowed address is that address');
  });

  test('at creation an https name that does not resolve (yet) is accepted; plain http is not', async () => {
    assert.equal(await verdict('https://nowhere.invalid/bcl', [], 'accept'), 'ok');
    assert.equal(await verdict('http://nowhere.invalid/bcl', [...LOOPBACK_RANGES], 'accept'), 'unresolvable');
    assert.equal(await verdict('https://internal.example.com/bcl', [], 'accept'), 'non_public_address', 'a name that resolves is checked');
  });

  test('a refusal says what the address is and names the setting', async () => {
    const v = await checkBackchannelUri('https://metadata.example.com/bcl', { allow: [], lookup });
    assert.equal(v.ok, false);
    assert.match(!v.ok ? v.message : '', /metadata\.example\.com resolves to a link-local address.*169\.254\.0\.0\/16.*LOCKSTEP_BACKCHANNEL_ALLOW/);
    assert.doesNotMatch(!v.ok ? v.message : '', /169\.254\.169\.254/, 'the address a name resolves to is not echoed');
    const literal = await checkBackchannelUri('https://10.0.0.7/bcl', { allow: [], lookup });
    assert.match(!literal.ok ? literal.message : '', /^10\.0\.0\.7 is a private address \(10\.0\.0\.0\/8\)/);
    const trick = await checkBackchannelUri('https://2130706433/bcl', { allow: [], lookup });
    assert.match(!trick.ok ? trick.message : '', /2130706433.*127\.0\.0\.1/);
  });

  test('the vetted answer carries the addresses that were checked, to connect to', async () => {
    const v = await checkBackchannelUri('https://rp.example.com:8443/bcl', { allow: [], lookup });
    assert.ok(v.ok);
    assert.equal(v.host, 'rp.example.com');
    assert.deepEqual(v.addresses, [{ address: '93.184.216.34', family: 4 }]);
    const literal = await checkBackchannelUri('http://[::1]:9/bcl', { allow: allowRanges(LOOPBACK_RANGES), lookup });
    assert.ok(literal.ok);
    assert.equal(literal.host, '::1');
    assert.deepEqual(literal.addresses, [{ address: '::1', family: 6 }]);
  });

  test('addresses as DNS answers them: dotted mapped forms, zones', () => {
    const c = (a: string) => classifyAddress(a, [])?.public;
    assert.equal(c('::ffff:127.0.0.1'), false);
    assert.equal(c('::ffff:8.8.8.8'), true);
    assert.equal(c('fe80::1%eth0'), false);
    assert.equal(c('2606:4700:4700::1111'), true);
    assert.equal(c('8.8.8.8'), true);
    assert.equal(c('not-an-address'), undefined);
  });

  test('CIDR ranges: canonical text; host bits beyond the prefix, bad prefixes and non-addresses are refused', () => {
    const text = (s: string) => parseCidr(s)?.text ?? null;
    assert.equal(text('10.0.0.0/8'), '10.0.0.0/8');
    assert.equal(text(' 192.168.0.0/16 '), '192.168.0.0/16');
    assert.equal(text('127.0.0.1'), '127.0.0.1/32');
    assert.equal(text('::1'), '::1/128');
    assert.equal(text('fd00::/8'), 'fd00::/8');
    assert.equal(text('2001:DB8:0:0::/32'), '2001:db8::/32');
    assert.equal(text('0.0.0.0/0'), '0.0.0.0/0');
    assert.equal(text('10.0.0.1/8'), null);
    assert.equal(text('10.0.0.0/33'), null);
    assert.equal(text('::/129'), null);
    assert.equal(text('10.0.0/8'), null);
    assert.equal(text('example.com'), null);
    assert.equal(text(''), null);
    assert.equal(text('fe80::1%eth0'), null);
  });
});

describe('LOCKSTEP_BACKCHANNEL_ALLOW', () => {
  const config = (env: Record<string, string>) => configFromEnv({ LOCKSTEP_DATA_DIR: '/tmp/unused', ...env }).backchannelAllow;

  test('default: loopback while the demo is on, nothing when it is off', () => {
    assert.deepEqual(config({}), ['127.0.0.0/8', '::1/128']);
    assert.deepEqual(config({ LOCKSTEP_DEMO: 'on' }), ['127.0.0.0/8', '::1/128']);
    assert.deepEqual(config({ LOCKSTEP_DEMO: 'off' }), []);
  });

  test('a list replaces the default; "none" allows nothing', () => {
    assert.deepEqual(config({ LOCKSTEP_BACKCHANNEL_ALLOW: '10.0.0.0/8, fd00::/8,127.0.0.1' }), ['10.0.0.0/8', 'fd00::/8', '127.0.0.1/32']);
    assert.deepEqual(config({ LOCKSTEP_BACKCHANNEL_ALLOW: '10.0.0.0/8', LOCKSTEP_DEMO: 'off' }), ['10.0.0.0/8']);
    assert.deepEqual(config({ LOCKSTEP_BACKCHANNEL_ALLOW: 'none' }), []);
  });

  test('a bad entry stops the start with a message naming it', () => {
    for (const bad of ['10.0.0.1/8', 'intranet.example.com', '10.0.0.0/8,,', '300.1.1.1']) {
      assert.throws(() => config({ LOCKSTEP_BACKCHANNEL_ALLOW: bad }), (err: Error) => {
        assert.ok(err instanceof ConfigError, String(err));
        assert.match(err.message, /^LOCKSTEP_BACKCHANNEL_ALLOW entry ".*" is not an IP range/);
        return true;
      }, bad);
    }
  });
});
