export { startServer, type RunningServer, type StartOptions } from './app/create-app.ts';
export { parseEnv, ConfigError, type Env } from './platform/config/index.ts';
export { appRouterShape, createAppRouter, type AppRouter } from './app/router.ts';
export { openRelationalStore, migrate, type RelationalStore } from './stores/relational/index.ts';
export { openCacheStore, createMemoryCache, createRedisCache, type CacheStore } from './stores/cache/index.ts';
export { readLocalAdminToken } from './features/auth/local-admin.ts';
export { LOCAL_ADMIN_HEADER } from './platform/trpc/context.ts';
