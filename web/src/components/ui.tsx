import { useState, type ReactNode } from 'react';
import { errorMessage } from '../lib/query.ts';
import { label } from '../lib/format.ts';
import { useConnection } from '../lib/connection.ts';

/** Loading, or (while the server does not answer) waiting for it: queries pause then, they do not fail. */
export function Spinner({ text = 'Loading…' }: { text?: string }) {
  const connection = useConnection();
  return <p className="muted" role="status" aria-live="polite">{connection.reachable ? text : 'Waiting for the server to answer…'}</p>;
}

export function Empty({ title, children }: { title: string; children?: ReactNode }) {
  return (
    <div className="empty">
      <p className="empty-title">{title}</p>
      {children ? <div className="muted">{children}</div> : null}
    </div>
  );
}

export function ErrorNote({ error, onRetry }: { error: unknown; onRetry?: () => void }) {
  return (
    <div className="error" role="alert">
      <span>{errorMessage(error)}</span>
      {onRetry ? <button type="button" className="link" onClick={onRetry}>Try again</button> : null}
    </div>
  );
}

/** Renders a react-query result: spinner, error (or "not available"), empty state, or the content. */
export function QueryView<T>({ query, empty, children }: {
  query: { isPending: boolean; error: unknown; data: T | undefined; refetch: () => unknown };
  empty?: (data: T) => ReactNode | null;
  children: (data: T) => ReactNode;
}) {
  if (query.error) return <ErrorNote error={query.error} onRetry={() => void query.refetch()} />;
  if (query.isPending || query.data === undefined) return <Spinner />;
  const emptyView = empty?.(query.data);
  return <>{emptyView ?? children(query.data)}</>;
}

const STATUS_CLASS: Record<string, string> = {
  online: 'ok', succeeded: 'ok', active: 'ok', closed: 'muted', resolved: 'ok',
  offline: 'bad', failed: 'bad', timed_out: 'bad', revoked: 'bad', expired: 'warn', error: 'bad',
  pending: 'warn', queued: 'warn', sent: 'info', running: 'info', cancelled: 'muted', 'used up': 'muted',
  open: 'info', in_progress: 'info', decommissioned: 'muted',
};

export function StatusBadge({ status }: { status: string }) {
  return <span className={`badge badge-${STATUS_CLASS[status] ?? 'muted'}`}>{label(status)}</span>;
}

/** Copies text; falls back to selecting it where the clipboard API is refused. */
export function CopyButton({ text, label: name = 'Copy' }: { text: string; label?: string }) {
  const [state, setState] = useState<'idle' | 'copied' | 'failed'>('idle');
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(text);
      setState('copied');
    } catch {
      const area = document.createElement('textarea');
      area.value = text;
      document.body.append(area);
      area.select();
      const ok = document.execCommand('copy');
      area.remove();
      setState(ok ? 'copied' : 'failed');
    }
    setTimeout(() => setState('idle'), 2_000);
  };
  return (
    <button type="button" className="secondary small" onClick={() => void copy()} aria-live="polite">
      {state === 'copied' ? 'Copied' : state === 'failed' ? 'Copy failed: select the text' : name}
    </button>
  );
}

export function PageHeader({ title, children }: { title: string; children?: ReactNode }) {
  return (
    <header className="page-header">
      <h1>{title}</h1>
      {children ? <div className="page-actions">{children}</div> : null}
    </header>
  );
}

export function Card({ title, children, className }: { title?: string; children: ReactNode; className?: string }) {
  return (
    <section className={`card ${className ?? ''}`} aria-label={title}>
      {title ? <h2>{title}</h2> : null}
      {children}
    </section>
  );
}
