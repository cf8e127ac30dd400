import { readLocalAdminToken } from '../../features/auth/local-admin.ts';
import { SHELLS, type Shell } from '../../features/commands/types.ts';
import { DEFAULT_TIMEOUT_SEC } from '../../features/commands/limits.ts';
import { parse, UsageError, type Command } from '../args.ts';
import { localAdminSocket, serverUrl } from '../client.ts';

const usage = `
Usage: ninjait run [options] <device> -- <command...>

Runs a command on a device (id or name) and streams its output here; exits with the
remote exit code (124 timed out, 125 expired, 130 cancelled). Ctrl-C cancels the command.
Acts as the local administrator (credential in DATA_DIR), audited as "local-admin".

Options:
  --org ORG          organization (name or id) when several devices share the name
  --shell SHELL      sh | bash | powershell | cmd (default: the device OS's shell)
  --timeout SEC      kill the command after SEC seconds (default ${DEFAULT_TIMEOUT_SEC})
  --expires SEC      wait at most SEC seconds for an offline device (default 3600)
  --server URL       server to talk to (default http://127.0.0.1:$PORT, or $NINJAIT_SERVER)
  --data-dir DIR     the server's DATA_DIR (default $DATA_DIR or ./data)`;

const STATUS_EXIT: Record<string, number> = { timed_out: 124, expired: 125, cancelled: 130 };

const intFlag = (value: string | undefined, name: string): number | undefined => {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new UsageError(`--${name} needs a whole number of seconds`);
  return n;
};

export const runCommand: Command = {
  usage,
  async run(argv) {
    const { values, positionals } = parse(argv, {
      org: { type: 'string' }, shell: { type: 'string' }, timeout: { type: 'string' }, expires: { type: 'string' },
      server: { type: 'string' }, 'data-dir': { type: 'string' },
    }, usage, true);
    const [device, ...words] = positionals;
    if (!device || words.length === 0) throw new UsageError(`A device and a command are needed.\n${usage}`);
    if (values.shell !== undefined && !SHELLS.includes(values.shell as Shell)) throw new UsageError(`--shell must be one of ${SHELLS.join(', ')}`);
    const dataDir = values['data-dir'] ?? process.env.DATA_DIR ?? './data';
    const token = await readLocalAdminToken(dataDir);
    if (!token) throw new UsageError(`No local admin credential in ${dataDir}: is the server running with DATA_DIR=${dataDir}? (use --data-dir)`);

    const { client, close } = localAdminSocket(serverUrl(values), token);
    try {
      const command = await client.commands.local.run.mutate({
        device, org: values.org, shell: values.shell as Shell | undefined, script: words.join(' '),
        timeoutSec: intFlag(values.timeout, 'timeout') ?? DEFAULT_TIMEOUT_SEC, expiresInSec: intFlag(values.expires, 'expires') ?? 3600,
      });
      const onInterrupt = () => {
        process.stderr.write('\ncancelling…\n');
        client.commands.local.cancel.mutate({ id: command.id }).catch(() => undefined);
      };
      process.once('SIGINT', onInterrupt);
      try {
        return await new Promise<number>((resolve, reject) => {
          const subscription = client.commands.local.output.subscribe({ id: command.id }, {
            onData(event) {
              if (event.type === 'chunk') (event.stream === 'stderr' ? process.stderr : process.stdout).write(event.data);
              if (event.type === 'status' && event.status === 'queued') process.stderr.write('(device offline: queued until it connects)\n');
              if (event.type !== 'result') return;
              subscription.unsubscribe();
              if (event.outputTruncated) process.stderr.write('(output truncated at 1 MiB)\n');
              if (event.status !== 'succeeded' && event.status !== 'failed') process.stderr.write(`command ${event.status}${event.error ? `: ${event.error}` : ''}\n`);
              resolve(event.exitCode ?? STATUS_EXIT[event.status] ?? 1);
            },
            onError: reject,
          });
        });
      } finally {
        process.off('SIGINT', onInterrupt);
      }
    } finally {
      await close();
    }
  },
};
