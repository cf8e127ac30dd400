import { useConnection } from '../lib/connection.ts';
import { ago } from '../lib/format.ts';
import { useNow } from '../lib/use-now.ts';

/** Says the server stopped answering, and since when; gone by itself once it answers again. */
export function ConnectionBanner() {
  const connection = useConnection();
  const now = useNow(5_000);
  if (connection.reachable) return null;
  return (
    <div className="connection-banner" role="alert" data-testid="connection-banner">
      <strong>Connection to the server lost - retrying…</strong>{' '}
      <span>values below may be out of date (lost {ago(connection.lostAt, Math.max(now, connection.lostAt ?? 0))}).</span>
    </div>
  );
}
