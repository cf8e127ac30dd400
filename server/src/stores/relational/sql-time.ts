import { sql } from 'kysely';

// Times relative to the database's clock (NOW()), so instances whose clocks differ agree on
// leases and cut-offs. Each value travels as one parameter.

/** `NOW() - make_interval(secs => $n)`: the cut-off `seconds` ago. */
export const secondsAgo = (seconds: number) => sql<Date>`NOW() - make_interval(secs => ${seconds})`;

/** `NOW() + make_interval(secs => $n / 1000.0)`: when a lease of `ms` taken now ends. */
export const msFromNow = (ms: number) => sql<Date>`NOW() + make_interval(secs => ${ms} / 1000.0)`;
