import { z } from 'zod';
import { LATEST_TIME_MS, MAX_BYTES } from '../constants.ts';

// NUL and unpaired UTF-16 surrogates: JSON carries them, PostgreSQL's json and text types refuse them.
const UNSTORABLE_SOURCE = '\\0|[\\uD800-\\uDBFF](?![\\uDC00-\\uDFFF])|(?<![\\uD800-\\uDBFF])[\\uDC00-\\uDFFF]';
const HAS_UNSTORABLE = new RegExp(UNSTORABLE_SOURCE);
const EVERY_UNSTORABLE = new RegExp(UNSTORABLE_SOURCE, 'g');

/**
 * Text as every store can hold it: NUL and unpaired surrogates become U+FFFD. Normalised, not
 * refused: a machine's odd disk label must not cost its samples (the agent parses with the same
 * schema), and one such string in a push used to fail the ingest log's whole group commit.
 */
export function storableText(value: string): string {
  return HAS_UNSTORABLE.test(value) ? value.replace(EVERY_UNSTORABLE, '\uFFFD') : value;
}

/** A string of at most `max` UTF-16 units, made storable. */
export const boundedText = (max: number) => z.string().max(max).transform(storableText);

/** A count of bytes, records or errors: a non-negative integer up to MAX_BYTES. */
export const boundedCount = () => z.number().int().nonnegative().max(MAX_BYTES);

/** Epoch milliseconds a clock can show: after 1970, before year 10000. */
export const epochMs = () => z.number().int().positive().max(LATEST_TIME_MS).describe('epoch milliseconds');
