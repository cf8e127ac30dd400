import { useEffect, useRef, useState, type FormEvent } from 'react';
import { api } from '../lib/trpc.ts';

interface Subscription {
  unsubscribe(): void;
}
import { ErrorNote } from '../components/ui.tsx';
import { SHELLS, defaultShell } from './CommandPanel.tsx';

/** What `shell.output` yields: output, then one `closed`. */
type ShellEvent =
  | { type: 'opened'; sessionId: string }
  | { type: 'output'; seq: number; stream: 'stdout' | 'stderr'; data: string }
  | { type: 'closed'; reason: string; exitCode: number | null };

/** Keeps the scrollback bounded: a shell can print forever. */
const MAX_SCROLLBACK_CHARS = 200_000;

/** An interactive shell on the device: input line in, output streamed back (`shell.*`). */
export function ShellPanel({ deviceId, osType }: { deviceId: string; osType: string | null }) {
  const [shell, setShell] = useState<(typeof SHELLS)[number]>(defaultShell(osType));
  const [sessionId, setSessionId] = useState<string | null>(null);
  const [output, setOutput] = useState('');
  const [line, setLine] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [closed, setClosed] = useState<string | null>(null);
  const subscription = useRef<Subscription | null>(null);
  const pre = useRef<HTMLPreElement>(null);

  useEffect(() => () => subscription.current?.unsubscribe(), []);
  useEffect(() => {
    if (pre.current) pre.current.scrollTop = pre.current.scrollHeight;
  }, [output]);

  const open = async () => {
    setError(null);
    setClosed(null);
    setOutput('');
    try {
      const { sessionId: id } = await api().shell.open.mutate({ deviceId, shell });
      setSessionId(id);
      subscription.current = api().shell.output.subscribe({ sessionId: id }, {
        onData: (event: ShellEvent) => {
          if (event.type === 'output') setOutput((previous) => (previous + event.data).slice(-MAX_SCROLLBACK_CHARS));
          else if (event.type === 'closed') {
            setClosed(`Session closed: ${event.reason}${event.exitCode !== null ? ` (exit code ${event.exitCode})` : ''}`);
            setSessionId(null);
          }
        },
        onError: setError,
        onComplete: () => setSessionId(null),
      });
    } catch (caught) {
      setError(caught);
    }
  };

  const send = async (data: string) => {
    if (!sessionId) return;
    try {
      await api().shell.input.mutate({ sessionId, data });
    } catch (caught) {
      setError(caught);
    }
  };

  const submit = (event: FormEvent) => {
    event.preventDefault();
    void send(`${line}\n`);
    setLine('');
  };

  const close = async () => {
    if (sessionId) await api().shell.close.mutate({ sessionId }).catch(setError);
    subscription.current?.unsubscribe();
    subscription.current = null;
    setSessionId(null);
    setClosed('Session closed');
  };

  return (
    <section className="card" aria-labelledby="shell-title">
      <div className="card-head">
        <h2 id="shell-title">Interactive shell</h2>
        {!sessionId ? (
          <div className="row">
            <label>
              <span className="sr-only">Shell</span>
              <select value={shell} onChange={(e) => setShell(e.target.value as (typeof SHELLS)[number])} aria-label="Shell">
                {SHELLS.map((s) => <option key={s} value={s}>{s}</option>)}
              </select>
            </label>
            <button type="button" onClick={() => void open()}>Open shell</button>
          </div>
        ) : (
          <div className="row">
            <button type="button" className="secondary small" onClick={() => void send('\u0003')}>Send Ctrl-C</button>
            <button type="button" className="secondary small" onClick={() => void close()}>Close</button>
          </div>
        )}
      </div>
      {error ? <ErrorNote error={error} /> : null}
      {sessionId || output ? (
        <>
          <pre ref={pre} className="terminal tall" aria-label="Shell output" aria-live="polite" tabIndex={0}>{output || 'Connected. Type a command below.'}</pre>
          {sessionId ? (
            <form onSubmit={submit} className="shell-input">
              <label className="grow">
                <span className="sr-only">Shell input</span>
                <input value={line} onChange={(e) => setLine(e.target.value)} spellCheck={false} autoComplete="off" placeholder="Type and press Enter" className="mono" />
              </label>
              <button type="submit">Send</button>
            </form>
          ) : null}
        </>
      ) : null}
      {closed ? <p className="muted small">{closed}</p> : null}
      {!sessionId && !output && !error ? <p className="muted small">Opens a live shell on the device; it closes after a while without input. Sessions are audited.</p> : null}
    </section>
  );
}
