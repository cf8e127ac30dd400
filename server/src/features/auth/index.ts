/** What other features use of people and sessions. */
export { replaceSession } from './session-cookie.ts';
export { secondFactorState } from './two-factor-repository.ts';
export type { SessionUser } from './session-store.ts';
export { listUsers, type User } from './users.ts';
export { sealStoredClientSecrets } from './oidc-repository.ts';
