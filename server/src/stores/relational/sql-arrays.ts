import { sql } from 'kysely';

// Arrays travel as one parameter with an explicit cast: node-postgres sends a JavaScript array as
// an array literal and PGlite needs the element type, so the cast says which. One parameter however
// many values (an `IN` list has one each, and an empty one is a syntax error).

/** `ANY($n::uuid[])`, for `where(column, '=', anyUuid(ids))`. */
export const anyUuid = (ids: readonly string[]) => sql<string>`ANY(${ids}::uuid[])`;

/** `ANY($n::text[])`, for `where(column, '=', anyText(values))`. */
export const anyText = (values: readonly string[]) => sql<string>`ANY(${values}::text[])`;

/** `ANY($n::bigint[])`, for `where(column, '=', anyBigint(ids))` over bigserial ids. */
export const anyBigint = (ids: readonly number[]) => sql<number>`ANY(${ids}::bigint[])`;

/** `$n::uuid[]`: a uuid[] value to write. */
export const uuidArray = (ids: readonly string[]) => sql<string[]>`${ids}::uuid[]`;

/** `$n::text[]`: a text[] value to write. */
export const textArray = (values: readonly string[]) => sql<string[]>`${values}::text[]`;
