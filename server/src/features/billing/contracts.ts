import { sql } from 'kysely';
import { typed, type RelationalStore, type SqlExecutor } from '../../stores/relational/index.ts';
import { AppError } from '../../platform/errors.ts';
import type { Rates } from './rates.ts';

/** A contract as people and billing see it; days are `YYYY-MM-DD` (UTC). */
export interface Contract extends Rates {
  id: string;
  organizationId: string;
  startsOn: string;
  /** Null: until a later contract replaces it. */
  endsOn: string | null;
  createdAt: Date;
  createdBy: string | null;
}

export interface NewContract extends Rates {
  startsOn: string;
  endsOn: string | null;
}

const day = (column: 'startsOn' | 'endsOn') => sql<string>`to_char(${sql.ref(column)}, 'YYYY-MM-DD')`;

function select(db: SqlExecutor) {
  return typed(db).selectFrom('contracts').select([
    'id', 'organizationId', 'currency', 'createdAt', 'createdBy',
    sql<string>`price_per_device::text`.as('perDevice'),
    sql<string>`price_per_api_call::text`.as('perApiCall'),
    sql<string>`price_per_gb::text`.as('perGb'),
    day('startsOn').as('startsOn'), day('endsOn').as('endsOn'),
  ]);
}

type Row = Awaited<ReturnType<ReturnType<typeof select>['execute']>>[number];
const toContract = (row: Row): Contract => ({
  ...row, perDevice: Number(row.perDevice), perApiCall: Number(row.perApiCall), perGb: Number(row.perGb), currency: row.currency.trim(),
});

/** The organization's contracts, newest term first. */
export async function listContracts(db: SqlExecutor, organizationId: string): Promise<Contract[]> {
  const rows = await select(db).where('organizationId', '=', organizationId).orderBy('startsOn', 'desc').execute();
  return rows.map(toContract);
}

/** Every organization's contract in force on `isoDay`: billing reads them once per day it bills. */
export async function contractsInForce(db: SqlExecutor, isoDay: string): Promise<Map<string, Contract>> {
  const rows = await select(db)
    .where(sql<boolean>`starts_on <= ${isoDay}::date`)
    .where((eb) => eb.or([eb('endsOn', 'is', null), sql<boolean>`ends_on >= ${isoDay}::date`]))
    .execute();
  return new Map(rows.map((row) => [row.organizationId, toContract(row)]));
}

const dayBefore = (isoDay: string) => new Date(Date.parse(`${isoDay}T00:00:00Z`) - 86_400_000).toISOString().slice(0, 10);

/**
 * Adds a contract. A contract that started earlier and still runs on the new start ends the day
 * before it (a new contract replaces the old one from then on; after a new term's end the list
 * prices apply until another contract starts); one that starts on or after the new
 * start and overlaps it is refused, since silently shortening a future term would be a surprise.
 * Returns the new contract and the one it ended, if any. Checked and written in one transaction.
 */
export async function addContract(db: RelationalStore, organizationId: string, input: NewContract, createdBy: string | null):
Promise<{ contract: Contract; ended: Contract | null }> {
  return db.transaction(async (tx) => {
    // Serializes contract changes of one organization: two admins cannot both pass the overlap check.
    await typed(tx).selectFrom('organizations').select('id').where('id', '=', organizationId).forUpdate().execute();
    const existing = await listContracts(tx, organizationId);
    const overlaps = (contract: Contract) => (contract.endsOn === null || contract.endsOn >= input.startsOn)
      && (input.endsOn === null || contract.startsOn <= input.endsOn);
    const later = existing.find((contract) => contract.startsOn >= input.startsOn && overlaps(contract));
    if (later) {
      throw new AppError('CONFLICT', `A contract from ${later.startsOn}${later.endsOn ? ` to ${later.endsOn}` : ''} overlaps this term; pick a term after it`);
    }
    const earlier = existing.find((contract) => contract.startsOn < input.startsOn && overlaps(contract)) ?? null;
    let ended: Contract | null = null;
    if (earlier) {
      const endsOn = dayBefore(input.startsOn);
      await typed(tx).updateTable('contracts').set({ endsOn }).where('id', '=', earlier.id).execute();
      ended = { ...earlier, endsOn };
    }
    const { id } = await typed(tx).insertInto('contracts').values({
      organizationId, pricePerDevice: input.perDevice, pricePerApiCall: input.perApiCall, pricePerGb: input.perGb,
      currency: input.currency, startsOn: input.startsOn, endsOn: input.endsOn, createdBy,
    }).returning('id').executeTakeFirstOrThrow();
    const contract = (await listContracts(tx, organizationId)).find((row) => row.id === id)!;
    return { contract, ended };
  });
}
