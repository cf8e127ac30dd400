/**
 * A ClickHouse server for fault tests: ClickHouse itself (chdb, ClickHouse 26.7 in process)
 * behind the part of the ClickHouse HTTP interface that `@clickhouse/client` uses (ping, query
 * with `param_*` and settings, insert with `insert_deduplication_token`). Debian's
 * clickhouse-server 18.16 cannot run our schema, and chdb cannot be stopped on its own inside
 * the NinjaIT server; as a separate process it is a real ClickHouse that can be killed and
 * restarted on the same data folder, and that several server instances can share.
 *
 * Usage: node --import tsx test/support/chdb-http.ts DATA_DIR PORT   (prints "listening" when ready)
 */
import { createServer, type IncomingMessage } from 'node:http';
import { createRequire } from 'node:module';
import { mkdirSync } from 'node:fs';

interface ChdbSession {
  queryAsync(sql: string, opts?: { format?: string }): Promise<{ text(): string }>;
  queryBindAsync(sql: string, params: object, opts?: { format?: string }): Promise<{ text(): string }>;
}

const [dataDir, portText] = process.argv.slice(2);
if (!dataDir || !portText) throw new Error('usage: chdb-http.ts DATA_DIR PORT');
mkdirSync(dataDir, { recursive: true });
const { Session } = createRequire(import.meta.url)('chdb') as { Session: new (path: string) => ChdbSession };
const session = new Session(dataDir);

/** Settings the client sends on every request; the session has them once. */
await session.queryAsync("SET date_time_input_format = 'best_effort'");
await session.queryAsync('SET output_format_json_quote_64bit_integers = 0');

/** URL parameters that are not settings. */
const NOT_SETTINGS = new Set(['query_id', 'database', 'query', 'session_id', 'role', 'default_format',
  'date_time_input_format', 'output_format_json_quote_64bit_integers', 'enable_http_compression', 'wait_end_of_query',
  'send_progress_in_http_headers', 'http_headers_progress_interval_ms']);

let queue: Promise<unknown> = Promise.resolve();
/** One statement at a time: chdb runs queries on libuv threads; ordering keeps this simple and predictable. */
const serial = <T>(fn: () => Promise<T>): Promise<T> => {
  const next = queue.then(fn, fn);
  queue = next.catch(() => undefined);
  return next;
};

const readBody = (req: IncomingMessage) =>
  new Promise<string>((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });

const quote = (value: string) => `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;

async function execute(url: URL, body: string): Promise<string> {
  const params: Record<string, string> = {};
  const settings: string[] = [];
  for (const [key, value] of url.searchParams) {
    if (key.startsWith('param_')) params[key.slice('param_'.length)] = value;
    else if (!NOT_SETTINGS.has(key)) settings.push(`${key} = ${/^-?\d+$/.test(value) ? value : quote(value)}`);
  }
  const insert = url.searchParams.get('query');
  let sql: string;
  if (insert) {
    // `INSERT INTO t FORMAT JSONEachRow` + rows: per-insert settings go before FORMAT.
    const withSettings = settings.length > 0 ? insert.replace(/\sFORMAT\s/i, ` SETTINGS ${settings.join(', ')} FORMAT `) : insert;
    sql = `${withSettings}\n${body}`;
  } else {
    sql = body;
  }
  const result = Object.keys(params).length > 0
    ? await session.queryBindAsync(sql, params, { format: 'JSONEachRow' })
    : await session.queryAsync(sql, { format: 'JSONEachRow' });
  return result.text();
}

const server = createServer((req, res) => {
  const url = new URL(req.url ?? '/', 'http://localhost');
  if (req.method === 'GET' && (url.pathname === '/ping' || url.pathname === '/')) {
    res.end('Ok.\n');
    return;
  }
  readBody(req)
    .then((body) => serial(() => execute(url, body)))
    .then((text) => {
      res.writeHead(200, { 'content-type': 'text/plain; charset=UTF-8', 'x-clickhouse-summary': '{}' });
      res.end(text);
    })
    .catch((error: Error) => {
      res.writeHead(500, { 'content-type': 'text/plain; charset=UTF-8', 'x-clickhouse-exception-code': '1' });
      res.end(`Code: 1. DB::Exception: ${error.message}`);
    });
});
server.listen(Number(portText), '127.0.0.1', () => console.log('listening'));
