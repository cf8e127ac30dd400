import { createHmac } from 'node:crypto';
import type { DeliveryFormat, Message } from './types.ts';

/**
 * `X-NinjaIT-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "t.body">`: receivers recompute
 * it with the destination's secret and refuse old timestamps, so a captured request cannot be replayed later.
 */
export function signature(secret: string, body: string, unixSec: number): string {
  const mac = createHmac('sha256', secret).update(`${unixSec}.${body}`).digest('hex');
  return `t=${unixSec},v1=${mac}`;
}

/** The HTTP body for a URL destination: our JSON for webhooks, the incoming-webhook formats of Slack and Teams. */
export function httpBody(format: Exclude<DeliveryFormat, 'email'>, message: Message): string {
  switch (format) {
    case 'webhook': return JSON.stringify(message.payload);
    case 'slack': return JSON.stringify({ text: message.text });
    case 'teams': return JSON.stringify({
      '@type': 'MessageCard', '@context': 'https://schema.org/extensions', summary: message.subject.slice(0, 200),
      title: message.subject, text: message.text.replace(/\n/g, '\n\n'),
    });
  }
}
