import { useEffect, useRef, useState, type FormEvent } from 'react';
import { useQueryClient } from '@tanstack/react-query';
import { useSubscription } from '@trpc/tanstack-react-query';
import type { inferRouterOutputs } from '@trpc/server';
import type { AppRouter } from '@ninjait/server/router';
import { api } from '../lib/trpc.ts';
import { trpc } from '../lib/trpc-query.ts';
import { CopyButton, ErrorNote, StatusBadge } from '../components/ui.tsx';

export const SHELLS = ['sh', 'bash', 'powershell', 'cmd'] as const;
const FINAL = new Set(['succeeded', 'failed', 'timed_out', 'cancelled', 'expired']);

type Yielded<T> = T extends AsyncIterable<infer U> ? U : T;
/** Events of `commands.output`: stored chunks first, then live ones, then one result. */
export type OutputEvent = Yielded<inferRouterOutputs<AppRouter>['commands']['output']>;

interface Chunk {
  seq: number;
  stream: 'stdout' | 'stderr';
  data: string;
}

export function defaultShell(osType: string | null | undefined): (typeof SHELLS)[number] {
  return osType?.toLowerCase().startsWith('win') ? 'powershell' : 'sh';
}

/** Streams one command's output; replays what is stored, then follows live until the result. */
export function CommandOutput({ commandId, onFinished }: { commandId: string; onFinished?: () => void }) {
  const [chunks, setChunks] = useState<Chunk[]>([]);
  const [status, setStatus] = useState('queued');
  const [result, setResult] = useState<Extract<OutputEvent, { type: 'result' }> | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [cancelling, setCancelling] = useState(false);
  const pre = useRef<HTMLPreElement>(null);
  const finished = useRef(onFinished);
  finished.current = onFinished;

  // Another command starts from nothing; declared before the subscription so it runs before it resubscribes.
  useEffect(() => {
    setChunks([]);
    setResult(null);
    setStatus('queued');
  }, [commandId]);
  useSubscription(trpc.commands.output.subscriptionOptions({ id: commandId }, {
    onData: (event: OutputEvent) => {
      if (event.type === 'chunk') {
        setChunks((previous) => (previous.some((c) => c.seq === event.seq) ? previous : [...previous, event].sort((a, b) => a.seq - b.seq)));
      } else if (event.type === 'status') setStatus(event.status);
      else {
        setStatus(event.status);
        setResult(event);
        finished.current?.();
      }
    },
    onError: setError,
  }));

  useEffect(() => {
    if (pre.current) pre.current.scrollTop = pre.current.scrollHeight;
  }, [chunks]);

  const cancel = async () => {
    setCancelling(true);
    try {
      await api().commands.cancel.mutate({ id: commandId });
    } catch (caught) {
      setError(caught);
    } finally {
      setCancelling(false);
    }
  };

  return (
    <div className="command-output" data-command-id={commandId}>
      <div className="row">
        <StatusBadge status={status} />
        {result ? <span className="muted small">exit code {result.exitCode ?? '—'}{result.outputTruncated ? ' · output truncated' : ''}</span> : null}
        {result?.error ? <span className="bad-text small">{result.error}</span> : null}
        <div className="spacer" />
        {chunks.length > 0 ? <CopyButton text={chunks.map((chunk) => chunk.data).join('')} label="Copy output" /> : null}
        {!FINAL.has(status) ? (
          <button type="button" className="secondary small" onClick={() => void cancel()} disabled={cancelling}>{cancelling ? 'Cancelling…' : 'Cancel'}</button>
        ) : null}
      </div>
      {error ? <ErrorNote error={error} /> : null}
      <pre ref={pre} className="terminal" aria-label="Command output" aria-live="polite" tabIndex={0}>
        {chunks.length === 0 && !result ? <span className="muted">Waiting for output…</span> : null}
        {chunks.map((chunk) => <span key={chunk.seq} className={chunk.stream === 'stderr' ? 'stderr' : undefined}>{chunk.data}</span>)}
        {result && chunks.length === 0 ? <span className="muted">(no output)</span> : null}
      </pre>
    </div>
  );
}

/** Technicians and above: run a command on this device and watch it live. */
export function CommandPanel({ deviceId, osType }: { deviceId: string; osType: string | null }) {
  const queryClient = useQueryClient();
  const [shell, setShell] = useState<(typeof SHELLS)[number]>(defaultShell(osType));
  const [script, setScript] = useState('');
  const [timeoutSec, setTimeoutSec] = useState(300);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [commandId, setCommandId] = useState<string | null>(null);

  const run = async (event: FormEvent) => {
    event.preventDefault();
    if (!script.trim()) return setError(new Error('Type a command to run.'));
    setBusy(true);
    setError(null);
    try {
      const command = await api().commands.run.mutate({ deviceId, shell, script, timeoutSec });
      setCommandId(command.id);
      void queryClient.invalidateQueries(trpc.commands.list.pathFilter());
    } catch (caught) {
      setError(caught);
    } finally {
      setBusy(false);
    }
  };

  return (
    <section className="card" aria-labelledby="run-title">
      <h2 id="run-title">Run a command</h2>
      <form className="command-form" onSubmit={(e) => void run(e)}>
        <div className="row wrap">
          <label>
            Shell
            <select value={shell} onChange={(e) => setShell(e.target.value as (typeof SHELLS)[number])}>
              {SHELLS.map((s) => <option key={s} value={s}>{s}</option>)}
            </select>
          </label>
          <label>
            Timeout (s)
            <input type="number" min={1} max={86_400} value={timeoutSec} onChange={(e) => setTimeoutSec(Number(e.target.value))} className="narrow" />
          </label>
        </div>
        <label>
          Command
          <textarea
            name="script"
            rows={3}
            spellCheck={false}
            placeholder="e.g. uptime"
            value={script}
            onChange={(e) => setScript(e.target.value)}
            onKeyDown={(e) => {
              if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) void run(e);
            }}
          />
        </label>
        <div className="row">
          <button type="submit" disabled={busy}>{busy ? 'Sending…' : 'Run'}</button>
          <span className="muted small">Ctrl+Enter runs. Every command is audited.</span>
        </div>
        {error ? <ErrorNote error={error} /> : null}
      </form>
      {commandId ? (
        <CommandOutput commandId={commandId} onFinished={() => void queryClient.invalidateQueries(trpc.commands.list.pathFilter())} />
      ) : null}
    </section>
  );
}
