/**
 * Billing sees who made a call and keeps each priced part of a day.
 * - api_calls.source: 'person' (a session), 'api_key' (an integration) or 'agent' (a device's
 *   heartbeats and pushes, which are not billable). Rows written before this column existed are
 *   classified on read the way they were written: agents recorded the zero user id and their
 *   device's organization, people recorded themselves.
 * - billing_events gets each part of the day's cost and the currency, so an invoice reads what
 *   was billed at the contract's rates rather than multiplying by today's list prices. Days billed
 *   before this column existed were billed at the list prices: the defaults say so. Amounts are
 *   in `currency` (cost_usd, the day's total, keeps its first name: it too is in `currency`).
 */
export const billingSources: readonly string[] = [
  `ALTER TABLE api_calls ADD COLUMN IF NOT EXISTS source LowCardinality(String)
    DEFAULT if(user_id = toUUID('00000000-0000-0000-0000-000000000000') AND organization_id != toUUID('00000000-0000-0000-0000-000000000000'), 'agent', 'person')`,
  'ALTER TABLE billing_events ADD COLUMN IF NOT EXISTS device_cost Float64 DEFAULT device_count * 5',
  'ALTER TABLE billing_events ADD COLUMN IF NOT EXISTS api_cost Float64 DEFAULT api_calls * 0.001',
  'ALTER TABLE billing_events ADD COLUMN IF NOT EXISTS storage_cost Float64 DEFAULT storage_gb * 0.1',
  "ALTER TABLE billing_events ADD COLUMN IF NOT EXISTS currency LowCardinality(String) DEFAULT 'USD'",
];
