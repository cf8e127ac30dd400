import type { Message } from '../../webhooks/index.ts';
import type { NotificationPayload } from '../lifecycle.ts';

export interface DigestPayload {
  event: 'alert.digest';
  organizationId: string;
  count: number;
  /** The first few, for people; the count says how many there were. */
  alerts: NonNullable<NotificationPayload['alert']>[];
  text: string;
}

/** Alerts named in a digest; the rest are counted. */
const DIGEST_EXAMPLES = 20;

export function singleMessage(payload: NotificationPayload): Message {
  return { subject: payload.text, text: payload.text, payload };
}

/** One summary for many notifications of one channel (a fleet-wide outage sends this, not thousands). */
export function digestMessage(organizationId: string, payloads: readonly NotificationPayload[]): Message {
  const opened = payloads.filter((p) => p.event === 'alert.opened').length;
  const resolved = payloads.filter((p) => p.event === 'alert.resolved').length;
  const head = `${payloads.length} alert notifications: ${opened} opened, ${resolved} resolved`;
  const lines = payloads.slice(0, DIGEST_EXAMPLES).map((p) => `- ${p.text}`);
  if (payloads.length > DIGEST_EXAMPLES) lines.push(`- … and ${payloads.length - DIGEST_EXAMPLES} more`);
  const text = `${head}\n${lines.join('\n')}`;
  return {
    subject: head, text,
    payload: { event: 'alert.digest', organizationId, count: payloads.length, alerts: payloads.slice(0, DIGEST_EXAMPLES).flatMap((p) => (p.alert ? [p.alert] : [])), text },
  };
}
