import { useQuery } from '@tanstack/react-query';
import { api, type Inputs, type Outputs } from './trpc.ts';
import { trpc } from './trpc-query.ts';

/** One call's filters, sort and cursor, as the server takes them. */
export type DeviceListInput = Exclude<Inputs['devices']['list'], void | undefined>;
export type DeviceRow = Outputs['devices']['list']['items'][number];
export type DeviceSortKey = NonNullable<DeviceListInput['sort']>;

/** Rows per page of the table, and per call when exporting every page (the server's maximum). */
export const PAGE_SIZE = 100;
const EXPORT_PAGE_SIZE = 500;
/** How often a shown page and the counts are read again: seconds-fresh within the per-person read budget. */
export const FLEET_REFRESH_MS = 5_000;
export const COUNTS_REFRESH_MS = 10_000;

/** Devices per status and the OS types present; one cached query for every page that shows them. */
export function useDeviceCounts() {
  return useQuery(trpc.devices.counts.queryOptions(undefined, { refetchInterval: COUNTS_REFRESH_MS, staleTime: COUNTS_REFRESH_MS / 2 }));
}

/** Every device matching `input`, page after page: for exports, never for rendering. */
export async function fetchAllDevices(input: Omit<DeviceListInput, 'cursor' | 'limit'>): Promise<DeviceRow[]> {
  const rows: DeviceRow[] = [];
  let cursor: string | undefined;
  do {
    const page = await api().devices.list.query({ ...input, limit: EXPORT_PAGE_SIZE, ...(cursor ? { cursor } : {}) });
    rows.push(...page.items);
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
  return rows;
}
