import { isIPv4, isIPv6 } from 'node:net';

/**
 * Where Lockstep may send back-channel logout tokens (a server-side request to a URI an org admin
 * chose, so an SSRF surface). Pure: the only I/O is the `lookup` the caller passes in.
 *
 * A URI is allowed when it is `http(s)://host[:port]/path[?query]` with no userinfo and no
 * fragment, its host is a hostname or a canonical IP literal (no `2130706433`, `0x7f.1`, `0177.0.0.1`,
 * `127.1`), and every address the host resolves to is public — or inside a range the operator
 * allows (`LOCKSTEP_BACKCHANNEL_ALLOW`). Plain `http` is allowed only when every address is inside
 * an allowed range. IPv6 forms that embed an IPv4 address (mapped `::ffff:a.b.c.d`, compatible
 * `::a.b.c.d`, NAT64 `64:ff9b::/96`, 6to4 `2002::/16`) are judged by the IPv4 address they carry.
 */

export interface Cidr {
  family: 4 | 6;
  bytes: Uint8Array;
  prefix: number;
  /** Canonical text, e.g. `127.0.0.0/8`. */
  text: string;
}

export interface ResolvedAddress {
  address: string;
  family: number;
}

/** Resolves a hostname to every address it has (`dns.promises.lookup(host, { all: true })`). */
export type Lookup = (hostname: string) => Promise<ResolvedAddress[]>;

export type AddressRule =
  | 'invalid' | 'scheme' | 'userinfo' | 'fragment' | 'numeric_host' | 'https_required' | 'non_public_address' | 'unresolvable';

export interface Refusal {
  ok: false;
  rule: AddressRule;
  message: string;
}

export interface Vetted {
  ok: true;
  url: URL;
  /** The host as a connection wants it: brackets of an IPv6 literal removed. */
  host: string;
  /** The checked addresses to connect to (the literal itself for an IP host); empty when the name did not resolve and that was accepted. */
  addresses: ResolvedAddress[];
}

/** Loopback, what the demo allows by default (its crm-backend receiver is Lockstep itself, on 127.0.0.1). */
export const LOOPBACK_RANGES: readonly string[] = ['127.0.0.0/8', '::1/128'];

// ------------------------------------------------------------------ addresses and ranges

function parseIPv4(text: string): Uint8Array | null {
  if (!isIPv4(text)) return null;
  return Uint8Array.from(text.split('.').map(Number));
}

function parseIPv6(text: string): Uint8Array | null {
  const plain = text.replace(/%.*$/, ''); // a zone (fe80::1%eth0) says nothing about the class
  if (!isIPv6(plain)) return null;
  let head = plain;
  const tail: number[] = [];
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(head);
  if (v4) {
    const b = parseIPv4(v4[1]!)!;
    tail.push((b[0]! << 8) | b[1]!, (b[2]! << 8) | b[3]!);
    head = head.slice(0, -v4[1]!.length);
    if (head.endsWith(':') && !head.endsWith('::')) head = head.slice(0, -1);
  }
  const groups = (s: string) => (s ? s.split(':').map((g) => parseInt(g, 16)) : []);
  let words: number[];
  const gap = head.indexOf('::');
  if (gap >= 0) {
    const left = groups(head.slice(0, gap));
    const right = [...groups(head.slice(gap + 2)), ...tail];
    words = [...left, ...Array<number>(8 - left.length - right.length).fill(0), ...right];
  } else {
    words = [...groups(head), ...tail];
  }
  if (words.length !== 8) return null;
  const bytes = new Uint8Array(16);
  words.forEach((w, i) => {
    bytes[2 * i] = w >> 8;
    bytes[2 * i + 1] = w & 0xff;
  });
  return bytes;
}

function parseAddress(text: string): { family: 4 | 6; bytes: Uint8Array } | null {
  const v4 = parseIPv4(text);
  if (v4) return { family: 4, bytes: v4 };
  const v6 = parseIPv6(text);
  return v6 ? { family: 6, bytes: v6 } : null;
}

function inRange(bytes: Uint8Array, family: 4 | 6, cidr: Cidr): boolean {
  if (cidr.family !== family) return false;
  const full = cidr.prefix >> 3;
  for (let i = 0; i < full; i++) if (bytes[i] !== cidr.bytes[i]) return false;
  const rest = cidr.prefix & 7;
  if (!rest) return true;
  const mask = (0xff << (8 - rest)) & 0xff;
  return (bytes[full]! & mask) === (cidr.bytes[full]! & mask);
}

function formatCidr(family: 4 | 6, bytes: Uint8Array, prefix: number): string {
  if (family === 4) return `${[...bytes].join('.')}/${prefix}`;
  const words = Array.from({ length: 8 }, (_, i) => ((bytes[2 * i]! << 8) | bytes[2 * i + 1]!).toString(16));
  // Compress the longest run of zero words, as RFC 5952 does.
  let best = -1, bestLen = 0;
  for (let i = 0; i < 8;) {
    let j = i;
    while (j < 8 && words[j] === '0') j++;
    if (j - i > bestLen && j - i > 1) [best, bestLen] = [i, j - i];
    i = j === i ? i + 1 : j;
  }
  const text = best < 0 ? words.join(':') : `${words.slice(0, best).join(':')}::${words.slice(best + bestLen).join(':')}`;
  return `${text}/${prefix}`;
}

/**
 * `10.0.0.0/8`, `fd00::/8`, or a single address (`/32`, `/128` implied). Null when it is not one,
 * or when bits beyond the prefix are set (`10.0.0.1/8`: write `10.0.0.0/8`).
 */
export function parseCidr(text: string): Cidr | null {
  const m = /^([^/\s]+)(?:\/(\d{1,3}))?$/.exec(text.trim());
  if (!m) return null;
  const address = parseAddress(m[1]!);
  if (!address || m[1]!.includes('%')) return null;
  const max = address.family === 4 ? 32 : 128;
  const prefix = m[2] == null ? max : Number(m[2]);
  if (prefix > max) return null;
  for (let bit = prefix; bit < max; bit++) if (address.bytes[bit >> 3]! & (0x80 >> (bit & 7))) return null;
  return { ...address, prefix, text: formatCidr(address.family, address.bytes, prefix) };
}

const ranges = (list: readonly string[]) => list.map((t) => parseCidr(t)!);

/** Ranges already known to be valid (from the config): parsed. */
export const allowRanges = (list: readonly string[]): Cidr[] => ranges(list);

/** Addresses that are not on the public internet (IANA special-purpose registries), with what they are. */
const NON_PUBLIC_V4: [Cidr, string][] = [
  ['0.0.0.0/8', 'a "this network" address'], ['10.0.0.0/8', 'a private address'], ['100.64.0.0/10', 'a carrier-grade NAT address'],
  ['127.0.0.0/8', 'a loopback address'], ['169.254.0.0/16', 'a link-local address (cloud metadata lives here)'],
  ['172.16.0.0/12', 'a private address'], ['192.0.0.0/24', 'an IETF protocol address'], ['192.0.2.0/24', 'a documentation address'],
  ['192.88.99.0/24', 'a 6to4 relay address'], ['192.168.0.0/16', 'a private address'], ['198.18.0.0/15', 'a benchmarking address'],
  ['198.51.100.0/24', 'a documentation address'], ['203.0.113.0/24', 'a documentation address'], ['224.0.0.0/4', 'a multicast address'],
  ['240.0.0.0/4', 'a reserved address'],
].map(([r, what]) => [parseCidr(r!)!, what!]);

const NON_PUBLIC_V6: [Cidr, string][] = [
  ['::1/128', 'a loopback address'], ['::/128', 'the unspecified address'], ['64:ff9b:1::/48', 'a local NAT64 address'],
  ['100::/64', 'a discard-only address'], ['2001::/23', 'an IETF protocol address'], ['2001:db8::/32', 'a documentation address'],
  ['3fff::/20', 'a documentation address'], ['fc00::/7', 'a unique-local address'], ['fe80::/10', 'a link-local address'],
  ['fec0::/10', 'a site-local address'], ['ff00::/8', 'a multicast address'],
].map(([r, what]) => [parseCidr(r!)!, what!]);
const GLOBAL_UNICAST_V6 = parseCidr('2000::/3')!;

/** IPv6 forms that carry an IPv4 address, and where it sits. */
const EMBEDDING_V6: [Cidr, number][] = ranges(['::ffff:0:0/96', '64:ff9b::/96']).map((c) => [c, 12] as [Cidr, number])
  .concat([[parseCidr('2002::/16')!, 2]]);
const COMPATIBLE_V6 = parseCidr('::/96')!;

export interface AddressClass {
  /** On the public internet. */
  public: boolean;
  /** Inside a range the operator allows. */
  allowed: boolean;
  /** What it is when not public, e.g. "a loopback address (127.0.0.0/8)". */
  what: string | null;
}

/** What one IP address is, judged by the IPv4 address an IPv6 form carries. Null when `text` is not an IP address. */
export function classifyAddress(text: string, allow: readonly Cidr[]): AddressClass | null {
  const parsed = parseAddress(text);
  if (!parsed) return null;
  let { family, bytes } = parsed;
  let allowed = allow.some((c) => inRange(bytes, family, c));
  if (family === 6) {
    const embedded = EMBEDDING_V6.find(([c]) => inRange(bytes, 6, c));
    const compatible = !embedded && inRange(bytes, 6, COMPATIBLE_V6) && !bytes.slice(0, 15).every((b) => b === 0) ? 12 : null;
    const at = embedded?.[1] ?? compatible;
    if (at != null) {
      [family, bytes] = [4, bytes.slice(at, at + 4)];
      allowed ||= allow.some((c) => inRange(bytes, 4, c));
    }
  }
  const special = (family === 4 ? NON_PUBLIC_V4 : NON_PUBLIC_V6).find(([c]) => inRange(bytes, family, c));
  if (special) return { public: false, allowed, what: `${special[1]} (${special[0].text})` };
  if (family === 6 && !inRange(bytes, 6, GLOBAL_UNICAST_V6)) return { public: false, allowed, what: 'not a global unicast address (outside 2000::/3)' };
  return { public: true, allowed, what: null };
}

// ------------------------------------------------------------------ URIs

const refuse = (rule: AddressRule, message: string): Refusal => ({ ok: false, rule, message });

/** The host exactly as written in the URI (lowercased), before the URL parser rewrites numeric forms. */
function writtenHost(uri: string): string | null {
  const m = /^[a-z][a-z0-9+.-]*:\/\/([^/?#]*)/i.exec(uri);
  if (!m) return null;
  const authority = m[1]!.slice(m[1]!.lastIndexOf('@') + 1);
  const host = authority.startsWith('[') ? authority.slice(0, authority.indexOf(']') + 1) : authority.replace(/:[^:]*$/, '');
  return host.toLowerCase();
}

/** The checks that need no DNS: form, scheme, userinfo, fragment, numeric tricks. */
export function checkUriForm(uri: string): Refusal | { ok: true; url: URL; host: string; literal: boolean } {
  if (/[^\x21-\x7e]/.test(uri) || !URL.canParse(uri)) return refuse('invalid', 'it is not an absolute URI of printable ASCII characters');
  const url = new URL(uri);
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return refuse('scheme', `it must use https (or http where the operator allows it), not ${url.protocol.slice(0, -1)}:`);
  if (url.username || url.password || /^[a-z][a-z0-9+.-]*:\/\/[^/?#]*@/i.test(uri)) {
    return refuse('userinfo', 'it must not carry credentials (user:password@)');
  }
  if (uri.includes('#')) return refuse('fragment', 'it must not contain a fragment (#…)');
  const written = writtenHost(uri);
  const literal = url.hostname.startsWith('[') || isIPv4(url.hostname);
  if (written == null) return refuse('invalid', 'it is not of the form scheme://host/path');
  // An IPv4 host the parser rewrote was written some other way (decimal, hex, octal, short, percent-encoded).
  // (IPv6 has several standard spellings, and the parser accepts only those; they are judged by value.)
  if (isIPv4(url.hostname) && written !== url.hostname) {
    return refuse('numeric_host', `host "${written}" is a non-canonical way of writing ${url.hostname}; write IP addresses in standard dotted or bracketed form`);
  }
  return { ok: true, url, host: url.hostname.replace(/^\[|\]$/g, ''), literal };
}

/**
 * The whole policy: form, then every address of the host (the literal, or what `lookup` answers).
 * `unresolvable: 'accept'` lets an https name that does not resolve (yet) pass — at creation time,
 * since delivery checks again; `'refuse'` (delivery) refuses it.
 */
export async function checkBackchannelUri(
  uri: string,
  opts: { allow: readonly Cidr[]; lookup: Lookup; unresolvable?: 'accept' | 'refuse' },
): Promise<Refusal | Vetted> {
  const form = checkUriForm(uri);
  if (!form.ok) return form;
  const { url, host } = form;
  let addresses: ResolvedAddress[];
  if (form.literal) {
    addresses = [{ address: host, family: isIPv4(host) ? 4 : 6 }];
  } else {
    try {
      addresses = await opts.lookup(host);
    } catch {
      addresses = [];
    }
    if (!addresses.length) {
      if (opts.unresolvable === 'accept' && url.protocol === 'https:') return { ok: true, url, host, addresses: [] };
      return refuse('unresolvable', `host ${host} does not resolve`);
    }
  }
  for (const { address } of addresses) {
    const c = classifyAddress(address, opts.allow);
    if (!c) return refuse('unresolvable', `host ${host} resolved to something that is not an IP address`);
    if (!c.public && !c.allowed) {
      return refuse('non_public_address', `${form.literal ? `${host} is` : `host ${host} resolves to`} ${c.what}; only public addresses are allowed unless LOCKSTEP_BACKCHANNEL_ALLOW includes the range`);
    }
    if (url.protocol === 'http:' && !c.allowed) {
      return refuse('https_required', `it must use https: ${form.literal ? host : `${host} resolves to an address that`} is not in a range LOCKSTEP_BACKCHANNEL_ALLOW allows for plain http`);
    }
  }
  return { ok: true, url, host, addresses };
}
