/** The structure of the fleet (issue #16): sites, tags, typed custom fields and saved dynamic groups. */
export { createFleetRouter } from './fleet.router.ts';
export { createFleetAdminRouter } from './admin.router.ts';
export { fleetFilterDeviceIds, hasFleetFilter, jobTargetIds, type FleetListFilter } from './list-filter.ts';
export { resolveScopes, checkScope, scopeInputSchema, SCOPE_KINDS, type ScopeKind, type ScopeCheck, type Scoped } from './scope.ts';
export { scopeByName } from './scope-ref.ts';
export { tagNamesByDevice } from './tags.ts';
