/** What other features use of enrollment: making a token (install links), and how long one may live. */
export { createEnrollmentToken, listEnrollmentTokens, revokeEnrollmentToken } from './enrollment-tokens.ts';
export { newTokenSchema, TOKEN_MAX_LIFETIME_SEC } from './tokens.router.ts';
export type { EnrollmentLimit } from './enrollment-limit.ts';
export { createDeviceEnrollment, type DeviceEnrollment, type EnrollmentResult } from './device-enrollment.ts';
export { approveDevice, listPendingDevices, rejectDevice, replaceDevice } from './device-approval.ts';
