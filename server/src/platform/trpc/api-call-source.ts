/**
 * Who made an API call, for billing: people and integrations (API keys) are billable, agents are
 * not (their heartbeats and pushes are the product, not use of the API). Its own module, with no
 * imports, so the recorder (features/billing) can name it without reaching the tRPC context.
 */
export type ApiCallSource = 'person' | 'api_key' | 'agent';
