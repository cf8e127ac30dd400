/** What other parts use of billing: the daily job, the API call recorder, contracts and their routers. */
export { billDay, runDailyBilling, BILLABLE_SOURCES } from './billing.ts';
export { createApiCallRecorder, type ApiCallRecorder, type ApiCallRow } from './api-call-recorder.ts';
export { createContractsRouter, createContractsAdminRouter } from './contracts.router.ts';
export { LIST_RATES, type Rates } from './rates.ts';
