// Request generation for bench/fuzz.ts: a seeded RNG, valid values from a route's JSON schemas (with
// hints by field name so a valid request gets past the first checks), and the mutations.
import type { FuzzRoute } from './fuzz-routes.ts';

// ------------------------------------------------------------------------------------------------
// Seeded randomness: request i is built from rngFor(seed, i) alone, so a seed replays the same requests.
// ------------------------------------------------------------------------------------------------

export class Rng {
  #s: number;
  constructor(seed: number) {
    this.#s = seed >>> 0;
  }
  /** mulberry32: a float in [0, 1). */
  next(): number {
    let t = (this.#s = (this.#s + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  between(min: number, max: number): number {
    return min + this.int(max - min + 1);
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }
  word(len = 8, alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789'): string {
    let s = '';
    for (let i = 0; i < len; i++) s += alphabet[this.int(alphabet.length)];
    return s;
  }
  b64url(len: number): string {
    return this.word(len, 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_');
  }
  bytes(n: number): Buffer {
    const b = Buffer.alloc(n);
    for (let i = 0; i < n; i++) b[i] = this.int(256);
    return b;
  }
  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      [items[i], items[j]] = [items[j]!, items[i]!];
    }
    return items;
  }
}

export const rngFor = (seed: number, index: number) => new Rng((seed ^ Math.imul(index + 1, 0x9e3779b1)) >>> 0);

// ------------------------------------------------------------------------------------------------
// What a valid request may refer to: the live state the fuzzer keeps (tokens, the users, clients and
// groups it created to be edited and deleted, channels).
// ------------------------------------------------------------------------------------------------

export type AuthKind = 'none' | 'bad' | 'revoked' | 'agent' | 'admin' | 'basic' | 'basic-bad';

export interface FuzzState {
  demoSecret: string;
  agentId: string;
  agentToken: string;
  agentIdToken: string;
  agentRefresh: string;
  adminToken: string;
  /** Tokens known to be revoked (replaced credentials). */
  revoked: string[];
  /** A client-credentials token that revoke/introspect requests may end. */
  sacrificialToken: string;
  victimUsers: { id: string; email: string }[];
  victimPassword: string;
  victimClients: { id: string; secret: string | null }[];
  victimGroups: string[];
  demoUserIds: string[];
  demoClientIds: string[];
  channels: Partial<Record<AuthKind, string>>;
  presenceDefinitionIds: string[];
  /** Every concrete path of the route table (for OPTIONS *). */
  paths: string[];
}

/** A raw JSON text spliced into a body as is (numbers JSON.stringify cannot write, invalid JSON, deep nesting). */
export class RawJson {
  constructor(readonly text: string) {}
}

export interface Draft {
  route: FuzzRoute;
  method: string;
  params: Record<string, unknown>;
  query: Record<string, unknown>;
  /** Appended to the query string as is. */
  queryExtra: string;
  /** undefined: no body. */
  body: unknown;
  encoding: 'json' | 'form';
  /** Replaces the serialized body. */
  bodyRaw?: Buffer | string;
  /** undefined: from the encoding; null: no Content-Type header. */
  contentType?: string | null;
  /** Path parameters written into the path as is (not percent-encoded). */
  rawParams: Record<string, string>;
  pathSuffix: string;
  headers: Record<string, string>;
  auth: AuthKind;
  /** Replaces the Authorization header the auth kind gives. */
  authorization?: string | null;
  chunked: boolean;
  mutations: string[];
}

export interface Built {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: Buffer | null;
  chunked: boolean;
  auth: AuthKind;
  mutations: string[];
  route: string;
}

// ------------------------------------------------------------------------------------------------
// Valid values from JSON schema (TypeBox output: type, properties, required, anyOf, allOf, const, ...).
// ------------------------------------------------------------------------------------------------

type Schema = Record<string, any>;

const ISO = () => new Date(Date.now() - 3_600_000).toISOString();
const unsafe = (method: string) => method !== 'GET' && method !== 'HEAD' && method !== 'OPTIONS';

interface Ctx {
  rng: Rng;
  s: FuzzState;
  route: FuzzRoute;
  method: string;
  auth: AuthKind;
}

function userIdFor(c: Ctx): string {
  const { rng, s, route, method } = c;
  const victim = () => rng.pick(s.victimUsers)?.id ?? rng.word(12);
  // Presence, routing status, interactions: an agent may change its own; nothing else of a demo user is changed.
  const own = /\/(presences|routingstatus|interactions)/.test(route.url);
  if (!unsafe(method) || own) return rng.pick([victim, () => s.agentId, () => rng.pick(s.demoUserIds) ?? s.agentId])();
  return victim();
}

/** A value a valid request would carry for a field of this name, or undefined for "follow the schema". */
function hint(name: string, c: Ctx): unknown {
  const { rng, s, route, method } = c;
  const victimEmail = () => rng.pick(s.victimUsers)?.email ?? `fuzz-${rng.word(10)}@demo.test`;
  switch (name) {
    case 'email':
      return route.url === '/api/v2/users' || rng.chance(0.5) ? `fuzz-${rng.word(10)}@demo.test` : victimEmail();
    case 'username':
      return victimEmail();
    case 'password':
      return s.victimPassword;
    case 'client_id':
      return rng.pick(['agent-desktop', 'crm-embedded', 'automation', 'crm-backend', rng.pick(s.victimClients)?.id ?? 'x']);
    case 'client_secret':
      return rng.chance(0.5) ? s.demoSecret : rng.pick(s.victimClients.map((v) => v.secret).filter(Boolean)) ?? s.demoSecret;
    case 'redirect_uri':
    case 'post_logout_redirect_uri':
      return rng.pick(['http://127.0.0.1/callback', 'http://127.0.0.1:9/callback', 'http://127.0.0.1/admin/callback']);
    case 'response_type':
      return 'code';
    case 'code_challenge_method':
      return 'S256';
    case 'code_challenge':
      return rng.b64url(43);
    case 'code_verifier':
      return rng.b64url(rng.between(43, 128));
    case 'scope':
      return rng.pick(['openid', 'openid email profile', 'api']);
    case 'grant_type':
      return rng.pick(['client_credentials', 'authorization_code', 'refresh_token']);
    case 'code':
      return `lsac_${rng.b64url(43)}`;
    case 'refresh_token':
      return rng.chance(0.1) ? s.agentRefresh : `lsrt_${rng.b64url(43)}`;
    case 'token':
      return rng.pick([s.sacrificialToken, `lsat_${rng.b64url(43)}`, rng.pick(s.revoked) ?? 'x']);
    case 'token_type_hint':
      return rng.pick(['access_token', 'refresh_token']);
    case 'id_token_hint':
      return rng.chance(0.3) ? s.agentIdToken : `${rng.b64url(20)}.${rng.b64url(40)}.${rng.b64url(43)}`;
    case 'logout_token':
      return `${rng.b64url(20)}.${rng.b64url(60)}.${rng.b64url(43)}`;
    case 'max_age':
      return String(rng.pick([0, 60, 3600]));
    case 'prompt':
      return rng.pick(['none', 'login', 'consent']);
    case 'memberIds':
      return s.victimUsers.slice(0, rng.between(1, Math.max(1, s.victimUsers.length))).map((v) => v.id);
    case 'ids':
      return s.victimUsers.map((v) => v.id).join(',');
    case 'groups':
      return s.victimGroups.length ? [rng.pick(s.victimGroups)] : [rng.word(12)];
    case 'userId':
      return userIdFor(c);
    case 'from':
    case 'to':
      return ISO();
    case 'kind':
      return rng.pick(['logout', 'sign_in', 'token_issued']);
    case 'systemPresence':
      return rng.pick(['Available', 'Away', 'Busy', 'Offline']);
    case 'backchannelLogoutUri':
      return rng.pick([null, 'http://127.0.0.1:9/backchannel']);
    case 'allowedOrigins':
      return ['http://127.0.0.1:9'];
    case 'redirectUris':
      return ['http://127.0.0.1/callback'];
    case 'postLogoutRedirectUris':
      return [];
    case 'version':
      return rng.between(1, 3);
    default:
      return undefined;
  }
}

/** Path parameter values of a valid request. */
function paramHint(name: string, c: Ctx): string | undefined {
  const { rng, s, route, method } = c;
  const url = route.url;
  if (url.includes('/notifications/channels/')) return rng.chance(0.85) ? s.channels[c.auth] ?? rng.pick(Object.values(s.channels)) ?? rng.b64url(22) : rng.b64url(22);
  if (name === 'userId') return userIdFor(c);
  if (name === 'featureName') return rng.chance(0.8) ? 'hipaa' : rng.word(6);
  if (name === 'sourceId') return rng.chance(0.8) ? rng.pick(['purecloud', 'PURECLOUD']) : rng.word(6);
  if (name === 'definitionId') return rng.pick(s.presenceDefinitionIds) ?? rng.word(6);
  if (name === 'interactionId') return `fuzz-${rng.word(6)}`;
  if (name === 'id') {
    if (url.startsWith('/api/v2/users/')) return userIdFor(c);
    if (url.startsWith('/api/v2/oauth/clients/')) {
      const victim = rng.pick(s.victimClients)?.id ?? rng.word(12);
      return unsafe(method) ? victim : rng.pick([victim, rng.pick(s.demoClientIds) ?? victim]);
    }
    if (url.startsWith('/api/v2/groups/')) return rng.pick(s.victimGroups) ?? rng.word(12);
  }
  return undefined;
}

export function validValue(schema: Schema | undefined, c: Ctx, name = '', depth = 0): unknown {
  const { rng } = c;
  if (!schema || depth > 8) return rng.word(6);
  if (name) {
    const h = hint(name, c);
    if (h !== undefined) return h;
  }
  if ('const' in schema) return schema.const;
  if (Array.isArray(schema.enum)) return rng.pick(schema.enum);
  if (Array.isArray(schema.anyOf) || Array.isArray(schema.oneOf)) {
    const options = (schema.anyOf ?? schema.oneOf) as Schema[];
    const nonNull = options.filter((o) => o.type !== 'null');
    return validValue(rng.pick(nonNull.length && rng.chance(0.9) ? nonNull : options), c, '', depth + 1);
  }
  if (Array.isArray(schema.allOf)) {
    const out: Record<string, unknown> = {};
    for (const part of schema.allOf as Schema[]) {
      const v = validValue(part, c, '', depth + 1);
      if (v && typeof v === 'object' && !Array.isArray(v)) Object.assign(out, v);
    }
    return out;
  }
  const type = Array.isArray(schema.type) ? schema.type[0] : schema.type;
  switch (type) {
    case 'object': {
      const out: Record<string, unknown> = {};
      const required = new Set<string>(schema.required ?? []);
      for (const [key, sub] of Object.entries((schema.properties ?? {}) as Record<string, Schema>)) {
        if (required.has(key) || rng.chance(0.6)) setKey(out, key, validValue(sub, c, key, depth + 1));
      }
      if (schema.patternProperties || (schema.additionalProperties && typeof schema.additionalProperties === 'object')) {
        const sub = schema.additionalProperties && typeof schema.additionalProperties === 'object'
          ? schema.additionalProperties : Object.values(schema.patternProperties)[0] as Schema;
        if (rng.chance(0.5)) setKey(out, rng.word(5), validValue(sub, c, '', depth + 1));
      }
      if (schema.minProperties && Object.keys(out).length < schema.minProperties) {
        const keys = Object.keys(schema.properties ?? {});
        for (const key of rng.shuffle(keys)) {
          if (Object.keys(out).length >= schema.minProperties) break;
          if (!(key in out)) setKey(out, key, validValue(schema.properties[key], c, key, depth + 1));
        }
      }
      return out;
    }
    case 'array': {
      const min = schema.minItems ?? 0;
      const max = Math.min(schema.maxItems ?? 3, Math.max(min, 3));
      const n = rng.between(Math.max(min, rng.chance(0.7) ? 1 : 0), Math.max(min, max));
      const items: unknown[] = [];
      for (let i = 0; i < n; i++) items.push(validValue(schema.items, c, '', depth + 1));
      return schema.uniqueItems ? [...new Map(items.map((v) => [JSON.stringify(v), v])).values()] : items;
    }
    case 'string': {
      if (schema.format === 'email') return `fuzz-${rng.word(10)}@demo.test`;
      if (schema.format === 'uri') return rng.pick(['http://127.0.0.1/callback', 'https://app.example.com/cb']);
      if (schema.format === 'date-time') return ISO();
      const min = schema.minLength ?? 1;
      const max = Math.min(schema.maxLength ?? 16, Math.max(min, 16));
      return rng.word(rng.between(min, max));
    }
    case 'integer':
    case 'number': {
      const min = schema.minimum ?? (schema.exclusiveMinimum != null ? schema.exclusiveMinimum + 1 : 0);
      const max = Math.min(schema.maximum ?? min + 100, min + 1000);
      const v = rng.between(Math.ceil(min), Math.floor(max));
      return type === 'number' && rng.chance(0.3) ? v + 0.5 : v;
    }
    case 'boolean':
      return rng.chance(0.5);
    case 'null':
      return null;
    default:
      return rng.word(6);
  }
}

/** An own property, `__proto__` included (plain assignment would set the prototype). */
export function setKey(obj: Record<string, unknown>, key: string, value: unknown) {
  Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
}

// ------------------------------------------------------------------------------------------------
// The base (valid) request of a route.
// ------------------------------------------------------------------------------------------------

const paramNames = (url: string) => [...url.matchAll(/:(\w+)/g)].map((m) => m[1]!);

function pickAuth(rng: Rng, route: FuzzRoute): AuthKind {
  const oauth = route.url.startsWith('/oauth/');
  const kinds: [AuthKind, number][] = [['none', 15], ['bad', 10], ['revoked', 5], ['agent', 30], ['admin', 35]];
  if (oauth) kinds.push(['basic', 25], ['basic-bad', 5]);
  let r = rng.next() * kinds.reduce((n, [, w]) => n + w, 0);
  for (const [kind, w] of kinds) if ((r -= w) < 0) return kind;
  return 'admin';
}

export function baseDraft(rng: Rng, s: FuzzState, route: FuzzRoute): Draft {
  const method = route.method;
  const auth = pickAuth(rng, route);
  const c: Ctx = { rng, s, route, method, auth };
  const schema = (route.schema ?? {}) as Schema;
  const params: Record<string, unknown> = {};
  for (const name of paramNames(route.url)) {
    params[name] = paramHint(name, c) ?? validValue(schema.params?.properties?.[name], c, '');
  }
  const query = schema.querystring ? (validValue(schema.querystring, c) as Record<string, unknown>) : {};
  const hasBody = !!schema.body && method !== 'GET' && method !== 'HEAD';
  const body = hasBody ? validValue(schema.body, c) : undefined;
  const formish = route.url.startsWith('/oauth/') || route.url === '/logout';
  const encoding: Draft['encoding'] = formish ? (rng.chance(0.7) ? 'form' : 'json') : rng.chance(0.08) ? 'form' : 'json';
  const headers: Record<string, string> = {};
  if (route.websocket && rng.chance(0.5)) {
    Object.assign(headers, { connection: 'Upgrade', upgrade: 'websocket', 'sec-websocket-version': '13', 'sec-websocket-key': Buffer.from(rng.bytes(16)).toString('base64') });
  }
  if (method === 'OPTIONS') {
    Object.assign(headers, { origin: rng.pick(['http://127.0.0.1:9', 'https://evil.example']), 'access-control-request-method': rng.pick(['GET', 'POST', 'DELETE']) });
  }
  return {
    route, method, params, query, queryExtra: '', body, encoding, rawParams: {}, pathSuffix: '', headers, auth, chunked: false,
    mutations: [],
  };
}

// ------------------------------------------------------------------------------------------------
// Mutations.
// ------------------------------------------------------------------------------------------------

type Where = { in: 'params'; key: string } | { in: 'query'; key: string } | { in: 'body'; path: (string | number)[] };

/** Every place a value sits: path params, query keys (present or known to the schema), body nodes. */
function targets(d: Draft, objectsOnly = false): Where[] {
  const out: Where[] = [];
  if (!objectsOnly) {
    for (const key of Object.keys(d.params)) out.push({ in: 'params', key });
    const known = new Set([...Object.keys(d.query), ...Object.keys(((d.route.schema as Schema | null)?.querystring?.properties) ?? {})]);
    for (const key of known) out.push({ in: 'query', key });
  }
  const walk = (v: unknown, path: (string | number)[], depth: number) => {
    const container = v !== null && typeof v === 'object' && !(v instanceof RawJson);
    if (!objectsOnly || (container && !Array.isArray(v))) out.push({ in: 'body', path });
    if (!container || depth > 6) return;
    for (const [k, child] of Object.entries(v as object)) walk(child, [...path, Array.isArray(v) ? Number(k) : k], depth + 1);
  };
  if (d.body !== undefined) walk(d.body, [], 0);
  return out;
}

function getAt(d: Draft, w: Where): unknown {
  if (w.in === 'params') return d.params[w.key];
  if (w.in === 'query') return d.query[w.key];
  let v: any = d.body;
  for (const k of w.path) v = v?.[k];
  return v;
}

function setAt(d: Draft, w: Where, value: unknown) {
  if (w.in === 'params') d.params[w.key] = value;
  else if (w.in === 'query') setKey(d.query, w.key, value);
  else if (!w.path.length) d.body = value;
  else {
    let v: any = d.body;
    for (const k of w.path.slice(0, -1)) v = v?.[k];
    if (v && typeof v === 'object') setKey(v, String(w.path.at(-1)), value);
  }
}

function deleteAt(d: Draft, w: Where) {
  if (w.in === 'params') d.params[w.key] = '';
  else if (w.in === 'query') delete d.query[w.key];
  else if (!w.path.length) d.body = undefined;
  else {
    let v: any = d.body;
    for (const k of w.path.slice(0, -1)) v = v?.[k];
    if (Array.isArray(v)) v.splice(Number(w.path.at(-1)), 1);
    else if (v && typeof v === 'object') delete v[String(w.path.at(-1))];
  }
}

const UNICODE = [
  '\u0000', 'a\u0000b', '\ud800', '\udfff\ud800', '😀'.repeat(40), 'e\u0301\u0301\u0301', '\u202Egnp.exe', '\uFEFFbom', 'İıßẞ', '\u2028\u2029',
  '𝕏𝕐ℤ', 'Ωmega', '  ', '\t\r\n', '../../../etc/passwd', '<script>alert(1)</script>', "' OR 1=1 --", '${jndi:ldap://x}', '%s%n%x', 'null',
  'undefined', 'NaN', 'ＡＢＣ', '\u0085', 'ﷺ', 'ǅ', '\u{10FFFF}', 'a'.repeat(3) + '\u0300'.repeat(200),
];
const PROTO_KEYS = ['__proto__', 'constructor', 'prototype', 'hasOwnProperty', 'toString', 'valueOf', '__defineGetter__', 'isPrototypeOf'];
const JSON_NUMBERS = ['1e400', '-1e400', '-0', '1e-400', '9007199254740993', '-1', '0', '1.5', '1e308', '-9e999', '0.0000001', '123456789012345678901234567890'];
const TEXT_NUMBERS = ['Infinity', '-Infinity', 'NaN', '1e400', '-0', '0x1A', '1_000', '  5', '+1', '1e3', '0.0', '00001', '9007199254740993', '-1', '1.5', ''];
const CONTENT_TYPES = [
  'text/plain', 'application/xml', 'multipart/form-data', 'multipart/form-data; boundary=xyz', 'application/json; charset=utf-16', 'application/json;;;',
  'APPLICATION/JSON', 'application/jsonx', 'application/x-www-form-urlencoded', 'application/json', '', 'a', '*/*', 'application/json, text/plain',
  'application/octet-stream', 'text/html; charset=utf-8', 'application/x-www-form-urlencoded; charset=latin1', 'application/merge-patch+json', 'image/png',
];
const BAD_JSON = [
  '{', '{"a":', '[1,2', '{"a":1}}', '{"a":1,}', "{'a':1}", '{a:1}', '// c\n{}', '\uFEFF{}', 'null', '[]', '"str"', '123', 'true', '{"a":NaN}',
  '{"a":Infinity}', '{"a":undefined}', '{"__proto__":{"admin":true}}', '{"constructor":{"prototype":{"admin":true}}}', '\u0000', ' ', '{"a":"\\u"}',
  '{"a":"\\ud800"}', '{"a":1}{"b":2}', '{"a"\n:\n1}', '[' + '{}'.repeat(3) + ']',
];
const AUTH_ODDITIES = [
  'Bearer', 'Bearer ', 'bearer TOKEN', 'BEARER TOKEN', 'Bearer  TOKEN', 'Bearer TOKEN extra', 'Bearer TOKEN,Bearer TOKEN', 'Basic TOKEN', 'Basic !!!',
  'Basic ' + Buffer.from(':').toString('base64'), 'Basic ' + Buffer.from('automation').toString('base64'), 'Digest x', 'Bearer ' + 'a'.repeat(8000),
  'Bearer lsat_', 'Bearer TOKEN=', 'Bearer TOKEN==', 'Bearer ====', 'Token TOKEN', '', 'Bearer %00', 'Bearer TOKEN\t',
];
const RAW_PARAMS = ['%zz', '%', '%0', '%00', '%2F', '..', '.', '%2e%2e', '%C0%AF', '%FF%FE', '\u00ff', 'a%20b', '~', '"', "'", '%25', '%E2%80%AE', '%u0041', '*', '%3F', '%23', '%3B'];

function deepJson(rng: Rng): string {
  const depth = rng.pick([64, 256, 1000, 5000, 30000]);
  if (rng.chance(0.5)) return '['.repeat(depth) + ']'.repeat(depth);
  return '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);
}

function otherType(rng: Rng, v: unknown): unknown {
  const candidates: unknown[] = [123, -1, 1.5, true, false, null, {}, { a: 1 }, [], ['x'], 'str', '', 0];
  const kind = (x: unknown) => (Array.isArray(x) ? 'array' : x === null ? 'null' : typeof x);
  return rng.pick(candidates.filter((c) => kind(c) !== kind(v)));
}

type Mutation = (rng: Rng, d: Draft, s: FuzzState) => void;

export const MUTATIONS: Record<string, Mutation> = {
  'wrong-type'(rng, d) {
    const t = targets(d);
    if (!t.length) return void (d.body = otherType(rng, d.body));
    const w = rng.pick(t);
    setAt(d, w, otherType(rng, getAt(d, w)));
  },
  'missing-required'(rng, d) {
    const required: Where[] = ((d.route.schema as Schema | null)?.body?.required ?? []).map((k: string) => ({ in: 'body', path: [k] }) as Where);
    const present = targets(d).filter((w) => getAt(d, w) !== undefined && !(w.in === 'body' && !w.path.length));
    const pool = required.length && rng.chance(0.5) ? required : present;
    if (!pool.length || rng.chance(0.15)) return void (d.body = undefined);
    deleteAt(d, rng.pick(pool));
  },
  'extra-field'(rng, d) {
    const key = rng.pick(['extra', 'admin', 'role', 'roles', 'isAdmin', 'orgId', 'id', '$where', 'passwordHash', rng.word(8)]);
    const value = rng.pick<unknown>([true, 'x', 1, { admin: true }, ['admin'], null]);
    const objs = targets(d, true);
    if (objs.length && rng.chance(0.7)) {
      const w = rng.pick(objs) as Extract<Where, { in: 'body' }>;
      const obj = getAt(d, w) as Record<string, unknown>;
      setKey(obj, key, value);
    } else setKey(d.query, key, typeof value === 'object' ? JSON.stringify(value) : value);
  },
  'huge-string'(rng, d) {
    const t = targets(d);
    const w = t.length ? rng.pick(t) : ({ in: 'query', key: rng.word(4) } as Where);
    const limit = w.in === 'body' ? [257, 4097, 65537, 300_000] : [129, 257, 2049, 20_000];
    setAt(d, w, rng.pick(['A', 'é', '😀', '%']).repeat(rng.pick(limit)));
  },
  'deep-nesting'(rng, d) {
    const t = targets(d).filter((w) => w.in === 'body');
    if (t.length && rng.chance(0.6)) setAt(d, rng.pick(t), new RawJson(deepJson(rng)));
    else if (rng.chance(0.7)) {
      d.bodyRaw = deepJson(rng);
      d.contentType = 'application/json';
    } else d.queryExtra += `&${'a' + '[b]'.repeat(rng.pick([10, 100, 1000]))}=1`;
  },
  unicode(rng, d) {
    const t = targets(d);
    const value = rng.pick(UNICODE);
    if (!t.length) return void setKey(d.query, value, value);
    const w = rng.pick(t);
    if (rng.chance(0.2) && w.in === 'body' && w.path.length) {
      // Unicode in a key, not a value.
      const obj = getAt(d, { in: 'body', path: w.path.slice(0, -1) }) as Record<string, unknown>;
      if (obj && typeof obj === 'object') setKey(obj, value, 1);
    } else setAt(d, w, value);
    if (rng.chance(0.15)) {
      // Invalid UTF-8 bytes in the body.
      d.bodyRaw = Buffer.concat([Buffer.from('{"name":"'), Buffer.from([0xc0, 0xaf, 0xff, 0xfe, 0xed, 0xa0, 0x80]), Buffer.from('"}')]);
    }
  },
  'prototype-keys'(rng, d) {
    const key = rng.pick(PROTO_KEYS);
    const value = rng.pick<unknown>([{ admin: true }, { prototype: { admin: true } }, 'x', 1, null, []]);
    const where = rng.int(3);
    if (where === 0) {
      const objs = targets(d, true);
      if (objs.length) setKey(getAt(d, rng.pick(objs)) as Record<string, unknown>, key, value);
      else {
        d.body = {};
        setKey(d.body as Record<string, unknown>, key, value);
      }
    } else if (where === 1) {
      d.queryExtra += rng.pick([`&${key}=1`, `&${key}[admin]=true`, `&${key}.admin=true`, `&a[${key}]=1`]);
    } else {
      const names = Object.keys(d.params);
      if (names.length) d.params[rng.pick(names)] = key;
      else setKey(d.query, key, 'x');
    }
  },
  numbers(rng, d) {
    const t = targets(d);
    const w = t.length ? rng.pick(t) : ({ in: 'query', key: rng.pick(['pageSize', 'pageNumber', 'max_age']) } as Where);
    if (w.in === 'body') setAt(d, w, new RawJson(rng.chance(0.1) ? rng.pick(['Infinity', 'NaN', '-Infinity']) : rng.pick(JSON_NUMBERS)));
    else setAt(d, w, rng.pick(TEXT_NUMBERS));
    if (rng.chance(0.3)) d.queryExtra += `&pageSize=${pct(rng.pick(TEXT_NUMBERS))}&pageNumber=${pct(rng.pick(TEXT_NUMBERS))}`;
  },
  'array-for-scalar'(rng, d) {
    const t = targets(d);
    if (!t.length) return void (d.body = [d.body]);
    const w = rng.pick(t);
    const v = getAt(d, w) ?? 'x';
    setAt(d, w, rng.pick([[v], [v, v], [[v]], [v, 'other'], []]));
  },
  'duplicate-query'(rng, d) {
    const keys = [...new Set([...Object.keys(d.query), ...Object.keys(((d.route.schema as Schema | null)?.querystring?.properties) ?? {})])];
    const key = keys.length ? rng.pick(keys) : rng.pick(['pageSize', 'id', 'client_id']);
    const v = d.query[key] ?? 'x';
    setKey(d.query, key, [v, rng.pick([v, 'other', '', '1', 'true'])]);
    if (d.encoding === 'form' && d.body && typeof d.body === 'object' && !Array.isArray(d.body)) {
      const bodyKeys = Object.keys(d.body);
      if (bodyKeys.length) {
        const k = rng.pick(bodyKeys);
        const bv = (d.body as Record<string, unknown>)[k];
        setKey(d.body as Record<string, unknown>, k, [bv, rng.pick(['other', '', String(bv)])]);
      }
    }
  },
  'bad-content-type'(rng, d) {
    if (d.body === undefined) d.body = { a: 1 };
    d.contentType = rng.pick(CONTENT_TYPES);
  },
  'empty-json-body'(rng, d) {
    d.bodyRaw = '';
    d.contentType = rng.pick(['application/json', 'application/json; charset=utf-8', 'application/x-www-form-urlencoded']);
  },
  'random-bytes'(rng, d) {
    d.bodyRaw = rng.bytes(rng.pick([1, 7, 64, 1024, 4096, 70_000]));
    d.contentType = rng.pick<string | null>(['application/json', 'application/x-www-form-urlencoded', 'application/octet-stream', null, 'text/plain']);
  },
  'bad-json'(rng, d) {
    d.bodyRaw = rng.pick(BAD_JSON);
    d.contentType = 'application/json';
  },
  'auth-oddities'(rng, d, s) {
    const token = d.auth === 'agent' ? s.agentToken : s.adminToken;
    d.authorization = rng.pick(AUTH_ODDITIES).replaceAll('TOKEN', token);
  },
  'header-oddities'(rng, d) {
    const pick = rng.int(8);
    if (pick === 0) d.headers.upgrade = 'websocket';
    else if (pick === 1) d.headers.origin = rng.pick(['https://evil.example', 'null', 'http://127.0.0.1:9', 'http://[::1]', 'x'.repeat(3000)]);
    else if (pick === 2) d.headers.cookie = rng.pick(['lockstep_session=lsss_garbage', 'lockstep_csrf=x; lockstep_session=', '=; ;;', 'a'.repeat(4000) + '=1']);
    else if (pick === 3) d.headers['x-forwarded-for'] = rng.pick(['1.2.3.4', 'garbage', '::1, 127.0.0.1', '']);
    else if (pick === 4) d.headers['sec-fetch-site'] = rng.pick(['cross-site', 'same-site', 'none', '']);
    else if (pick === 5) d.headers['content-encoding'] = rng.pick(['gzip', 'br', 'identity', 'x']);
    else if (pick === 6) d.headers.accept = rng.pick(['text/html', 'application/xml', '*/*;q=0', '']);
    else d.headers['lockstep-activity'] = rng.pick(['false', 'true', 'x', '0', '']);
  },
  'path-oddities'(rng, d) {
    const names = Object.keys(d.params);
    if (names.length && rng.chance(0.7)) d.rawParams[rng.pick(names)] = rng.pick(RAW_PARAMS);
    else d.pathSuffix = rng.pick(['/', '//', '/..', '/%2e%2e', '?', '?&&&', '#frag', '/x', ';jsessionid=1', '%00', '.json']);
  },
  'body-on-bodyless'(rng, d) {
    d.body ??= rng.pick<unknown>([{ a: 1 }, [], 'x', 0]);
    d.encoding = 'json';
  },
  chunked(_rng, d) {
    d.chunked = true;
    d.body ??= { a: 1 };
  },
  'switch-encoding'(_rng, d) {
    d.encoding = d.encoding === 'json' ? 'form' : 'json';
  },
};

export const MUTATION_NAMES = Object.keys(MUTATIONS);

/** Request `index` of the run: a route from the schedule, its valid request, then 0–3 mutations. */
export function draftFor(rng: Rng, s: FuzzState, route: FuzzRoute): Draft {
  const d = baseDraft(rng, s, route);
  const n = rng.chance(0.1) ? 0 : rng.chance(0.75) ? 1 : rng.chance(0.7) ? 2 : 3;
  for (let i = 0; i < n; i++) {
    const name = rng.pick(MUTATION_NAMES);
    MUTATIONS[name]!(rng, d, s);
    d.mutations.push(name);
  }
  if (!d.mutations.length) d.mutations.push('valid');
  return d;
}

// ------------------------------------------------------------------------------------------------
// Serialization.
// ------------------------------------------------------------------------------------------------

export function toJson(v: unknown): string {
  if (v instanceof RawJson) return v.text;
  if (Array.isArray(v)) return '[' + v.map((x) => (x === undefined ? 'null' : toJson(x))).join(',') + ']';
  if (v !== null && typeof v === 'object') {
    return '{' + Object.entries(v).filter(([, x]) => x !== undefined).map(([k, x]) => JSON.stringify(k) + ':' + toJson(x)).join(',') + '}';
  }
  return JSON.stringify(v) ?? 'null';
}

/** Percent-encodes the UTF-8 bytes of `s` (lone surrogates become U+FFFD, where encodeURIComponent would throw). */
export function pct(s: string): string {
  let out = '';
  for (const byte of Buffer.from(s, 'utf8')) {
    const ch = String.fromCharCode(byte);
    out += /[A-Za-z0-9\-_.!~*'()]/.test(ch) ? ch : '%' + byte.toString(16).toUpperCase().padStart(2, '0');
  }
  return out;
}

const scalarText = (v: unknown): string => (v instanceof RawJson ? v.text : v !== null && typeof v === 'object' ? toJson(v) : String(v));

/** key=value pairs, an array as the key repeated (what a form or a query string can say). */
function pairs(obj: unknown): [string, string][] {
  if (obj === undefined) return [];
  if (obj === null || typeof obj !== 'object' || obj instanceof RawJson || Array.isArray(obj)) return [['value', scalarText(obj)]];
  const out: [string, string][] = [];
  for (const [k, v] of Object.entries(obj)) {
    if (v === undefined) continue;
    if (Array.isArray(v)) for (const x of v) out.push([k, scalarText(x)]);
    else out.push([k, scalarText(v)]);
  }
  return out;
}

const encodePairs = (p: [string, string][]) => p.map(([k, v]) => `${pct(k)}=${pct(v)}`).join('&');

export function build(d: Draft, s: FuzzState, rng: Rng): Built {
  let path: string;
  if (d.route.url === '*') path = rng.pick(s.paths.length ? s.paths : ['/']);
  else {
    path = d.route.url.replace(/:(\w+)/g, (_, name: string) => d.rawParams[name] ?? pct(scalarText(d.params[name] ?? '')));
  }
  path += d.pathSuffix;
  let qs = encodePairs(pairs(d.query)) + d.queryExtra;
  if (qs.startsWith('&')) qs = qs.slice(1);
  if (qs) path += (path.includes('?') ? '&' : '?') + qs;

  const headers: Record<string, string> = { ...d.headers };
  let body: Buffer | null = null;
  if (d.bodyRaw !== undefined) body = Buffer.isBuffer(d.bodyRaw) ? d.bodyRaw : Buffer.from(d.bodyRaw);
  else if (d.body !== undefined) body = Buffer.from(d.encoding === 'json' ? toJson(d.body) : encodePairs(pairs(d.body)));
  const contentType = d.contentType !== undefined ? d.contentType : body ? (d.encoding === 'json' ? 'application/json' : 'application/x-www-form-urlencoded') : null;
  if (contentType !== null) headers['content-type'] = contentType;

  const authorization = d.authorization !== undefined ? d.authorization : authHeader(d.auth, s, rng);
  if (authorization) headers.authorization = authorization;
  return { method: d.method, path, headers, body, chunked: d.chunked, auth: d.auth, mutations: d.mutations, route: `${d.route.method} ${d.route.url}` };
}

function authHeader(kind: AuthKind, s: FuzzState, rng: Rng): string | null {
  const basic = (id: string, secret: string) => 'Basic ' + Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64');
  switch (kind) {
    case 'none':
      return null;
    case 'bad':
      return 'Bearer ' + rng.pick([`lsat_${rng.b64url(43)}`, 'garbage', `lsrt_${rng.b64url(43)}`, `${rng.b64url(20)}.${rng.b64url(40)}.${rng.b64url(43)}`, 'x'.repeat(5000)]);
    case 'revoked':
      return 'Bearer ' + (rng.pick(s.revoked) ?? `lsat_${rng.b64url(43)}`);
    case 'agent':
      return 'Bearer ' + s.agentToken;
    case 'admin':
      return 'Bearer ' + s.adminToken;
    case 'basic':
      return basic('automation', s.demoSecret);
    case 'basic-bad':
      return basic(rng.pick(['automation', 'agent-desktop', 'nobody']), 'wrong-secret');
  }
}
