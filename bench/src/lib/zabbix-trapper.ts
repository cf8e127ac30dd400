import { connect } from 'node:net';

/** One value for a trapper item, as zabbix_sender sends it (with its own timestamp). */
export interface TrapperValue {
  host: string;
  key: string;
  value: string;
  clock: number;
  ns: number;
}

/** What the server said of one request: values it took into its history cache, and refused. */
export interface TrapperAnswer {
  processed: number;
  failed: number;
}

const HEADER_BYTES = 13;
const ANSWER_TIMEOUT_MS = 30_000;

/** `ZBXD\x01`, the body's length as a little-endian 64-bit number, then the body (Zabbix's framing). */
function frame(body: Buffer): Buffer {
  const header = Buffer.alloc(HEADER_BYTES);
  header.write('ZBXD\x01', 0, 'latin1');
  header.writeBigUInt64LE(BigInt(body.length), 5);
  return Buffer.concat([header, body]);
}

/** Reads `processed: N; failed: M; …` from the answer's `info`; a `failed` response refuses every value. */
export function parseAnswer(raw: Buffer, sent: number): TrapperAnswer {
  const answer = JSON.parse(raw.subarray(HEADER_BYTES).toString()) as { response?: string; info?: string };
  const processed = /processed: (\d+)/.exec(answer.info ?? '');
  const failed = /failed: (\d+)/.exec(answer.info ?? '');
  if (answer.response !== 'success' || !processed || !failed) return { processed: 0, failed: sent };
  return { processed: Number(processed[1]), failed: Number(failed[1]) };
}

/**
 * One `sender data` request on its own connection, as zabbix_sender makes it: the trapper
 * answers and closes. Rejects when the connection fails or no answer comes.
 */
export function sendValues(port: number, values: readonly TrapperValue[]): Promise<TrapperAnswer> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port });
    const chunks: Buffer[] = [];
    socket.setTimeout(ANSWER_TIMEOUT_MS, () => socket.destroy(new Error(`no trapper answer within ${ANSWER_TIMEOUT_MS} ms`)));
    socket.on('connect', () => socket.end(frame(Buffer.from(JSON.stringify({ request: 'sender data', data: values })))));
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', reject);
    socket.on('end', () => {
      try {
        resolve(parseAnswer(Buffer.concat(chunks), values.length));
      } catch (error) {
        reject(new Error(`unreadable trapper answer: ${(error as Error).message}`));
      }
    });
  });
}
