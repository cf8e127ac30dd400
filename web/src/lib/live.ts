import { useEffect, useState } from 'react';
import type { inferRouterOutputs } from '@trpc/server';
import type { AppRouter } from '@ninjait/server/router';
import { useSubscription } from '@trpc/tanstack-react-query';
import { trpc } from './trpc-query.ts';

type Yielded<T> = T extends AsyncIterable<infer U> ? U : T;
/** What `live.devices` pushes, inferred from the server's router. */
export type LiveEvent = Yielded<inferRouterOutputs<AppRouter>['live']['devices']>;
export type LiveDevice = LiveEvent['devices'][number];
export type LiveSample = NonNullable<LiveEvent['sample']>;

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
  // Another device starts from nothing; declared before the subscription so it runs before it resubscribes.
  useEffect(() => {
    setDevice(null);
    setSample(null);
    setPoints([]);
  }, [deviceId]);
  useSubscription(trpc.live.devices.subscriptionOptions({ deviceId }, {
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
  }));
  return { device, sample, points, error };
}
