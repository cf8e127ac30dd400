import { readLocalAdminToken } from '../../features/auth/local-admin.ts';
import { SHELLS, type Shell } from '../../features/commands/types.ts';
import { parse, UsageError, type Command } from '../args.ts';
import { localAdminSocket, serverUrl } from '../client.ts';

const usage = `
Usage: ninjait shell [options] <device>

Opens a terminal on a device (id or name): a real pseudo-terminal where the agent has one
(full-screen programs, colours, Ctrl-C and Ctrl-Z to the running program, resizing follows this
window), else a piped shell, which is said when it opens. Your keys go to the device as typed;
Ctrl-] ends the session. The session is recorded and audited as "local-admin".

Options:
  --org ORG          organization (name or id) when several devices share the name
  --shell SHELL      sh | bash | powershell | cmd (default: the device OS's shell)
  --idle SEC         close the session after SEC seconds without input or output (default 900)
  --server URL       server to talk to (default http://127.0.0.1:$PORT, or $NINJAIT_SERVER)
  --data-dir DIR     the server's DATA_DIR (default $DATA_DIR or ./data)`;

/** Ctrl-]: the telnet escape, which no shell program needs. */
const ESCAPE = '\x1d';

const sizeOf = () => ({
  cols: Math.min(1000, Math.max(2, process.stdout.columns || 80)),
  rows: Math.min(500, Math.max(2, process.stdout.rows || 24)),
});

export const shellCommand: Command = {
  usage,
  async run(argv) {
    const { values, positionals } = parse(argv, {
      org: { type: 'string' }, shell: { type: 'string' }, idle: { type: 'string' }, server: { type: 'string' }, 'data-dir': { type: 'string' },
    }, usage, true);
    const [device, ...extra] = positionals;
    if (!device || extra.length > 0) throw new UsageError(`One device is needed.\n${usage}`);
    if (values.shell !== undefined && !SHELLS.includes(values.shell as Shell)) throw new UsageError(`--shell must be one of ${SHELLS.join(', ')}`);
    const idle = values.idle === undefined ? undefined : Number(values.idle);
    if (idle !== undefined && (!Number.isInteger(idle) || idle < 5 || idle > 14_400)) throw new UsageError('--idle needs a whole number of seconds from 5 to 14400');
    const dataDir = values['data-dir'] ?? process.env.DATA_DIR ?? './data';
    const token = await readLocalAdminToken(dataDir);
    if (!token) throw new UsageError(`No local admin credential in ${dataDir}: is the server running with DATA_DIR=${dataDir}? (use --data-dir)`);

    const { client, close } = localAdminSocket(serverUrl(values), token);
    const stdin = process.stdin;
    const raw = stdin.isTTY;
    // Set when the session opens: takes this terminal back (listeners, raw mode) however it ends.
    let detach: () => void = () => undefined;
    try {
      const session = await client.shell.local.open.mutate({
        device, org: values.org, shell: values.shell as Shell | undefined, ...(idle === undefined ? {} : { idleTimeoutSec: idle }), ...sizeOf(),
      });
      const { sessionId } = session;
      // Keys go in order, one request at a time; what is typed meanwhile goes together next.
      let pending = '';
      let sending: Promise<void> | null = null;
      const send = () => {
        if (sending || pending === '') return;
        const data = pending.slice(0, 16 * 1024);
        pending = pending.slice(data.length);
        sending = client.shell.local.input.mutate({ sessionId, data }).then(() => undefined, () => undefined).finally(() => {
          sending = null;
          send();
        });
      };
      const onKeys = (chunk: Buffer | string) => {
        const text = chunk.toString();
        const escape = text.indexOf(ESCAPE);
        if (escape >= 0) {
          pending += text.slice(0, escape);
          send();
          void client.shell.local.close.mutate({ sessionId }).catch(() => undefined);
          return;
        }
        pending += text;
        send();
      };
      const onResize = () => void client.shell.local.resize.mutate({ sessionId, ...sizeOf() }).catch(() => undefined);

      return await new Promise<number>((resolve, reject) => {
        const subscription = client.shell.local.output.subscribe({ sessionId }, {
          onData(event) {
            if (event.type === 'opened') {
              if (event.pty === false) process.stderr.write('(no pseudo-terminal on this device: a piped shell, without line editing, full-screen programs or resizing)\r\n');
              if (raw) stdin.setRawMode(true);
              stdin.on('data', onKeys);
              stdin.resume();
              process.stdout.on('resize', onResize);
              process.on('SIGWINCH', onResize);
              detach = () => {
                stdin.off('data', onKeys);
                process.stdout.off('resize', onResize);
                process.off('SIGWINCH', onResize);
              };
            }
            if (event.type === 'output') process.stdout.write(event.data);
            if (event.type === 'closed') {
              subscription.unsubscribe();
              process.stderr.write(`\r\n(session closed: ${event.reason})\r\n`);
              resolve(event.exitCode ?? 0);
            }
          },
          onError: reject,
        });
      });
    } finally {
      detach();
      if (raw && stdin.isRaw) stdin.setRawMode(false);
      stdin.pause();
      await close();
    }
  },
};
