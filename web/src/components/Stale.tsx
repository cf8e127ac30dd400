import type { ReactNode } from 'react';
import { useConnection } from '../lib/connection.ts';
import { ago, dateTime } from '../lib/format.ts';
import { useNow } from '../lib/use-now.ts';

/**
 * Live values that may be out of date: greyed, with when they were last updated, while the server
 * does not answer (or when `stale` says so for another reason, e.g. the device went quiet).
 */
export function Stale({ updatedAt, stale, children, className }: {
  updatedAt: Date | string | number | null | undefined;
  stale?: boolean;
  children: ReactNode;
  className?: string;
}) {
  const connection = useConnection();
  const now = useNow(5_000);
  const isStale = stale === true || !connection.reachable;
  return (
    <div className={`${className ?? ''} ${isStale ? 'stale' : ''}`.trim()} data-stale={isStale ? 'true' : 'false'}>
      {children}
      {isStale ? (
        <p className="stale-note small" title={dateTime(updatedAt)}>
          Last updated {ago(updatedAt, now)}{connection.reachable ? '' : ' · the server is not answering'}
        </p>
      ) : null}
    </div>
  );
}
