/** What other parts use of devices: an authenticated device, the offline threshold (settings or reporting interval) as SQL, and the sweeper. */
export { markQuietDevicesOffline, offlineAfterSql } from './offline-sweeper.ts';
export type { AuthenticatedDevice } from './devices.ts';
