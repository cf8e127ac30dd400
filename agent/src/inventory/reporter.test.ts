import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { InventoryReport, InventoryReportAck, SoftwareItem } from '@ninjait/shared';
import { memoryLogger } from '../testing/log.ts';
import { createInventoryReporter } from './reporter.ts';
import type { SoftwareSnapshot } from './collect.ts';

const pkg = (name: string, version: string): SoftwareItem => ({
  key: `dpkg:${name}:amd64`, name, version, arch: 'amd64', publisher: '', source: 'dpkg', installedAtMs: null,
});
const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach((dir) => rmSync(dir, { recursive: true, force: true })));

/** A server that holds one snapshot hash, like the real one: a diff on another base is refused. */
function fakeServer() {
  let held: string | null = null;
  const sent: InventoryReport[] = [];
  return {
    sent,
    forget: () => void (held = null),
    async send(report: InventoryReport): Promise<InventoryReportAck> {
      sent.push(report);
      if (report.baseHash !== null && report.baseHash !== held) return { accepted: false, needFull: true };
      held = report.hash;
      return { accepted: true, hash: report.hash };
    },
  };
}

describe('inventory reporter', () => {
  it('sends everything first, then diffs; a restart keeps the base; a server without it gets everything again', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'ninjait-inv-'));
    dirs.push(dataDir);
    let current: SoftwareSnapshot = { software: [pkg('a', '1'), pkg('b', '1')], services: [], updates: [], rebootPending: false, lastPatchedAtMs: null };
    const server = fakeServer();
    const make = () => createInventoryReporter({ dataDir, collect: async () => current, sender: server, log: memoryLogger('silent').log });

    const first = make();
    await first.refresh();
    expect(server.sent.at(-1)).toMatchObject({ baseHash: null });
    expect(server.sent.at(-1)!.software.upsert).toHaveLength(2);
    await first.refresh();
    expect(server.sent).toHaveLength(1); // nothing changed: nothing sent

    current = { ...current, software: [pkg('a', '2'), pkg('b', '1')] };
    const restarted = make();
    await restarted.refresh();
    expect(server.sent.at(-1)!.baseHash).toBe(server.sent[0]!.hash);
    expect(server.sent.at(-1)!.software.upsert.map((item) => item.version)).toEqual(['2']);

    server.forget();
    current = { ...current, software: [pkg('a', '3'), pkg('b', '1')] };
    await restarted.refresh();
    const [refused, full] = server.sent.slice(-2);
    expect(refused!.baseHash).not.toBeNull();
    expect(full).toMatchObject({ baseHash: null });
    expect(full!.software.upsert).toHaveLength(2);
    expect(restarted.acked).toBe(full!.hash);
  });
});
