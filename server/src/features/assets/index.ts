/** Hardware assets: what the router and the CLI use. */
export { createAssetsRouter, createAssetsAdminRouter } from './assets.router.ts';
export type { Asset } from './assets.ts';
