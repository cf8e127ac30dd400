import type { StoreHealth } from '../stores/types.ts';
import type { Services } from './services.ts';

/** The stores /readyz and system.health check, by name. */
export function storeHealthChecks(services: Pick<Services, 'db' | 'cache' | 'analytics' | 'timeseries' | 'documents'>): Record<string, () => Promise<StoreHealth>> {
  return {
    relational: () => services.db.health(),
    cache: () => services.cache.health(),
    analytics: () => services.analytics.health(),
    timeseries: () => services.timeseries.health(),
    documents: () => services.documents.health(),
  };
}
