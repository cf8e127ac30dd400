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
re-enrolls it: it proves the device's current credentials to the same server, which keeps
the device; otherwise the server may hold it for an admin's approval (the agent says so).

Options:
  --server URL          Server base URL, e.g. https://rmm.example.com (env NINJAIT_SERVER)
  --token TOKEN         Enrollment token from the console or "ninjait token create" (env NINJAIT_TOKEN)
  --pin sha256/BASE64   https: trust exactly this server key (SHA-256 of its SubjectPublicKeyInfo,
                        base64), whoever signed the certificate: the way to use a self-signed one.
                        Repeat to allow several. Print it on the server with:
                        openssl x509 -in cert.pem -pubkey -noout | openssl pkey -pubin -outform der
                          | openssl dgst -sha256 -binary | base64
  --ca-file PEM         https without --pin: trust certificates signed by these CAs (instead of
                        the system's), e.g. a company CA
  --insecure            Allow plain http:// to a server beyond this machine (env NINJAIT_INSECURE=1):
                        the token, the device secret and all data then travel unencrypted. Needed
                        again on "run". Loopback (127.0.0.1, ::1, localhost) never needs it.

Server keys: over https the agent pins the server's public key at enrollment: without --pin,
the certificate must be valid for the host and signed by a trusted CA (system or --ca-file),
and its key is pinned; with --pin, only those keys are accepted (CA, host name and dates are
then not checked). From then on "run" and auto-updates accept only pinned keys. To change the
server's key without re-enrolling, announce the new key first (TLS_NEXT_SPKI_PINS on the
server): connected agents add it to their pins. After an unannounced change, enroll again
with a new token: it replaces the pins.

${GLOBAL}
`,
  run: `Usage: ninjait-agent run [options]

Runs the agent until SIGINT/SIGTERM: samples now and every interval, sends inventory hourly,
keeps everything in the local outbox until the server acknowledges it, and heartbeats. Over
https it connects only to a server presenting a pinned key (see "enroll --help").

Options:
  --insecure            Allow the plain http:// server this agent enrolled with when it is beyond
                        this machine (env NINJAIT_INSECURE=1)

Remote access (technicians' terminals and files), by environment:
  NINJAIT_PTY=0         Give technicians a piped shell even where a pseudo-terminal is available
  NINJAIT_FILE_ROOTS    Folders file browsing and transfers must stay inside, separated like PATH
                        (symlinks and .. cannot lead out); unset: anywhere this account may go

Patching, by environment:
  NINJAIT_ALLOW_REBOOT  1: a patch deployment may restart this machine when its reboot policy
                        asks, after warning logged-in users for the policy's notice; 0: never, a
                        pending restart is only reported. Default: 1 when running as root or
                        SYSTEM (installed agents), 0 otherwise (the quick start's local agent is 0)

${GLOBAL}
`,
  status: `Usage: ninjait-agent status [--json] [options]

Shows whether this machine is enrolled, with which server, pinned server key and device id,
whether the server refuses the device's credentials, and the state of the local outbox
(buffered records and bytes, dropped records, next sequence number). Safe to run while the
agent is running. Without --data-dir it reads the platform's folder, or, when that holds no
enrollment, the quick start's local agent (data/agent, from "npm start").

Options:
  --json                Print machine-readable JSON

${GLOBAL}
`,
} as const;
