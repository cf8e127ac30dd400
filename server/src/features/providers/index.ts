/** Providers (MSPs), their client organizations, and people who work in several organizations. */
export { providersRouter, FLEET_PAGE_MAX } from './providers.router.ts';
export { providersAdminRouter } from './admin.router.ts';
export { switchProcedures } from './switch.router.ts';
export { accessibleOrganizations, enterableOrganizations, PROVIDER_ROLE_CAP, type Access, type Enterable } from './access.ts';
export { GRANT_ROLES, type GrantRole } from './grants.ts';
