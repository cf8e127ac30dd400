// Test helper: appends forever, printing each seq only after its transaction committed,
// so the parent knows what must survive its SIGKILL. Acks every 50th record to exercise deletes.
import { fakeRecord } from '../testing/fixtures.ts';
import { openOutbox } from './outbox.ts';

const file = process.argv[2];
if (!file) throw new Error('usage: outbox.kill-child.ts <file>');
const outbox = openOutbox({ file, bufferMaxMb: 64 });
for (;;) {
  const { seq } = outbox.append(fakeRecord());
  if (seq % 50 === 0) outbox.ackUpTo(seq - 25);
  process.stdout.write(`${seq}\n`);
  // Yield so the pipe flushes and the parent can kill mid-stream.
  if (seq % 10 === 0) await new Promise((r) => setImmediate(r));
}
