import http from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';
import { closeMailers, mailer } from '../../../platform/mail.ts';
import { checkedAddress, parseChannelUrl } from './address-guard.ts';
import { httpBody, signature } from './signing.ts';
import type { Destination, Message } from './types.ts';

/** Failure is a value: whether a retry may help, and what to show admins. */
export type SendResult = { ok: true; statusCode?: number } | { ok: false; retryable: boolean; error: string; statusCode?: number };

export interface TransportOptions {
  allowPrivate: boolean;
  /** SMTP server URL (smtp:// or smtps://); email channels fail with a clear error without it. */
  smtpUrl: string | undefined;
  smtpFrom: string;
  timeoutMs: number;
}

/** What identifies one delivery: its idempotency key, and the event it carries (event webhooks). */
export interface DeliveryIds { key: string; eventId?: string | null | undefined; eventType?: string | null | undefined }

const MAX_RESPONSE_BYTES = 64 * 1024;

/**
 * POSTs to a URL destination. The host is resolved and checked here, at send time, and the socket
 * connects to the checked address (a name that resolves elsewhere the second time cannot move it).
 */
async function post(destination: Destination, message: Message, ids: DeliveryIds, options: TransportOptions): Promise<SendResult> {
  const url = parseChannelUrl(destination.target);
  const target = await checkedAddress(url, options.allowPrivate);
  const body = httpBody(destination.format as Exclude<Destination['format'], 'email'>, message);
  const headers: Record<string, string> = {
    'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)),
    'user-agent': 'NinjaIT-Notifier/1', 'x-ninjait-delivery': ids.key,
  };
  if (ids.eventId) headers['x-ninjait-event'] = ids.eventId;
  if (ids.eventType) headers['x-ninjait-event-type'] = ids.eventType;
  if (destination.format === 'webhook' && destination.signingSecret) headers['x-ninjait-signature'] = signature(destination.signingSecret, body, Math.floor(Date.now() / 1000));
  const pinned: LookupFunction = (_host, lookupOptions, callback) => {
    if ((lookupOptions as { all?: boolean }).all) (callback as (e: null, a: { address: string; family: number }[]) => void)(null, [{ address: target.address, family: target.family }]);
    else callback(null, target.address, target.family);
  };
  const client = url.protocol === 'https:' ? https : http;
  return new Promise<SendResult>((resolve) => {
    const request = client.request(url, { method: 'POST', headers, lookup: pinned, timeout: options.timeoutMs }, (response) => {
      let size = 0;
      response.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > MAX_RESPONSE_BYTES) response.destroy();
      });
      response.on('close', () => {
        const status = response.statusCode ?? 0;
        if (status >= 200 && status < 300) resolve({ ok: true, statusCode: status });
        // 4xx other than timeouts and rate limits will not get better by retrying.
        else resolve({ ok: false, retryable: status >= 500 || status === 408 || status === 429, error: `the receiver answered HTTP ${status}`, statusCode: status });
      });
    });
    request.on('timeout', () => request.destroy(new Error(`no answer within ${options.timeoutMs} ms`)));
    request.on('error', (error) => resolve({ ok: false, retryable: true, error: error.message }));
    request.end(body);
  });
}

async function mail(destination: Destination, message: Message, idempotencyKey: string, options: TransportOptions): Promise<SendResult> {
  if (!options.smtpUrl) return { ok: false, retryable: false, error: 'SMTP_URL is not set on the server: email cannot be sent' };
  const transport = mailer(options.smtpUrl, options.timeoutMs);
  try {
    await transport.sendMail({
      from: options.smtpFrom, to: destination.target, subject: message.subject.slice(0, 250), text: message.text,
      headers: { 'X-NinjaIT-Delivery': idempotencyKey }, messageId: `<${idempotencyKey.replace(/[^A-Za-z0-9.-]/g, '.')}@ninjait>`,
    });
    return { ok: true };
  } catch (error) {
    const code = (error as { responseCode?: number }).responseCode;
    // 5xx from the mail server is a permanent refusal (bad address); anything else may pass later.
    return { ok: false, retryable: !(code && code >= 500 && code < 600 && code !== 554), error: (error as Error).message };
  }
}

/** Sends one message to a destination; never throws. */
export async function send(destination: Destination, message: Message, ids: DeliveryIds, options: TransportOptions): Promise<SendResult> {
  try {
    return destination.format === 'email' ? await mail(destination, message, ids.key, options) : await post(destination, message, ids, options);
  } catch (error) {
    // A refused address at send time (DNS changed since creation) is not retried into the same refusal forever.
    const message_ = (error as Error).message;
    return { ok: false, retryable: !/Refusing|not a URL|Only http/.test(message_), error: message_ };
  }
}

export { closeMailers };
