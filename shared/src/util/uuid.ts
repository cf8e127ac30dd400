/**
 * A UUID as text, any version, either case (PostgreSQL's `uuid` takes both). Where an id from the
 * network or a log line is only trusted, used or passed on when it has this shape.
 */
const UUID_TEXT = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export const isUuid = (value: unknown): boolean => typeof value === 'string' && UUID_TEXT.test(value);
