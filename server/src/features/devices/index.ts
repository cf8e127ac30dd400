/** What other parts use of devices: the offline threshold (settings or reporting interval) as SQL, and the sweeper. */
export { markQuietDevicesOffline, offlineAfterSql } from './offline-sweeper.ts';
