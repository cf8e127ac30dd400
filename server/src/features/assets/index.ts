/** Hardware assets: what the router and the CLI use. */
export { assetsRouter, assetsAdminRouter } from './assets.router.ts';
export type { Asset } from './assets.ts';
