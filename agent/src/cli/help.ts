import { DEFAULT_SAMPLE_INTERVAL_MS } from '@ninjait/shared';
import { DEFAULT_BUFFER_MAX_MB } from '../defaults.ts';

const GLOBAL = `Global options:
  --data-dir DIR        Keep config and data in DIR (env NINJAIT_DATA_DIR).
                        Default: Linux /etc/ninjait (config) + /var/lib/ninjait (data),
                        macOS /Library/Application Support/NinjaIT, Windows %ProgramData%\\NinjaIT
  --interval-ms MS      Sampling and heartbeat interval (env NINJAIT_INTERVAL_MS;
                        default: the server's, else ${DEFAULT_SAMPLE_INTERVAL_MS})
  --buffer-max-mb MB    Cap on unsent data kept locally; the oldest is dropped beyond it
                        (env AGENT_BUFFER_MAX_MB; default ${DEFAULT_BUFFER_MAX_MB})
  -h, --help            Show help
Logs: JSON (pino); level from LOG_LEVEL (default info for run, warn otherwise).
Exit codes: 0 ok, 1 failure, 2 usage error, 3 not enrolled, 4 refused by the server.`;

export const HELP = {
  main: `Usage: ninjait-agent <command> [options]

NinjaIT endpoint agent: collects health metrics and inventory, buffers them durably,
and streams them to the NinjaIT server.

Commands:
  enroll    Register this machine with a server using an enrollment token
  run       Run the agent in the foreground (what the service runs)
  status    Show enrollment and local buffer state

Run "ninjait-agent <command> --help" for details.

${GLOBAL}
  -v, --version         Print the agent version
`,
  enroll: `Usage: ninjait-agent enroll --server URL --token TOKEN [options]

Registers this machine: collects its inventory, trades the token for device credentials,
and writes them to the config file (mode 0600). Running it again on an enrolled machine
re-enrolls it; the server keeps the same device record for the same machine.

Options:
  --server URL          Server base URL, e.g. https://rmm.example.com (env NINJAIT_SERVER)
  --token TOKEN         Enrollment token from the console or "ninjait token create" (env NINJAIT_TOKEN)

${GLOBAL}
`,
  run: `Usage: ninjait-agent run [options]

Runs the agent until SIGINT/SIGTERM: samples now and every interval, sends inventory hourly,
keeps everything in the local outbox until the server acknowledges it, and heartbeats.

${GLOBAL}
`,
  status: `Usage: ninjait-agent status [--json] [options]

Shows whether this machine is enrolled, with which server and device id, and the state of
the local outbox (buffered records and bytes, dropped records, next sequence number).
Safe to run while the agent is running.

Options:
  --json                Print machine-readable JSON

${GLOBAL}
`,
} as const;
