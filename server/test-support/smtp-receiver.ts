import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

export interface ReceivedMail { from: string; to: string[]; raw: string }

export interface SmtpReceiver {
  /** smtp://127.0.0.1:<port>, for SMTP_URL. */
  url: string;
  readonly messages: ReceivedMail[];
  stop(): Promise<void>;
}

/** Starts the `smtp-server` package in a child process (a real SMTP peer) and collects what it receives. */
export async function startSmtpReceiver(): Promise<SmtpReceiver> {
  const child = spawn(process.execPath, [fileURLToPath(new URL('./smtp-receiver-process.mjs', import.meta.url))], { stdio: ['ignore', 'pipe', 'inherit'] });
  const messages: ReceivedMail[] = [];
  const lines = createInterface({ input: child.stdout });
  const port = await new Promise<number>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`the SMTP receiver exited with ${code}`)));
    lines.on('line', (line) => {
      const listening = /^listening (\d+)$/.exec(line);
      if (listening) resolve(Number(listening[1]));
      else if (line.startsWith('{')) messages.push(JSON.parse(line) as ReceivedMail);
    });
  });
  return {
    url: `smtp://127.0.0.1:${port}`,
    messages,
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    },
  };
}
