/**
 * The ingest log keeps payloads as `json` (the text as sent) instead of `jsonb`: nothing queries
 * inside them, and jsonb's parse-and-rebuild on every append and its re-serialisation on every
 * read tripled the embedded database's cost per sample (bench: ingest). The log is short-lived
 * (trimmed once every sink has it), so the rewrite this conversion does is small.
 */
export const ingestJson = `
ALTER TABLE ingest_log ALTER COLUMN payload TYPE JSON USING payload::json;
`;
