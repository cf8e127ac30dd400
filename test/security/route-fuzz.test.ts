import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rawRequest, serverVariants, spawnServer, type RawAnswer, type SpawnedServer } from './edge-support.ts';

/**
 * The edge of a real server process (`ninjait serve`, spawned): hundreds of seeded, reproducible
 * hostile requests at every route (/trpc/*, probes, metrics, downloads, install links, console
 * paths, unknown paths) with malformed targets and percent-encodings, odd methods, huge and
 * invalid headers, bad cookies, bad content types, invalid, huge and truncated bodies; then
 * malformed WebSocket upgrades and frames (garbage, oversized, invalid JSON-RPC, bad
 * connectionParams, protocol violations). After every batch the process must be alive and answer
 * /healthz; over the whole run no request may get a 5xx other than a deliberate 503, and the log
 * may hold no handler failure (the boundary turning an exception into a 500 is a bug found).
 */

/** mulberry32: a few lines of seeded randomness, so every run sends the very same cases. */
function seeded(seed: number) {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
  return { next, pick: <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)]!, bytes: (n: number) => Buffer.from(Array.from({ length: n }, () => Math.floor(next() * 256))) };
}
const SEED = 0x5eed_0013;

const RELEASE_FILE = 'ninjait-agent-1.2.3-linux-x64.tar.gz';
const METRICS_TOKEN = 'fuzz-metrics-token-0123456789';

// ---------------------------------------------------------------------------------------------
// HTTP cases: a route, a mutation of its target, a method, headers and a body.

const ROUTES = [
  '/trpc/auth.login', '/trpc/auth.cookieLogin', '/trpc/auth.me', '/trpc/devices.list', '/trpc/agent.push', '/trpc/auth.me,devices.list',
  '/healthz', '/readyz', '/metrics', `/downloads/agent/${RELEASE_FILE}`, '/downloads/agent/latest/linux/x64/bundle', '/downloads/agent/',
  '/install.sh', '/install.ps1', '/remote/files/download', '/remote/files/upload', '/', '/devices/abc', '/assets/index.js', '/index.html', '/favicon.ico', '/no/such/path',
];

const TARGETS: ((path: string) => string)[] = [
  (p) => p,
  (p) => `${p}%`,
  (p) => `${p}%E0%A4%A`,
  (p) => `${p}/%ff%fe%fd`,
  (p) => `${p}%00`,
  (p) => `${p}/..%2f..%2f..%2f..%2fetc%2fpasswd`,
  (p) => `${p}/%C0%AF%c0%ae%c0%ae`,
  (p) => `${p}%uD800%`,
  (p) => `/${p}`,
  (p) => `//[${p}`,
  (p) => p.replace(/^\//, '/./'),
  (p) => `${p}?%%%=%`,
  (p) => `${p}?input=%7B%22a%22%3A`,
  (p) => `${p}?batch=1&input=%ZZ`,
  (p) => `${p}?batch=1&input=${encodeURIComponent(JSON.stringify(Object.fromEntries(Array.from({ length: 60 }, (_, i) => [i, {}]))))}`,
  (p) => `${p}?connectionParams=%E0`,
  (p) => `${p}?connectionParams=${encodeURIComponent('{"deviceId":1,"deviceSecret":{"a":[]}}')}`,
  (p) => `${p}?token=${'A'.repeat(5_000)}`,
  (p) => `${p}/${'a'.repeat(9_000)}`,
  (p) => `http://evil.example${p}`,
  (p) => `${p}#fragment%`,
  (p) => `${p};param=%`,
  (p) => p.toUpperCase(),
  (p) => `${p}\u00e9\u00ff`,
];

const METHODS = ['GET', 'GET', 'POST', 'POST', 'HEAD', 'PUT', 'DELETE', 'OPTIONS', 'PATCH', 'TRACE', 'PROPFIND', 'FOO'];

const HEADERS: Record<string, string>[] = [
  {},
  { 'content-type': 'application/json' },
  { 'content-type': 'application/json; charset=utf-16' },
  { 'content-type': 'APPLICATION/JSON ; boundary=' },
  { 'content-type': 'text/plain' },
  { 'content-type': 'multipart/form-data; boundary=' },
  { 'content-type': 'application/x-www-form-urlencoded' },
  { cookie: 'ninjait_session=%' },
  { cookie: 'ninjait_session=%E0%A4%A; other=%%' },
  { cookie: `ninjait_session=${'x'.repeat(8_000)}` },
  { cookie: ';;;=;ninjait_session;ninjait_session==' },
  { authorization: 'Bearer ' },
  { authorization: `Bearer ${'y'.repeat(8_000)}` },
  { authorization: 'Basic %%%' },
  { authorization: `Bearer ${METRICS_TOKEN}x` },
  { origin: 'null' },
  { origin: 'http://[' },
  { origin: 'https://evil.example', 'sec-fetch-site': 'cross-site' },
  { 'accept-encoding': 'gzip;q=nan, *;q=-1' },
  { 'if-none-match': '*' },
  { range: 'bytes=-1,0-' },
  { 'x-forwarded-for': '127.0.0.1, 10.0.0.1' },
  { forwarded: 'for="[::1]"' },
  { 'x-ninjait-admin': 'nla_forged' },
  { 'x-ninjait-admin': 'z'.repeat(4_000) },
  { expect: '100-continue' },
  { 'x-huge': 'z'.repeat(20_000) },
];

const BODIES: string[] = [
  '', '{', '{"email":"a@b.c","password":"x"', 'null', '[]', '{"0":{"json":1}}', '{"__proto__":{"isAdmin":true},"constructor":{"prototype":{}}}',
  JSON.stringify({ email: `${'x'.repeat(300)}@a.b`, password: 'p' }), JSON.stringify({ email: 'a@b.c', password: 'p'.repeat(5_000) }),
  '['.repeat(20_000), '{"email":"\\ud800@a.b","password":"\\u0000"}', '{"records":[{"seq":1e308,"collectedAt":-1}]}',
];

interface HttpCase {
  label: string;
  bytes: Buffer;
  waitMs?: number;
}

function request(method: string, target: string, headers: Record<string, string>, body: Buffer | string, extra = ''): Buffer {
  const payload = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
  const head = [`${method} ${target} HTTP/1.1`, 'Host: 127.0.0.1', 'Connection: close', ...Object.entries(headers).map(([name, value]) => `${name}: ${value}`)];
  if (payload.length > 0 || method === 'POST') head.push(`Content-Length: ${payload.length}`);
  return Buffer.concat([Buffer.from(`${head.join('\r\n')}\r\n${extra}\r\n`, 'latin1'), payload]);
}

function httpCases(): HttpCase[] {
  const random = seeded(SEED);
  const cases: HttpCase[] = [];
  for (const route of ROUTES) {
    // Every target mutation once per route, with a random method, headers and body.
    for (const target of TARGETS) {
      const method = random.pick(METHODS);
      const headers = random.pick(HEADERS);
      const body = method === 'GET' || method === 'HEAD' ? '' : random.pick(BODIES);
      const path = target(route);
      cases.push({ label: `${method} ${path.slice(0, 80)} ${JSON.stringify(headers).slice(0, 60)} body ${body.slice(0, 30)}`, bytes: request(method, path, headers, body) });
    }
  }
  // Whole-request oddities a client library would never send.
  const odd: [string, Buffer | string, number?][] = [
    ['OPTIONS *', request('OPTIONS', '*', {}, '')],
    ['empty target', 'GET  HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'],
    ['lowercase method', 'get /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'],
    ['HTTP/0.9', 'GET /healthz\r\n\r\n'],
    ['HTTP/2 preface', 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'],
    ['no Host', 'GET /healthz HTTP/1.1\r\nConnection: close\r\n\r\n'],
    ['two Hosts', 'GET /healthz HTTP/1.1\r\nHost: a\r\nHost: b\r\nConnection: close\r\n\r\n'],
    ['control bytes in target', `GET /healthz\x01\x7f HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`],
    ['bare LF lines', 'GET /healthz HTTP/1.1\nHost: x\nConnection: close\n\n'],
    ['header without colon', 'GET /healthz HTTP/1.1\r\nHost: x\r\nbroken header\r\nConnection: close\r\n\r\n'],
    ['header with NUL', 'GET /healthz HTTP/1.1\r\nHost: x\r\nX-A: a\x00b\r\nConnection: close\r\n\r\n'],
    ['obsolete line folding', 'GET /healthz HTTP/1.1\r\nHost: x\r\nX-A: a\r\n b\r\nConnection: close\r\n\r\n'],
    ['3000 headers', `GET /healthz HTTP/1.1\r\nHost: x\r\n${Array.from({ length: 3_000 }, (_, i) => `X-${i}: ${i}`).join('\r\n')}\r\nConnection: close\r\n\r\n`],
    ['64 KiB target', request('GET', `/trpc/auth.me?input=${'%41'.repeat(21_000)}`, {}, '')],
    ['conflicting Content-Length', 'POST /trpc/auth.login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 5\r\nContent-Length: 7\r\nConnection: close\r\n\r\n{"a":1}'],
    ['Content-Length and chunked', 'POST /trpc/auth.login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n0\r\n\r\n'],
    ['invalid chunk size', 'POST /trpc/auth.login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\nZZ\r\n{}\r\n0\r\n\r\n'],
    ['huge chunk extension', `POST /trpc/auth.login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n2;${'e'.repeat(20_000)}\r\n{}\r\n0\r\n\r\n`],
    ['negative Content-Length', 'POST /trpc/auth.login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: -1\r\nConnection: close\r\n\r\n'],
    ['truncated JSON body', 'POST /trpc/auth.login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 500\r\nConnection: close\r\n\r\n{"email":"a@b.c",', 1_500],
    ['truncated chunked body', 'POST /trpc/agent.push HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n100\r\n{"records":[', 1_500],
    ['body over the size limit', request('POST', '/trpc/agent.push', { 'content-type': 'application/json' }, Buffer.alloc(5 * 1024 * 1024, 0x5b)), 10_000],
    ['batch of 300 logins', request('POST', `/trpc/${Array(300).fill('auth.login').join(',')}?batch=1`, { 'content-type': 'application/json' },
      JSON.stringify(Object.fromEntries(Array.from({ length: 300 }, (_, i) => [i, { email: `x${i}@fuzz.test`, password: 'guess' }]))))],
    ...downloadCredentialCases(),
    ...uploadCredentialCases(),
    ['random bytes', randomBytesFor(1)],
    ['random bytes after a request line', Buffer.concat([Buffer.from('POST /trpc/auth.login HTTP/1.1\r\n'), randomBytesFor(2)])],
  ];
  for (const [label, bytes, waitMs] of odd) cases.push({ label, bytes: typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : bytes, ...(waitMs ? { waitMs } : {}) });
  return cases;
}

/**
 * The streamed download as people reach it: forged, malformed and oversized session cookies, the
 * console's header alone or with odd values, forged API keys, and queries a person may not send
 * (a device name, `org`); each one refused with a 4xx, never a 5xx or a handler failure.
 */
function downloadCredentialCases(): [string, string][] {
  const query = (q: Record<string, string>) => `/remote/files/download?${new URLSearchParams({ device: '00000000-0000-4000-8000-000000000000', path: '/etc/passwd', offset: '0', size: '1', ...q })}`;
  const get = (target: string, headers: Record<string, string>) => request('GET', target, headers, '').toString('latin1');
  const cases: [string, Record<string, string>, Record<string, string>][] = [
    ['forged session cookie with the download header', {}, { cookie: 'ninjait_session=ns_forged', 'x-ninjait-download': '1' }],
    ['session cookie without the download header', {}, { cookie: 'ninjait_session=ns_forged' }],
    ['download header alone', {}, { 'x-ninjait-download': '1' }],
    ['download header twice', {}, { 'x-ninjait-download': '1', 'X-Ninjait-Download': '1', cookie: 'ninjait_session=ns_forged' }],
    ['huge download header', {}, { 'x-ninjait-download': 'd'.repeat(20_000), cookie: 'ninjait_session=ns_forged' }],
    ['cookie holding a forged API key', {}, { cookie: 'ninjait_session=nk_forged', 'x-ninjait-download': '1' }],
    ['forged API key as bearer', {}, { authorization: 'Bearer nk_forged' }],
    ['bearer and cookie both forged', {}, { authorization: `Bearer ${'q'.repeat(300)}`, cookie: 'ninjait_session=ns_forged', 'x-ninjait-download': '1' }],
    ['device by name with a cookie', { device: 'some-laptop' }, { cookie: 'ninjait_session=ns_forged', 'x-ninjait-download': '1' }],
    ['org with a cookie', { org: 'Acme' }, { cookie: 'ninjait_session=ns_forged', 'x-ninjait-download': '1' }],
    ['cross-site origin with a cookie', {}, { cookie: 'ninjait_session=ns_forged', 'x-ninjait-download': '1', origin: 'https://evil.example', 'sec-fetch-site': 'cross-site' }],
    ['range past the size with a cookie', { offset: '9', size: '3' }, { cookie: 'ninjait_session=ns_forged', 'x-ninjait-download': '1' }],
  ];
  return cases.map(([label, q, headers]) => [`download: ${label}`, get(query(q), headers)]);
}

/**
 * Upload chunks as people reach them: the same forged credentials, the console's header alone or
 * odd, and bodies and queries no chunk has (oversized, announced larger than sent, past the
 * file's size, a device by name); each one refused with a 4xx, never a 5xx or a handler failure.
 */
function uploadCredentialCases(): [string, string][] {
  const query = (q: Record<string, string>) => `/remote/files/upload?${new URLSearchParams({
    device: '00000000-0000-4000-8000-000000000000', transferId: '00000000-0000-4000-8000-000000000001', path: '/etc/passwd', offset: '0', size: '4', ...q,
  })}`;
  const post = (target: string, headers: Record<string, string>, body: Buffer) => request('POST', target, { 'content-type': 'application/octet-stream', ...headers }, body).toString('latin1');
  const cookie = { cookie: 'ninjait_session=ns_forged', 'x-ninjait-upload': '1' };
  const cases: [string, Record<string, string>, Record<string, string>, Buffer][] = [
    ['forged session cookie with the upload header', {}, cookie, Buffer.from('abcd')],
    ['session cookie without the upload header', {}, { cookie: 'ninjait_session=ns_forged' }, Buffer.from('abcd')],
    ['the download header instead', {}, { cookie: 'ninjait_session=ns_forged', 'x-ninjait-download': '1' }, Buffer.from('abcd')],
    ['upload header alone', {}, { 'x-ninjait-upload': '1' }, Buffer.from('abcd')],
    ['forged API key as bearer', {}, { authorization: 'Bearer nk_forged' }, Buffer.from('abcd')],
    ['forged local admin', {}, { 'x-ninjait-admin': 'forged' }, Buffer.from('abcd')],
    ['device by name with a cookie', { device: 'some-laptop' }, cookie, Buffer.from('abcd')],
    ['offset past the size', { offset: '9' }, cookie, Buffer.from('abcd')],
    ['body over a chunk', { size: String(4 * 1024 * 1024) }, cookie, Buffer.alloc(1024 * 1024 + 1, 0x41)],
    ['body past the size', {}, cookie, Buffer.from('abcdefgh')],
    ['empty body', {}, cookie, Buffer.alloc(0)],
  ];
  return cases.map(([label, q, headers, body]) => [`upload: ${label}`, post(query(q), headers, body)]);
}

function randomBytesFor(salt: number): Buffer {
  return seeded(SEED + salt).bytes(2_048);
}

// ---------------------------------------------------------------------------------------------
// WebSocket cases: malformed upgrades, then frames on a real handshake.

const WS_KEY = Buffer.alloc(16, 7).toString('base64');

function upgrade(target: string, headers: Record<string, string> = {}, method = 'GET'): string {
  const all = { Host: '127.0.0.1', Upgrade: 'websocket', Connection: 'Upgrade', 'Sec-WebSocket-Key': WS_KEY, 'Sec-WebSocket-Version': '13', ...headers };
  return `${method} ${target} HTTP/1.1\r\n${Object.entries(all).filter(([, value]) => value !== '').map(([name, value]) => `${name}: ${value}`).join('\r\n')}\r\n\r\n`;
}

const BAD_UPGRADES: [string, string][] = [
  ['upgrade to an unknown path', upgrade('/elsewhere')],
  ['upgrade with a bad escape', upgrade('/trpc%E0%A4%A')],
  ['upgrade to //[', upgrade('//[trpc')],
  ['upgrade without a key', upgrade('/trpc', { 'Sec-WebSocket-Key': '' })],
  ['upgrade with a short key', upgrade('/trpc', { 'Sec-WebSocket-Key': 'c2hvcnQ=' })],
  ['upgrade with version 99', upgrade('/trpc', { 'Sec-WebSocket-Version': '99' })],
  ['upgrade without Connection: Upgrade', upgrade('/trpc', { Connection: 'keep-alive' })],
  ['upgrade to a non-websocket protocol', upgrade('/trpc', { Upgrade: 'h2c' })],
  ['upgrade by POST', upgrade('/trpc', {}, 'POST')],
  ['upgrade with a cross-site origin and a bad cookie', upgrade('/trpc', { Origin: 'https://evil.example', Cookie: 'ninjait_session=%E0' })],
  ['upgrade with a huge header', upgrade('/trpc', { 'X-Huge': 'h'.repeat(20_000) })],
  ['upgrade with bad extensions', upgrade('/trpc', { 'Sec-WebSocket-Extensions': 'permessage-deflate; client_max_window_bits=99;;;' })],
  ['upgrade with bad subprotocols', upgrade('/trpc', { 'Sec-WebSocket-Protocol': ',,,\u0001' })],
  ['upgrade with connectionParams and a bad query', upgrade('/trpc?connectionParams=1&x=%')],
];

/** One client frame; `mask` false and the rest let cases break the protocol on purpose. */
function frame(opcode: number, payload: Buffer | string, options: { fin?: boolean; mask?: boolean; rsv?: number; claimedLength?: bigint } = {}): Buffer {
  const data = typeof payload === 'string' ? Buffer.from(payload, 'utf8') : payload;
  const { fin = true, mask = true, rsv = 0 } = options;
  const length = options.claimedLength ?? BigInt(data.length);
  const first = (fin ? 0x80 : 0) | (rsv << 4) | opcode;
  let header: Buffer;
  if (length < 126n) header = Buffer.from([first, (mask ? 0x80 : 0) | Number(length)]);
  else if (length < 65_536n) {
    header = Buffer.alloc(4);
    header.writeUInt16BE(Number(length), 2);
    header[1] = (mask ? 0x80 : 0) | 126;
  } else {
    header = Buffer.alloc(10);
    header.writeBigUInt64BE(length, 2);
    header[1] = (mask ? 0x80 : 0) | 127;
  }
  header[0] = first;
  if (!mask) return Buffer.concat([header, data]);
  const key = Buffer.from([1, 2, 3, 4]);
  return Buffer.concat([header, key, Buffer.from(data.map((byte, i) => byte ^ key[i % 4]!))]);
}
const text = (payload: string | Buffer) => frame(0x1, payload);

const call = (id: unknown, method: string, path: unknown, input?: unknown) => JSON.stringify({ id, jsonrpc: '2.0', method, params: { path, input } });

/** Frames sent on an open socket; `params` sockets ask for connectionParams first (`?connectionParams=1`). */
const WS_FRAMES: [string, 'plain' | 'params', Buffer[]][] = [
  ['garbage text', 'plain', [text('not json at all')]],
  ['invalid UTF-8 text', 'plain', [text(Buffer.from([0xc3, 0x28, 0xff, 0xfe]))]],
  ['JSON scalars', 'plain', ['null', '1', '"x"', 'true', '{}', '[]', '[[]]'].map(text)],
  ['deep nesting', 'plain', [text('['.repeat(100_000))]],
  ['id null, object, huge', 'plain', [text(call(null, 'query', 'auth.me')), text(call({ a: 1 }, 'query', 'auth.me')), text(call('i'.repeat(100_000), 'query', 'auth.me'))]],
  ['unknown method', 'plain', [text(call(1, 'explode', 'auth.me')), text(JSON.stringify({ id: 2, method: 'query' }))]],
  ['path not a string', 'plain', [text(call(3, 'query', { $ne: 1 })), text(call(4, 'mutation', ['auth', 'login'])), text(call(5, 'query', 'constructor.prototype'))]],
  ['unknown and prototype paths', 'plain', [text(call(6, 'query', '__proto__')), text(call(7, 'subscription', 'toString')), text(call(8, 'query', 'x'.repeat(10_000)))]],
  ['hostile inputs', 'plain', [text(call(9, 'mutation', 'agent.push', { records: 'x'.repeat(100_000) })), text(call(10, 'mutation', 'auth.login', { email: { $gt: '' }, password: [] }))]],
  ['subscription stop for nothing', 'plain', [text(JSON.stringify({ id: 11, method: 'subscription.stop' })), text(JSON.stringify({ id: null, method: 'subscription.stop' }))]],
  ['duplicate subscription ids', 'plain', [text(call(12, 'subscription', 'live.devices')), text(call(12, 'subscription', 'live.devices'))]],
  ['batch of 300 logins in one frame', 'plain', [text(`[${Array.from({ length: 300 }, (_, i) => call(100 + i, 'mutation', 'auth.login', { email: `w${i}@fuzz.test`, password: 'guess' })).join(',')}]`)]],
  ['batch of 1000 garbage items', 'plain', [text(JSON.stringify(Array.from({ length: 1_000 }, (_, i) => ({ id: i }))))]],
  ['PING and PONG words', 'plain', [text('PING'), text('PONG'), text('PING'.repeat(1_000))]],
  ['binary frames', 'plain', [frame(0x2, seeded(SEED + 3).bytes(4_096)), frame(0x2, Buffer.alloc(0))]],
  ['frame over the size limit', 'plain', [text(Buffer.alloc(5 * 1024 * 1024, 0x20))]],
  ['claimed 2^63 length', 'plain', [frame(0x1, 'x', { claimedLength: 0x7fff_ffff_ffff_ffffn })]],
  ['unmasked client frame', 'plain', [frame(0x1, call(13, 'query', 'auth.me'), { mask: false })]],
  ['reserved bits set', 'plain', [frame(0x1, '{}', { rsv: 0b111 })]],
  ['reserved opcodes', 'plain', [frame(0x3, 'x'), frame(0xb, 'x')]],
  ['control frame too long', 'plain', [frame(0x9, Buffer.alloc(200, 1))]],
  ['fragmented control frame', 'plain', [frame(0x9, 'ping', { fin: false })]],
  ['continuation without a start', 'plain', [frame(0x0, 'orphan')]],
  ['a thousand fragments', 'plain', [frame(0x1, '[', { fin: false }), ...Array.from({ length: 1_000 }, () => frame(0x0, ' ', { fin: false })), frame(0x0, ']')]],
  ['close with an invalid code', 'plain', [frame(0x8, Buffer.from([0x03, 0xe7]))]],
  ['close with a one-byte body', 'plain', [frame(0x8, Buffer.from([0x03]))]],
  ['connectionParams: garbage', 'params', [text('garbage')]],
  ['connectionParams: not an object', 'params', [text(JSON.stringify({ method: 'connectionParams', data: 'x' }))]],
  ['connectionParams: nested values', 'params', [text(JSON.stringify({ method: 'connectionParams', data: { deviceId: { a: 1 }, sessionToken: [1] } }))]],
  ['connectionParams: malformed device id', 'params', [text(JSON.stringify({ method: 'connectionParams', data: { deviceId: '../../etc', deviceSecret: 'x' } }))]],
  ['connectionParams: huge session token', 'params', [text(JSON.stringify({ method: 'connectionParams', data: { sessionToken: 's'.repeat(1_000_000) } }))]],
  ['connectionParams: null data, then calls', 'params', [text(JSON.stringify({ method: 'connectionParams', data: null })), text(call(14, 'query', 'auth.me'))]],
  ['connectionParams: a call first', 'params', [text(call(15, 'query', 'auth.me'))]],
  ['connectionParams: binary', 'params', [frame(0x2, seeded(SEED + 4).bytes(512))]],
];

/** Opens a socket with a proper handshake, sends `frames`, and reads for a moment. */
function wsCase(port: number, mode: 'plain' | 'params', frames: Buffer[]): Promise<RawAnswer> {
  return new Promise((resolve) => {
    const socket: Socket = connect({ port, host: '127.0.0.1' });
    let received = '';
    let sent = false;
    const finish = () => {
      clearTimeout(timer);
      socket.destroy();
      resolve({ status: Number(/^HTTP\/1\.1 (\d{3})/.exec(received)?.[1] ?? 0), text: received.slice(0, 4_096) });
    };
    const timer = setTimeout(finish, 2_000);
    socket.on('error', finish);
    socket.on('close', finish);
    socket.on('data', (chunk: Buffer) => {
      if (received.length < 65_536) received += chunk.toString('latin1');
      if (!sent && received.includes('\r\n\r\n')) {
        sent = true;
        if (!received.startsWith('HTTP/1.1 101')) return finish();
        for (const bytes of frames) socket.write(bytes);
      }
    });
    socket.on('connect', () => socket.write(upgrade(mode === 'params' ? '/trpc?connectionParams=1' : '/trpc')));
  });
}

// ---------------------------------------------------------------------------------------------

const BATCH = 24;
/** 503 is deliberate: the console not built yet, or a store not ready on /readyz. */
const isServerFailure = (status: number) => status >= 500 && status !== 503;

describe.each(serverVariants())('the HTTP and WebSocket edge survives hostile requests ($name)', (variant) => {
  let server: SpawnedServer;
  let releases = '';
  const answers: { label: string; answer: RawAnswer }[] = [];

  beforeAll(async () => {
    // A releases folder with one listed artifact, so /downloads serves a real file among the fuzz.
    releases = await mkdtemp(join(tmpdir(), 'ninjait-fuzz-releases-'));
    const artifact = randomBytes(1_024);
    await writeFile(join(releases, RELEASE_FILE), artifact);
    await writeFile(join(releases, `${RELEASE_FILE}.json`), JSON.stringify({
      version: '1.2.3', platform: 'linux', arch: 'x64', kind: 'bundle', file: RELEASE_FILE,
      sha256: createHash('sha256').update(artifact).digest('hex'), size: artifact.length, signature: 'unsigned-test-artifact',
    }));
    server = await spawnServer(variant, { RELEASES_DIR: releases, METRICS_TOKEN, WS_AUTH_TIMEOUT_MS: '1500' });
  }, 180_000);
  afterAll(async () => {
    await server?.stop();
    if (releases) await rm(releases, { recursive: true, force: true, maxRetries: 10, retryDelay: 200 });
  });

  /** Runs `jobs` a batch at a time; after each batch the process must be alive and healthy. */
  async function inBatches<T>(jobs: T[], run: (job: T) => Promise<{ label: string; answer: RawAnswer }>) {
    for (let i = 0; i < jobs.length; i += BATCH) {
      const batch = jobs.slice(i, i + BATCH);
      answers.push(...await Promise.all(batch.map(run)));
      const labels = batch.map((job) => (job as { label?: string }).label ?? JSON.stringify(job).slice(0, 80));
      expect(server.alive(), `the server died during: ${labels.join(' | ')}\n${server.proc.output().slice(-3_000)}`).toBe(true);
      const health = await fetch(`${server.url}/healthz`).then((res) => res.status, (error: Error) => error.message);
      expect(health, `/healthz after: ${labels.join(' | ')}`).toBe(200);
    }
  }

  it('answers every malformed HTTP request without dying', async () => {
    const cases = httpCases();
    expect(cases.length).toBeGreaterThan(450);
    await inBatches(cases, async (job) => ({ label: job.label, answer: await rawRequest(server.port, job.bytes, job.waitMs ?? 3_000) }));
  }, 600_000);

  it('answers every malformed WebSocket upgrade and frame without dying', async () => {
    const upgrades = BAD_UPGRADES.map(([label, bytes]) => ({ label, run: () => rawRequest(server.port, bytes, 2_000) }));
    // Each frame case twice: the second run finds the server in whatever state the first left.
    const frames = [...WS_FRAMES, ...WS_FRAMES].map(([label, mode, bytes]) => ({ label, run: () => wsCase(server.port, mode, bytes) }));
    await inBatches([...upgrades, ...frames], async (job) => ({ label: job.label, answer: await job.run() }));
    expect(upgrades.length + frames.length).toBeGreaterThan(80);
  }, 300_000);

  it('never answered with a server error, and logged no handler failure', () => {
    const failures = answers.filter(({ answer }) => isServerFailure(answer.status)).map(({ label, answer }) => `${answer.status} for ${label}: ${answer.text.slice(0, 300)}`);
    expect(failures).toEqual([]);
    expect(server.proc.output()).not.toMatch(/handler failed|uncaught|unhandled/i);
    // The streamed download's credential cases are each refused, not served nor failed.
    const downloads = answers.filter(({ label }) => label.startsWith('download: '));
    expect(downloads.length).toBeGreaterThan(10);
    expect(downloads.filter(({ answer }) => answer.status < 400 || answer.status >= 500).map(({ label, answer }) => `${answer.status} for ${label}`)).toEqual([]);
    // Not vacuous: the requests reached the routes and got real answers.
    expect(answers.filter(({ answer }) => answer.status === 200).length).toBeGreaterThan(20);
    expect(answers.filter(({ answer }) => answer.status >= 400 && answer.status < 500).length).toBeGreaterThan(100);
  });
});
