import { createHash } from 'node:crypto';

/**
 * An event's id, derived from what makes it unique (organization, type, source record) rather
 * than drawn at random: the same happening published twice is the same event, so its outbox row
 * (keyed by event and subscription) is written once. Shaped as a UUID for receivers' columns.
 */
export function eventIdOf(organizationId: string, type: string, source: string): string {
  const hex = createHash('sha256').update(`${organizationId}\n${type}\n${source}`).digest('hex');
  // Version 5 and the RFC 4122 variant: a name-based UUID (over SHA-256 rather than SHA-1).
  const variant = ((Number.parseInt(hex[16]!, 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-5${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}
