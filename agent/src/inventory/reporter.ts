import { readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { InventoryReport, InventoryReportAck } from '@ninjait/shared';
import type { Logger } from '../log.ts';
import type { SoftwareSnapshot } from './collect.ts';
import { buildReport, canonical } from './snapshot.ts';

/** Full pass this often even when nothing seems to change (pending updates appear with new lists). */
export const INVENTORY_INTERVAL_MS = 60 * 60_000;
/** How often the cheap change signal (package database times) is read. */
export const CHANGE_CHECK_MS = 60_000;
export const INVENTORY_BASE_FILE = 'inventory-base.json';

export interface InventorySender {
  send(report: InventoryReport): Promise<InventoryReportAck>;
}

export interface ReporterOptions {
  dataDir: string;
  collect: () => Promise<SoftwareSnapshot>;
  sender: InventorySender;
  log: Logger;
  intervalMs?: number;
  changeCheckMs?: number;
  /** A value that changes when installed software does (the package database's time); null: hourly only. */
  changeSignal?: () => string | null;
  now?: () => number;
}

/** Times of the package databases on Linux: dpkg, rpm and apt's lists change when software or updates do. */
export function packageDatabaseSignal(): string | null {
  const paths = ['/var/lib/dpkg/status', '/var/lib/rpm', '/var/lib/apt/lists', '/var/lib/dnf'];
  return paths.map((path) => {
    try {
      return String(statSync(path).mtimeMs);
    } catch {
      return '-';
    }
  }).join('|');
}

/**
 * Sends the device's software, services and pending updates: on start, hourly, when the package
 * database changes and when asked (after a patch run). Each report is a diff against the last
 * snapshot the server acked, kept in `inventory-base.json` so a restart still sends a diff; the
 * server asks for everything when it does not hold that base.
 */
export function createInventoryReporter(options: ReporterOptions) {
  const { log } = options;
  const baseFile = join(options.dataDir, INVENTORY_BASE_FILE);
  const now = options.now ?? Date.now;
  let base = loadBase(baseFile);
  let running: Promise<void> | null = null;
  let again = false;
  let lastSignal: string | null = null;
  const timers: NodeJS.Timeout[] = [];
  let stopped = false;

  async function passOnce(): Promise<void> {
    lastSignal = options.changeSignal?.() ?? null;
    const snapshot = canonical(await options.collect());
    let report = buildReport(base, snapshot, now());
    if (base && report.hash === base.hash) return;
    let ack = await options.sender.send(report);
    if (!ack.accepted) {
      report = buildReport(null, snapshot, now());
      ack = await options.sender.send(report);
    }
    if (!ack.accepted) throw new Error('the server refused a full inventory report');
    base = { hash: report.hash, snapshot };
    saveBase(baseFile, base);
    log.info({ software: snapshot.software.length, services: snapshot.services.length, updates: snapshot.updates.length,
      changed: report.software.upsert.length + report.software.remove.length + report.updates.upsert.length + report.updates.remove.length,
      full: report.baseHash === null }, 'inventory reported');
  }

  /** One pass at a time; a request during a pass runs one more after it. */
  const pass = (): Promise<void> => {
    if (running) {
      again = true;
      return running;
    }
    running = passOnce().catch((err: unknown) => log.warn({ err }, 'inventory pass failed; retrying at the next check'))
      .finally(() => {
        running = null;
        if (again) {
          again = false;
          void pass();
        }
      });
    return running;
  };

  return {
    /** First pass after `delayMs` (the agent's start has other work first), then on schedule. */
    start(delayMs = 0) {
      timers.push(setTimeout(() => {
        if (!stopped) void pass();
      }, delayMs).unref());
      timers.push(setInterval(() => void pass(), options.intervalMs ?? INVENTORY_INTERVAL_MS).unref());
      if (options.changeSignal) {
        timers.push(setInterval(() => {
          if (options.changeSignal!() !== lastSignal) void pass();
        }, options.changeCheckMs ?? CHANGE_CHECK_MS).unref());
      }
    },
    /** Runs a pass now (after installing patches); resolves when it is reported. */
    refresh: pass,
    get acked() {
      return base?.hash ?? null;
    },
    async stop() {
      stopped = true;
      for (const timer of timers) clearInterval(timer);
      await running;
    },
  };
}
export type InventoryReporter = ReturnType<typeof createInventoryReporter>;

function loadBase(file: string): { hash: string; snapshot: SoftwareSnapshot } | null {
  try {
    const parsed = JSON.parse(readFileSync(file, 'utf8')) as { hash?: unknown; snapshot?: SoftwareSnapshot };
    return typeof parsed.hash === 'string' && parsed.snapshot ? { hash: parsed.hash, snapshot: parsed.snapshot } : null;
  } catch {
    return null;
  }
}

function saveBase(file: string, base: { hash: string; snapshot: SoftwareSnapshot }) {
  // Written aside and renamed: a crash leaves the old base or the new one, never half.
  writeFileSync(`${file}.tmp`, JSON.stringify(base), { mode: 0o600 });
  renameSync(`${file}.tmp`, file);
}
