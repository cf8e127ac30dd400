export { createApiKeys, isApiKey, type ApiKeys, type KeyCaller } from './service.ts';
export { createApiKeysRouter } from './api-keys.router.ts';
export { requiredScope, keyRoleFor, SCOPE_ROLE_CAP } from './scopes.ts';
