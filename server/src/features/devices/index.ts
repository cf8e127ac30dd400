/**
 * What other parts use of devices: authenticating a device, the offline threshold (settings or
 * reporting interval) as SQL, the sweeper, retiring a device, and the device columns and claim
 * that enrollment's approval queries return, and an organization's device ids (analytics).
 */
export { markQuietDevicesOffline } from './offline-sweeper.ts';
export { claimsDeviceName, deviceColumns, deviceIdsOfOrganization, offlineAfter, replaceSecretHash, type ApprovalState, type Device } from './repository.ts';
export { authenticateDevice, listDevices, machineKeyFingerprint, osFields, retireDevice, rotateDeviceSecret, withoutMachineKey, type AuthenticatedDevice } from './devices.ts';
export type { AgentConnections } from './agent-connections.ts';
export { withLatest } from './latest.ts';
