import { isIP } from 'node:net';
import type { Logger } from '../../platform/obs/logger.ts';
import type { SqlExecutor } from '../../stores/relational/index.ts';
import { recordCredentialRefusal, selectCredentialRefusal } from './repository.ts';

/**
 * A device whose agent keeps presenting a secret the server refuses: the console says so, with
 * when it started and from which address, so an admin knows to re-enroll it with a token.
 * The socket that presented the secret is not authenticated, so everything here is bounded:
 * each device is written at most once per RECORD_INTERVAL_MS (here and in SQL, for several
 * instances), and one instance records at most MAX_RECORDS_PER_SECOND devices a second whatever
 * ids a flood names, so the database sees a trickle however many sockets knock.
 */
export const CREDENTIAL_REFUSAL_RECORD_INTERVAL_MS = 60_000;
const MAX_RECORDS_PER_SECOND = 10;
/** Devices this instance remembers having recorded; the oldest are forgotten first. */
const MAX_REMEMBERED_DEVICES = 10_000;

/** What people see of a device's refused credentials, or null when its agent has connected since. */
export interface CredentialRefusal {
  /** The first refusal since the agent last connected with valid credentials. */
  since: string;
  /** The latest recorded refusal (recorded at most once a minute). */
  lastAt: string;
  /** The address the refused socket came from, as the server saw it. */
  from: string | null;
}

/** Dates as JSON from PostgreSQL (the repository's refusal expression), made ISO strings; anything else is no refusal. */
export function toCredentialRefusal(raw: unknown): CredentialRefusal | null {
  if (!raw || typeof raw !== 'object') return null;
  const { since, lastAt, from } = raw as Record<string, unknown>;
  const iso = (value: unknown) => (typeof value === 'string' && !Number.isNaN(Date.parse(value)) ? new Date(value).toISOString() : null);
  const first = iso(since);
  const last = iso(lastAt);
  if (!first || !last) return null;
  return { since: first, lastAt: last, from: typeof from === 'string' ? from : null };
}

/** One device's refusal, or null (another organization's device is simply null). */
export async function getCredentialRefusal(db: SqlExecutor, organizationId: string, deviceId: string): Promise<CredentialRefusal | null> {
  return toCredentialRefusal(await selectCredentialRefusal(db, organizationId, deviceId));
}

/**
 * Writes one refusal unless this device was written within the interval. A new streak starts
 * when the device connected with valid credentials since the last refusal. Unknown and retired
 * devices match no row: nothing is written for them.
 */
export async function writeCredentialRefusal(db: SqlExecutor, deviceId: string, ip: string | null): Promise<boolean> {
  return recordCredentialRefusal(db, deviceId, ip && isIP(ip) ? ip : null, CREDENTIAL_REFUSAL_RECORD_INTERVAL_MS);
}

export interface CredentialRefusalRecorder {
  /** Never throws and never waits for the database: the caller is answering a socket. */
  record(deviceId: string, ip: string | null): void;
}

/** The per-instance throttle in front of `writeCredentialRefusal`; `now` is injectable for tests. */
export function createCredentialRefusalRecorder(db: SqlExecutor, log: Logger, now: () => number = Date.now): CredentialRefusalRecorder {
  const recorded = new Map<string, number>();
  let second = 0;
  let inSecond = 0;
  return {
    record(deviceId, ip) {
      const t = now();
      const last = recorded.get(deviceId);
      if (last !== undefined && t - last < CREDENTIAL_REFUSAL_RECORD_INTERVAL_MS) return;
      const thisSecond = Math.floor(t / 1000);
      if (thisSecond !== second) {
        second = thisSecond;
        inSecond = 0;
      }
      if (inSecond >= MAX_RECORDS_PER_SECOND) return;
      inSecond += 1;
      recorded.delete(deviceId);
      recorded.set(deviceId, t);
      if (recorded.size > MAX_REMEMBERED_DEVICES) recorded.delete(recorded.keys().next().value!);
      void writeCredentialRefusal(db, deviceId, ip).then((written) => {
        if (written) log.warn({ deviceId, ip }, 'a device presented credentials the server does not accept');
      }, (error: unknown) => {
        log.warn({ err: error, deviceId }, 'could not record refused device credentials');
      });
    },
  };
}
