import { useEffect, useState, useSyncExternalStore } from 'react';
import type { inferRouterOutputs } from '@trpc/server';
import type { AppRouter } from '@ninjait/server/router';
import { api } from './trpc.ts';

type Yielded<T> = T extends AsyncIterable<infer U> ? U : T;
/** What `live.devices` pushes, inferred from the server's router. */
export type LiveEvent = Yielded<inferRouterOutputs<AppRouter>['live']['devices']>;
export type LiveDevice = LiveEvent['devices'][number];
export type LiveSample = NonNullable<LiveEvent['sample']>;

export interface LiveState {
  devices: LiveDevice[];
  status: 'connecting' | 'live' | 'error';
  error: unknown;
}

/** Keeps the socket a little after the last page using it leaves, so moving between pages is instant. */
const LINGER_MS = 30_000;

/** One organization-wide subscription shared by every page that shows the fleet. */
function createFleetStore() {
  let byId = new Map<string, LiveDevice>();
  let state: LiveState = { devices: [], status: 'connecting', error: null };
  const listeners = new Set<() => void>();
  let subscription: { unsubscribe(): void } | null = null;
  let stopTimer: ReturnType<typeof setTimeout> | null = null;

  const publish = (next: Partial<LiveState>) => {
    state = { ...state, ...next };
    listeners.forEach((listener) => listener());
  };

  const apply = (event: LiveEvent) => {
    if (event.type === 'snapshot') byId = new Map();
    else byId = new Map(byId);
    for (const device of event.devices) byId.set(device.id, device);
    for (const id of event.removed) byId.delete(id);
    publish({ devices: [...byId.values()], status: 'live', error: null });
  };

  const start = () => {
    if (stopTimer) clearTimeout(stopTimer);
    stopTimer = null;
    if (subscription) return;
    subscription = api().live.devices.subscribe(undefined, {
      onData: apply,
      onError: (error) => {
        subscription = null;
        publish({ status: 'error', error });
      },
    });
  };

  return {
    subscribe(listener: () => void) {
      listeners.add(listener);
      start();
      return () => {
        listeners.delete(listener);
        if (listeners.size > 0) return;
        stopTimer = setTimeout(() => {
          subscription?.unsubscribe();
          subscription = null;
        }, LINGER_MS);
      };
    },
    get: () => state,
    /** After logout: nothing of the old session may leak into the next one. */
    reset() {
      subscription?.unsubscribe();
      subscription = null;
      byId = new Map();
      state = { devices: [], status: 'connecting', error: null };
    },
  };
}

export const fleetStore = createFleetStore();

/** Every device of the organization with status and latest values, pushed by the server. */
export function useFleet(): LiveState {
  return useSyncExternalStore(fleetStore.subscribe, fleetStore.get);
}

/** One chart point, from history (`metrics.series`) or from the live feed. */
export interface SamplePoint {
  t: number;
  cpuPercent: number | null;
  memoryPercent: number | null;
  diskUsedBytes: number | null;
  rxBytesPerSec: number | null;
  txBytesPerSec: number | null;
}

/** Keeps the live points of one device's page bounded (an hour at one sample a second). */
const MAX_LIVE_POINTS = 3_600;

/** One device, with its full latest sample and the points seen since the page opened. */
export function useLiveDevice(deviceId: string) {
  const [device, setDevice] = useState<LiveDevice | null>(null);
  const [sample, setSample] = useState<LiveSample | null>(null);
  const [points, setPoints] = useState<SamplePoint[]>([]);
  const [error, setError] = useState<unknown>(null);
  useEffect(() => {
    setDevice(null);
    setSample(null);
    setPoints([]);
    const subscription = api().live.devices.subscribe({ deviceId }, {
      onData: (event) => {
        setError(null);
        const found = event.devices[0];
        if (found) setDevice(found);
        if (event.sample) setSample(event.sample);
        const summary = found?.summary;
        if (summary) {
          const t = Date.parse(summary.collectedAt);
          setPoints((previous) => {
            if (previous.length > 0 && previous[previous.length - 1]!.t >= t) return previous;
            const next = [...previous, {
              t, cpuPercent: summary.cpuPercent, memoryPercent: summary.memoryPercent, diskUsedBytes: summary.diskUsedBytes,
              rxBytesPerSec: summary.rxBytesPerSec, txBytesPerSec: summary.txBytesPerSec,
            }];
            return next.length > MAX_LIVE_POINTS ? next.slice(-MAX_LIVE_POINTS) : next;
          });
        }
      },
      onError: setError,
    });
    return () => subscription.unsubscribe();
  }, [deviceId]);
  return { device, sample, points, error };
}
