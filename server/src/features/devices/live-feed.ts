import { EventEmitter, on } from 'node:events';
import type { MetricSample } from '@ninjait/shared';
import type { Logger } from '../../platform/obs/logger.ts';
import type { RelationalStore } from '../../stores/relational/index.ts';
import type { CacheStore } from '../../stores/cache/index.ts';
import { selectLiveDevices } from './repository.ts';
import type { DeviceRow } from './device-list.ts';
import { latestKey } from '../../stores/cache/keys.ts';
import { summarize, type LatestSample, type LiveSummary } from './live-summary.ts';


/** What a feed reads: devices from the database, their latest values from the cache. */
export interface LiveFeedDeps {
  db: RelationalStore;
  cache: CacheStore;
  log: Pick<Logger, 'warn'>;
}

/** How often one organization's feed re-reads status and latest values (one query + one MGET for all subscribers). */
export const LIVE_POLL_MS = 2_000;

export interface LiveDevice extends DeviceRow {
  summary: LiveSummary | null;
}

/** `snapshot` replaces the client's list; `changes` updates rows by id and drops `removed`. */
export interface LiveEvent {
  type: 'snapshot' | 'changes';
  devices: LiveDevice[];
  removed: string[];
  /** Only when one device was asked for: its full latest sample. */
  sample?: (MetricSample & { seq: number; collectedAt: string }) | null;
}

const iso = (value: Date | string | null) => (value === null ? null : new Date(value).toISOString());
const fingerprint = (device: LiveDevice) => `${device.status}|${device.lastSeen}|${device.summary?.seq ?? ''}|${device.name}`;

/**
 * One organization's poller, shared by every subscriber of that organization on this instance;
 * or, for a device page (`deviceId`), that one device's, so it never reads the whole fleet.
 */
class OrgFeed extends EventEmitter {
  devices = new Map<string, { live: LiveDevice; latest: LatestSample | null; print: string }>();
  ready: Promise<void>;
  private timer: NodeJS.Timeout | null = null;
  private subscribers = 0;

  constructor(private readonly services: LiveFeedDeps, private readonly organizationId: string, private readonly deviceId: string | undefined,
    private readonly onIdle: () => void) {
    super();
    this.setMaxListeners(0);
    this.ready = this.poll();
  }

  join(): () => void {
    this.subscribers += 1;
    this.timer ??= setInterval(() => void this.poll().catch((err: unknown) => this.services.log.warn({ err }, 'live feed poll failed')), LIVE_POLL_MS);
    this.timer.unref();
    return () => {
      this.subscribers -= 1;
      if (this.subscribers > 0) return;
      if (this.timer) clearInterval(this.timer);
      this.timer = null;
      this.onIdle();
    };
  }

  private async poll(): Promise<void> {
    const { db, cache } = this.services;
    const rows = await selectLiveDevices(db, this.organizationId, { ordered: false, deviceId: this.deviceId });
    const raw = rows.length > 0 ? await cache.mget(rows.map((row) => latestKey(row.id))).catch(() => rows.map(() => null)) : [];
    const changed: LiveDevice[] = [];
    const seen = new Set<string>();
    rows.forEach((row, i) => {
      const latest = raw[i] ? (JSON.parse(raw[i]) as LatestSample) : null;
      const live: LiveDevice = {
        id: row.id, name: row.name, status: row.status, osType: row.osType, osVersion: row.osVersion,
        ipAddress: row.ipAddress, lastSeen: iso(row.lastSeen), agentVersion: row.agentVersion, summary: summarize(latest),
      };
      const print = fingerprint(live);
      seen.add(row.id);
      if (this.devices.get(row.id)?.print !== print) changed.push(live);
      this.devices.set(row.id, { live, latest, print });
    });
    const removed = [...this.devices.keys()].filter((id) => !seen.has(id));
    for (const id of removed) this.devices.delete(id);
    if (changed.length > 0 || removed.length > 0) this.emit('change', { changed, removed });
  }
}

const feeds = new WeakMap<LiveFeedDeps, Map<string, OrgFeed>>();

function feedFor(services: LiveFeedDeps, organizationId: string, deviceId?: string): OrgFeed {
  let byOrg = feeds.get(services);
  if (!byOrg) feeds.set(services, (byOrg = new Map()));
  const key = deviceId ? `${organizationId}/${deviceId}` : organizationId;
  let feed = byOrg.get(key);
  if (!feed) {
    const created = new OrgFeed(services, organizationId, deviceId, () => byOrg.delete(key));
    // A failed first read must not stick: the next subscriber starts a fresh feed.
    created.ready.catch(() => byOrg.delete(key));
    byOrg.set(key, (feed = created));
  }
  return feed;
}

const isAbort = (error: unknown) => error instanceof Error && error.name === 'AbortError';

/** One organization's (or, with `only`, one device's) live events, until `signal` aborts. */
export async function* feedEvents(services: LiveFeedDeps, organizationId: string, only: string | undefined, signal: AbortSignal): AsyncGenerator<LiveEvent> {
  const feed = feedFor(services, organizationId, only);
  const leave = feed.join();
  const pick = (devices: LiveDevice[]) => (only ? devices.filter((device) => device.id === only) : devices);
  const sampleOf = () => (only ? ((feed.devices.get(only)?.latest ?? null) as LiveEvent['sample']) : undefined);
  try {
    // Listen before the first read, so a change between the snapshot and the loop is not lost.
    const changes = on(feed, 'change', { signal });
    await feed.ready;
    const snapshot: LiveEvent = { type: 'snapshot', devices: pick([...feed.devices.values()].map((entry) => entry.live)), removed: [] };
    if (only) snapshot.sample = sampleOf();
    yield snapshot;
    for await (const [change] of changes as AsyncIterable<[{ changed: LiveDevice[]; removed: string[] }]>) {
      const devices = pick(change.changed);
      const removed = only ? change.removed.filter((id) => id === only) : change.removed;
      if (devices.length === 0 && removed.length === 0) continue;
      const event: LiveEvent = { type: 'changes', devices, removed };
      if (only) event.sample = sampleOf();
      yield event;
    }
  } catch (error) {
    if (!isAbort(error)) throw error;
  } finally {
    leave();
  }
}

