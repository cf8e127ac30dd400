import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { fakeRecord } from '../testing/fixtures.ts';
import { OUTBOX_FILE } from '../config/paths.ts';
import { openOutbox } from './outbox.ts';

const here = dirname(fileURLToPath(import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'ninjait-kill-'));
const file = join(dir, OUTBOX_FILE);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs the child until it has reported `count` committed seqs, then SIGKILLs it. */
function appendThenKill(count: number): Promise<number[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(here, 'outbox.kill-child.ts'), file], {
      cwd: here,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const seqs: number[] = [];
    let buf = '';
    let killed = false;
    child.stdout.on('data', (chunk: Buffer) => {
      buf += chunk.toString();
      const lines = buf.split('\n');
      buf = lines.pop() ?? '';
      for (const line of lines) if (!killed) seqs.push(Number(line));
      if (!killed && seqs.length >= count) {
        killed = true;
        process.kill(child.pid ?? 0, 'SIGKILL');
      }
    });
    child.on('error', reject);
    child.on('exit', (_code, signal) => {
      if (signal === 'SIGKILL') resolve(seqs);
      else reject(new Error(`child exited without being killed (${String(signal)})`));
    });
  });
}

describe('outbox under kill -9', () => {
  // One child (each tsx start costs ~1 s); the reopen below plays the restarted agent.
  it('loses no committed record and never reuses a seq after kill -9', async () => {
    const reported = await appendThenKill(400);
    expect(new Set(reported).size).toBe(reported.length);

    const outbox = openOutbox({ file, bufferMaxMb: 64 });
    try {
      const stored = new Set(outbox.oldest(100_000, Number.MAX_SAFE_INTEGER).map((r) => r.seq));
      // The child acked seq - 25 at every 50th: anything above the last ack it reported must be there.
      const lastAck = Math.max(...reported.filter((s) => s % 50 === 0)) - 25;
      const missing = reported.filter((s) => s > lastAck && !stored.has(s));
      expect(missing).toEqual([]);
      const stats = outbox.stats();
      expect(stats.nextSeq).toBeGreaterThan(Math.max(...reported));
      expect(stats.bufferedRecords).toBe(stored.size);
      expect(stats.droppedTotal).toBe(0);
      expect(outbox.append(fakeRecord()).seq).toBe(stats.nextSeq);
    } finally {
      outbox.close();
    }
  }, 20_000);
});
