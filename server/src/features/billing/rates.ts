/** What one organization pays: per device per month, per billable API call, per GB stored per day. */
export interface Rates {
  perDevice: number;
  perApiCall: number;
  perGb: number;
  /** ISO 4217, upper case. */
  currency: string;
}

/** The list prices: what an organization without a contract in force pays. */
export const LIST_RATES: Readonly<Rates> = { perDevice: 5, perApiCall: 0.001, perGb: 0.1, currency: 'USD' };

/** A day's measured use, for one organization. */
export interface DayUsage { deviceCount: number; apiCalls: number; storageGb: number }

export interface DayCost { deviceCost: number; apiCost: number; storageCost: number; total: number }

export const daysInMonth = (dayMs: number): number => {
  const day = new Date(dayMs);
  return new Date(Date.UTC(day.getUTCFullYear(), day.getUTCMonth() + 1, 0)).getUTCDate();
};

/**
 * The price of one day. A device is priced per month, so each day it is there costs its share of
 * the month (a device there all month costs exactly `perDevice`); calls and GB are priced per unit.
 */
export function priceDay(usage: DayUsage, rates: Rates, dayMs: number): DayCost {
  const deviceCost = (usage.deviceCount * rates.perDevice) / daysInMonth(dayMs);
  const apiCost = usage.apiCalls * rates.perApiCall;
  const storageCost = usage.storageGb * rates.perGb;
  return { deviceCost, apiCost, storageCost, total: deviceCost + apiCost + storageCost };
}
