/** Providers (MSPs), their client organizations, and people who work in several organizations. */
export { createProvidersRouter, FLEET_PAGE_MAX } from './providers.router.ts';
export { createProvidersAdminRouter } from './admin.router.ts';
export { createSwitchProcedures } from './switch.router.ts';
export { accessibleOrganizations, enterableOrganizations, PROVIDER_ROLE_CAP, type Access, type Enterable } from './access.ts';
export { GRANT_ROLES, type GrantRole } from './grants.ts';
