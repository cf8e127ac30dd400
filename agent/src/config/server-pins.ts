import { existsSync, readFileSync, rmSync } from 'node:fs';
import { z } from 'zod';
import { writePrivateFileAtomic } from '../util/private-files.ts';
import { UsageError } from './env.ts';

/** A SHA-256 digest in standard base64, as `openssl dgst -sha256 -binary | base64` prints it. */
const PIN = /^[A-Za-z0-9+/]{43}=$/;
/** The pin taken at enrollment plus announced ones; bounded so announcements cannot grow it forever. */
export const MAX_SERVER_PINS = 10;

const pinsFileSchema = z.object({ pins: z.array(z.string().regex(PIN)).min(1).max(MAX_SERVER_PINS) });

/** `sha256/<base64>` (the form `--pin` documents) or the bare base64 → the bare base64. */
export function parsePin(text: string): string {
  const pin = text.trim().replace(/^sha256\//, '');
  if (!PIN.test(pin)) throw new UsageError(`--pin must be sha256/ followed by the base64 SHA-256 of the server's public key (44 characters), got "${text.slice(0, 80)}"`);
  return pin;
}

/** How a pin is shown to people: the same form `--pin` takes. */
export const showPin = (pin: string) => `sha256/${pin}`;

/** The pinned server keys, or null when none are (a plain-http server, or an agent enrolled before pinning). */
export function readServerPins(file: string): string[] | null {
  if (!existsSync(file)) return null;
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new UsageError(`${file} is not valid JSON (${(err as Error).message}); run "ninjait-agent enroll" again`);
  }
  const parsed = pinsFileSchema.safeParse(raw);
  if (!parsed.success) throw new UsageError(`${file} is invalid (${parsed.error.issues.map((i) => i.message).join('; ')}); run "ninjait-agent enroll" again`);
  return parsed.data.pins;
}

/** Replaces the pinned keys (atomically, 0600); null or empty removes the file. */
export function writeServerPins(file: string, pins: readonly string[] | null): void {
  if (!pins || pins.length === 0) {
    rmSync(file, { force: true });
    return;
  }
  writePrivateFileAtomic(file, `${JSON.stringify(pinsFileSchema.parse({ pins: [...new Set(pins)] }), null, 2)}\n`);
}

/**
 * Adds the keys a server announced (over a connection already pinned) to the pinned set: the key
 * in use first, then the announced ones, then the rest, capped at MAX_SERVER_PINS.
 */
export function addAnnouncedPins(current: readonly string[], inUse: string | null, announced: readonly string[]): string[] {
  const valid = announced.filter((pin) => PIN.test(pin));
  return [...new Set([...(inUse ? [inUse] : []), ...current.slice(0, 1), ...valid, ...current])].slice(0, MAX_SERVER_PINS);
}
