/** What other features use of people and sessions. */
export { replaceSession } from './session-cookie.ts';
export { secondFactorState } from './two-factor-repository.ts';
export type { SessionUser } from './session-store.ts';
export type { Sessions } from './sessions.ts';
export type { RateLimiter } from './rate-limit.ts';
export { createUser, findUser, generatePassword, insertUser, listUsers, type NewUser, type User } from './users.ts';
export { displayName, newUserSchema } from './users.router.ts';
export { revocable, scopeOf } from './revocable.ts';
export { withPasswordGate } from './login.ts';
export { sealStoredClientSecrets } from './oidc-repository.ts';
