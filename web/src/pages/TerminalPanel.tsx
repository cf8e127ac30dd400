import { useEffect, useRef, useState } from 'react';
import { Terminal } from '@xterm/xterm';
import { FitAddon } from '@xterm/addon-fit';
import '@xterm/xterm/css/xterm.css';
import { api } from '../lib/trpc.ts';
import { ErrorNote } from '../components/ui.tsx';
import { SHELLS, defaultShell } from './CommandPanel.tsx';

type ShellEvent =
  | { type: 'opened'; sessionId: string; pty?: boolean }
  | { type: 'output'; seq: number; stream: 'stdout' | 'stderr'; data: string }
  | { type: 'closed'; reason: string; exitCode: number | null };

/**
 * A terminal on the device (xterm.js over `shell.*`): keys go as typed, the size follows the
 * panel. Where the agent has no pseudo-terminal the session is a piped shell, and this says so.
 */
export function TerminalPanel({ deviceId, osType }: { deviceId: string; osType: string | null }) {
  const [shell, setShell] = useState<(typeof SHELLS)[number]>(defaultShell(osType));
  const [sessionId, setSessionId] = useState<string | null>(null);
  const [note, setNote] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  const host = useRef<HTMLDivElement>(null);
  const cleanup = useRef<(() => void) | null>(null);

  useEffect(() => () => cleanup.current?.(), []);

  const open = async () => {
    if (!host.current) return;
    cleanup.current?.();
    setError(null);
    setNote(null);
    const term = new Terminal({ convertEol: false, cursorBlink: true, fontSize: 13, scrollback: 5_000 });
    const fit = new FitAddon();
    term.loadAddon(fit);
    term.open(host.current);
    fit.fit();
    try {
      const { sessionId: id } = await api().shell.open.mutate({ deviceId, shell, cols: Math.max(2, term.cols), rows: Math.max(2, term.rows) });
      setSessionId(id);
      // Keys in order, one request at a time; what is typed meanwhile goes together next.
      let pending = '';
      let sending = false;
      const flush = () => {
        if (sending || !pending) return;
        const data = pending.slice(0, 16 * 1024);
        pending = pending.slice(data.length);
        sending = true;
        api().shell.input.mutate({ sessionId: id, data }).catch(setError).finally(() => {
          sending = false;
          flush();
        });
      };
      const keys = term.onData((data) => {
        pending += data;
        flush();
      });
      const resized = term.onResize(({ cols, rows }) => void api().shell.resize.mutate({ sessionId: id, cols, rows }).catch(() => undefined));
      const onWindow = () => fit.fit();
      window.addEventListener('resize', onWindow);
      const subscription = api().shell.output.subscribe({ sessionId: id }, {
        onData: (event: ShellEvent) => {
          if (event.type === 'opened' && event.pty === false) setNote('This device has no pseudo-terminal: a piped shell, without line editing, full-screen programs or resizing.');
          if (event.type === 'output') term.write(event.data);
          if (event.type === 'closed') {
            term.write(`\r\n[session closed: ${event.reason}]\r\n`);
            setSessionId(null);
          }
        },
        onError: setError,
      });
      term.focus();
      cleanup.current = () => {
        subscription.unsubscribe();
        keys.dispose();
        resized.dispose();
        window.removeEventListener('resize', onWindow);
        void api().shell.close.mutate({ sessionId: id }).catch(() => undefined);
        term.dispose();
      };
    } catch (caught) {
      term.dispose();
      setError(caught);
    }
  };

  const close = () => {
    cleanup.current?.();
    cleanup.current = null;
    setSessionId(null);
  };

  return (
    <section className="card" aria-labelledby="terminal-title">
      <div className="card-head">
        <h2 id="terminal-title">Terminal</h2>
        {!sessionId ? (
          <div className="row">
            <select value={shell} onChange={(e) => setShell(e.target.value as (typeof SHELLS)[number])} aria-label="Terminal shell">
              {SHELLS.map((s) => <option key={s} value={s}>{s}</option>)}
            </select>
            <button type="button" onClick={() => void open()}>Open terminal</button>
          </div>
        ) : (
          <button type="button" className="secondary small" onClick={close}>Close terminal</button>
        )}
      </div>
      {error ? <ErrorNote error={error} /> : null}
      {note ? <p className="muted small" role="status">{note}</p> : null}
      <div ref={host} className="xterm-host" style={{ height: 380 }} aria-label="Terminal" />
      <RecordingList deviceId={deviceId} />
    </section>
  );
}

interface RecordingRow { sessionId: string; userLabel: string; startedAt: string | Date; bytes: number; endedAt: string | Date | null }

/** Past sessions of this device, replayed with their timing (at most 2 s of silence between events). */
function RecordingList({ deviceId }: { deviceId: string }) {
  const [rows, setRows] = useState<RecordingRow[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const screen = useRef<HTMLDivElement>(null);
  const player = useRef<{ stop: () => void } | null>(null);
  useEffect(() => () => player.current?.stop(), []);

  const load = () => api().shell.recordings.query({ deviceId, limit: 20 }).then((r) => setRows(r as RecordingRow[]), setError);
  const replay = async (sessionId: string) => {
    player.current?.stop();
    if (!screen.current) return;
    const { asciicast } = await api().shell.recording.query({ sessionId });
    const [head, ...lines] = asciicast.trim().split('\n');
    const header = JSON.parse(head!) as { width: number; height: number };
    const term = new Terminal({ cols: header.width, rows: header.height, fontSize: 12, disableStdin: true });
    term.open(screen.current);
    const events = lines.map((line) => JSON.parse(line) as [number, string, string]);
    let stopped = false;
    player.current = { stop: () => { stopped = true; term.dispose(); } };
    let clock = 0;
    for (const [at, kind, data] of events) {
      if (stopped) return;
      await new Promise((resolve) => setTimeout(resolve, Math.min(2_000, Math.max(0, (at - clock) * 1000))));
      clock = at;
      if (kind === 'o') term.write(data);
      if (kind === 'r') {
        const [cols, rowsCount] = data.split('x').map(Number);
        if (cols && rowsCount) term.resize(cols, rowsCount);
      }
    }
  };

  return (
    <div className="recordings">
      <button type="button" className="secondary small" onClick={() => void load()}>Recorded sessions</button>
      {error ? <ErrorNote error={error} /> : null}
      {rows ? (
        <ul>
          {rows.length === 0 ? <li className="muted">No recorded sessions yet.</li> : null}
          {rows.map((r) => (
            <li key={r.sessionId}>
              {new Date(r.startedAt).toLocaleString()} · {r.userLabel} · {Math.ceil(r.bytes / 1024)} KiB{r.endedAt ? '' : ' · still open'}{' '}
              <button type="button" className="secondary small" onClick={() => void replay(r.sessionId).catch(setError)}>Replay</button>
            </li>
          ))}
        </ul>
      ) : null}
      <div ref={screen} aria-label="Recording replay" />
    </div>
  );
}
