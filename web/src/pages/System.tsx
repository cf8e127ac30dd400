import { useQuery } from '@tanstack/react-query';
import type { Outputs } from '../lib/trpc.ts';
import { trpc } from '../lib/trpc-query.ts';
import type { Me } from '../lib/auth.ts';
import { ago, counted, dateTime, percent } from '../lib/format.ts';
import { Link } from '../lib/router.tsx';
import { engineWords, SINK_PURPOSE, STORE_PURPOSE } from '../lib/stores.ts';
import { Card, Empty, PageHeader, QueryView } from '../components/ui.tsx';

type Status = Outputs['system']['status'];
type Counts = Status['organization']['quarantined'];

const REFRESH_MS = 30_000;
/** The newest errors shown; the rest stay in the documents store. */
const ERRORS_SHOWN = 8;

/** "12 records" per destination; at the cap, "at least". */
function QuarantineCounts({ counts, cap }: { counts: Counts; cap: number }) {
  const total = counts.reduce((sum, row) => sum + row.count, 0);
  if (total === 0) return <p>Every record devices sent was stored.</p>;
  return (
    <ul className="plain">
      {counts.map((row) => (
        <li key={row.name}>
          {total >= cap ? 'At least ' : ''}{counted(row.count, 'record')} meant for {(SINK_PURPOSE[row.name] ?? row.name).toLowerCase()}
        </li>
      ))}
    </ul>
  );
}

/** The organization's devices' and agents' errors in the last hour, newest first. */
function RecentErrors() {
  const errors = useQuery(trpc.logs.recentErrors.queryOptions(undefined, { refetchInterval: 5 * 60_000 }));
  return (
    <QueryView query={errors} empty={(rows) => (rows.length === 0 ? <Empty title="No errors in the last hour" /> : null)}>
      {(rows) => (
        <ul className="plain errors-list">
          {rows.slice(0, ERRORS_SHOWN).map((row) => (
            <li key={row.id}>
              <span className="muted small" title={dateTime(row.timestamp)}>{ago(row.timestamp)}</span>{' '}
              {row.deviceId ? <Link to={`/devices/${row.deviceId}`}>on a device</Link> : null} {row.message}
            </li>
          ))}
        </ul>
      )}
    </QueryView>
  );
}

type Server = NonNullable<Status['server']>;

/** The cache's hit rate since the server started, against the strategy's target. */
function CacheHitRate({ cache }: { cache: Server['cache'] }) {
  if (cache.ratio === null) return <p>Nothing has been read from the cache yet.</p>;
  const good = cache.ratio >= cache.target;
  return (
    <>
      <p>
        <strong className={good ? undefined : 'bad-text'}>{percent(cache.ratio * 100)}</strong> of reads found their value in the cache
        {' '}(target: above {percent(cache.target * 100, 0)}).
      </p>
      <p className="muted small">
        {counted(cache.hits, 'hit')} and {counted(cache.misses, 'miss', 'misses')} since the server started.
        {good ? '' : ' Below the target, pages wait on the database more often: the cache may be too small, evicting, or restarted lately.'}
      </p>
    </>
  );
}

/** Slow queries and other problems of the server itself, newest first; they resolve after an hour without recurring. */
function SystemAlerts({ alerts }: { alerts: Server['alerts'] }) {
  if (alerts.length === 0) return <p>No slow queries so far.</p>;
  return (
    <ul className="plain" aria-label="System alerts">
      {alerts.map((alert) => (
        <li key={alert.id}>
          <span className={`dot ${alert.state === 'resolved' ? 'dot-ok' : 'dot-bad'}`} aria-hidden="true" />
          {alert.title}
          <span className="muted small">
            {' '}{alert.state === 'resolved' ? `resolved ${ago(alert.resolvedAt)}` : `seen ${counted(alert.occurrences, 'time')}, last ${ago(alert.lastSeenAt)}`}
          </span>
          {alert.query ? <pre className="small">{alert.query}</pre> : null}
        </li>
      ))}
    </ul>
  );
}

function ServerHealth({ server, cap }: { server: Server; cap: number }) {
  return (
    <>
      <Card title="Cache hit rate"><CacheHitRate cache={server.cache} /></Card>
      <Card title="Slow queries"><SystemAlerts alerts={server.alerts} /></Card>
      <Card title="Stores">
        <p className="muted small">{server.ready ? 'Every store answers.' : 'A store does not answer: what it keeps waits in the ingest log and nothing is lost, but pages that read it show errors.'}</p>
        <ul className="health" aria-label="Store health">
          {server.stores.map((store) => (
            <li key={store.name}>
              <span className={`dot ${store.ok ? 'dot-ok' : 'dot-bad'}`} aria-hidden="true" />
              <strong>{STORE_PURPOSE[store.name] ?? store.name}</strong> <span className="muted">{engineWords(store.engine)}</span>
              <span className="num">{store.ok ? `answers in ${store.latencyMs.toFixed(1)} ms` : <span className="bad-text">{store.error}</span>}</span>
              <span className="sr-only">{store.ok ? 'healthy' : 'failing'}</span>
            </li>
          ))}
        </ul>
      </Card>
      <Card title="Waiting to be stored">
        <p className="muted small">Records devices sent that are safely logged and not yet written to each store. A number that keeps growing means that store is down or slow.</p>
        {server.backlog.length === 0 ? <p>No store writer has started yet.</p> : (
          <ul className="plain" aria-label="Backlog per store">
            {server.backlog.map((row) => <li key={row.name}>{SINK_PURPOSE[row.name] ?? row.name}: {counted(row.count, 'record')} waiting</li>)}
          </ul>
        )}
      </Card>
      <Card title="Not stored, every organization">
        <QuarantineCounts counts={server.quarantined} cap={cap} />
      </Card>
    </>
  );
}

/**
 * The technical side, for admins: this organization's errors and records the server could not
 * store; for the admins of the organization that runs the server, its stores and backlogs too.
 */
export function SystemPage({ me }: { me: Me }) {
  const status = useQuery(trpc.system.status.queryOptions(undefined, { refetchInterval: REFRESH_MS }));
  return (
    <>
      <PageHeader title="System" />
      <div className="grid-2">
        <Card title="Errors in the last hour"><RecentErrors /></Card>
        <Card title={`Not stored, ${me.organizationName ?? 'this organization'}`}>
          <QueryView query={status}>{(data) => <QuarantineCounts counts={data.organization.quarantined} cap={data.organization.countCap} />}</QueryView>
          <Link to="/quarantine" className="small">See the records</Link>
        </Card>
        <QueryView query={status}>
          {(data) => (data.server ? <ServerHealth server={data.server} cap={data.organization.countCap} /> : (
            <p className="muted">The server's stores are looked after by the people who run it.</p>
          ))}
        </QueryView>
      </div>
    </>
  );
}
