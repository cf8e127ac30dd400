/** What a command may touch of the outside world; tests pass their own. */
export interface CliIo {
  stdout(text: string): void;
  stderr(text: string): void;
  env: NodeJS.ProcessEnv;
  /** Aborted on SIGINT/SIGTERM: `run` stops when it fires. */
  signal: AbortSignal;
}

/** Exit codes, documented in `--help`. */
export const EXIT = {
  ok: 0,
  failure: 1,
  usage: 2,
  notEnrolled: 3,
  refused: 4,
} as const;
