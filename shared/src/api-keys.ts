import { z } from 'zod';

/**
 * What an API key may be used for. Each scope also caps the role the key acts with, so a key made
 * to read devices cannot decommission one even when its creator could.
 */
export const API_KEY_SCOPES = ['devices:read', 'commands:run', 'tickets:manage', 'analytics:read', 'admin'] as const;
export const apiKeyScopeSchema = z.enum(API_KEY_SCOPES);
export type ApiKeyScope = z.infer<typeof apiKeyScopeSchema>;

/** Every API key starts with this, so a leaked one is recognisable (secret scanners, logs). */
export const API_KEY_PREFIX = 'nk_';
