export { startServer, type RunningServer, type StartOptions } from './app/create-app.ts';
export { parseEnv, ConfigError, type Env } from './config/index.ts';
export { appRouter, type AppRouter } from './api/root.ts';
export { openRelationalStore, migrate, type RelationalStore } from './stores/relational/index.ts';
export { openCacheStore, createMemoryCache, createRedisCache, type CacheStore } from './stores/cache/index.ts';
export { readLocalAdminToken } from './app/local-admin.ts';
export { LOCAL_ADMIN_HEADER } from './api/context.ts';
