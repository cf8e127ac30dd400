import { describe, expect, it } from 'vitest';
import type { AuditEntry } from '../../stores/documents/index.ts';
import { createAuditWriter } from './audit-writes.ts';

const entry = (id: string): AuditEntry => ({
  id, timestamp: new Date(), organizationId: 'org', userId: null, action: 'device.enrolled', resourceId: id, details: {}, ipAddress: null,
});

/** An audit log whose inserts take a moment and are recorded; ids in `refuse` make an insert fail. */
function slowLog(refuse: string[] = []) {
  const inserts: string[][] = [];
  return {
    inserts,
    log: {
      async insert(docs: readonly AuditEntry[]) {
        await new Promise((resolve) => setTimeout(resolve, 20));
        if (docs.some((doc) => refuse.includes(doc.id))) throw new Error('refused');
        inserts.push(docs.map((doc) => doc.id));
      },
      find: async () => [],
    },
  };
}

describe('audit writes', () => {
  it('writes entries that arrive during an insert in one next insert, each caller waiting for its own', async () => {
    const { log, inserts } = slowLog();
    const write = createAuditWriter(log);
    const first = write(entry('a'));
    const burst = ['b', 'c', 'd'].map((id) => write(entry(id)));
    await Promise.all([first, ...burst]);
    expect(inserts).toEqual([['a'], ['b', 'c', 'd']]);
  });

  it('a refused entry fails alone: the others of its insert are written one by one', async () => {
    const { log, inserts } = slowLog(['bad']);
    const write = createAuditWriter(log);
    const first = write(entry('a'));
    const results = await Promise.allSettled([first, write(entry('b')), write(entry('bad')), write(entry('c'))]);
    expect(results.map((result) => result.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'fulfilled']);
    expect(inserts.flat().sort()).toEqual(['a', 'b', 'c']);
  });
});
