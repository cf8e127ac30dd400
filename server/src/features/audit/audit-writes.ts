import type { AuditEntry, DocumentStore } from '../../stores/documents/index.ts';

type AuditLog = DocumentStore['auditLog'];

/** Entries one insert carries at most: a burst becomes several inserts, none of them huge. */
const ENTRIES_PER_INSERT = 500;

interface Queued {
  entry: AuditEntry;
  resolve: () => void;
  reject: (error: unknown) => void;
}

/**
 * Audit entries written together: those that arrive while an insert runs go in the next one, so
 * a burst (a roll-out's enrollments) costs an insert per round trip instead of one per entry, and
 * a quiet log adds no wait. Each caller still waits until its own entry is stored (or failed). A
 * failed insert is retried entry by entry: one entry the store refuses takes no other with it.
 */
export function createAuditWriter(log: AuditLog): (entry: AuditEntry) => Promise<void> {
  const queued: Queued[] = [];
  let writing = false;

  async function writeQueued() {
    writing = true;
    while (queued.length > 0) {
      const batch = queued.splice(0, ENTRIES_PER_INSERT);
      try {
        await log.insert(batch.map((item) => item.entry));
        for (const item of batch) item.resolve();
      } catch (error) {
        if (batch.length === 1) batch[0]!.reject(error);
        else await Promise.all(batch.map((item) => log.insert([item.entry]).then(item.resolve, item.reject)));
      }
    }
    writing = false;
  }

  return (entry) => new Promise<void>((resolve, reject) => {
    queued.push({ entry, resolve, reject });
    if (!writing) void writeQueued();
  });
}

/** One writer per audit log, so every request's entries share it. */
const writers = new WeakMap<AuditLog, (entry: AuditEntry) => Promise<void>>();

export function auditWriterOf(log: AuditLog): (entry: AuditEntry) => Promise<void> {
  let writer = writers.get(log);
  if (!writer) {
    writer = createAuditWriter(log);
    writers.set(log, writer);
  }
  return writer;
}
