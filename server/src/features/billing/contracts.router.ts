import { z } from 'zod';
import { localAdminProcedure, router, userProcedure } from '../../platform/trpc/trpc.ts';
import { AppError, notFound } from '../../platform/errors.ts';
import type { RelationalStore, SqlExecutor } from '../../stores/relational/index.ts';
import { findOrganization } from '../organizations/index.ts';
import { addContract, contractsInForce, listContracts, type Contract } from './contracts.ts';
import { LIST_RATES, type Rates } from './rates.ts';
import type { Audit, AuditWho } from '../audit/index.ts';

const month = z.string().regex(/^\d{4}-(0[1-9]|1[0-2])$/, 'A month is YYYY-MM');

/** A contract as people type it: prices and a term of whole months (the end month included). */
export const contractInputSchema = z.object({
  perDevice: z.number().min(0).max(100_000),
  perApiCall: z.number().min(0).max(100),
  perGb: z.number().min(0).max(100_000),
  currency: z.string().regex(/^[A-Z]{3}$/, 'A currency is its three-letter ISO code, such as USD or EUR'),
  startMonth: month,
  /** Null: runs until a later contract replaces it. */
  endMonth: month.nullable().default(null),
}).strict().refine((input) => input.endMonth === null || input.endMonth >= input.startMonth, {
  message: 'The term ends before it starts', path: ['endMonth'],
});

type ContractInput = z.infer<typeof contractInputSchema>;

const firstDay = (value: string) => `${value}-01`;
const lastDay = (value: string) => {
  const [year, monthNumber] = value.split('-').map(Number) as [number, number];
  return new Date(Date.UTC(year, monthNumber, 0)).toISOString().slice(0, 10);
};
const thisMonth = (nowMs: number) => new Date(nowMs).toISOString().slice(0, 7);

/**
 * Days are billed as they finish: a contract starts next month at the earliest, so a month
 * already (partly) billed keeps its prices and its single currency.
 */
function term(input: ContractInput, nowMs = Date.now()) {
  if (input.startMonth <= thisMonth(nowMs)) {
    throw new AppError('BAD_REQUEST', `A contract starts next month at the earliest (days of ${thisMonth(nowMs)} are already being billed)`);
  }
  return { startsOn: firstDay(input.startMonth), endsOn: input.endMonth === null ? null : lastDay(input.endMonth) };
}

/** What an organization pays today and its contracts: the console's contract page and `ninjait contract show`. */
export async function contractSummary(db: SqlExecutor, organizationId: string, nowMs = Date.now()):
Promise<{ inForce: Contract | null; rates: Rates; contracts: Contract[] }> {
  const today = new Date(nowMs).toISOString().slice(0, 10);
  const inForce = (await contractsInForce(db, today)).get(organizationId) ?? null;
  const rates = inForce ? { perDevice: inForce.perDevice, perApiCall: inForce.perApiCall, perGb: inForce.perGb, currency: inForce.currency } : { ...LIST_RATES };
  return { inForce, rates, contracts: await listContracts(db, organizationId) };
}

async function setContract(deps: ContractsRouterDeps, ctx: AuditWho, organizationId: string, input: ContractInput, by: string | null) {
  const result = await addContract(deps.db, organizationId, { ...input, ...term(input) }, by);
  const { contract, ended } = result;
  await deps.audit(ctx, {
    action: 'contract.create', organizationId, resourceId: contract.id,
    details: { perDevice: contract.perDevice, perApiCall: contract.perApiCall, perGb: contract.perGb, currency: contract.currency,
      startsOn: contract.startsOn, endsOn: contract.endsOn, endedContractId: ended?.id ?? null, by: by ? 'admin' : 'local-admin' },
  });
  return result;
}

/** What these procedures use, built in the composition root (app/). */
export interface ContractsRouterDeps {
  audit: Audit;
  db: RelationalStore;
}

/** An organization's contract, for its own admins: they see and set their organization's only. */
export function createContractsRouter(deps: ContractsRouterDeps) {
  return router({
    show: userProcedure('admin').query(({ ctx }) => contractSummary(deps.db, ctx.user.organizationId)),
    set: userProcedure('admin').input(contractInputSchema)
      .mutation(({ ctx, input }) => setContract(deps, ctx, ctx.user.organizationId, input, ctx.user.userId)),
  });
}

const orgRef = z.string().min(1).max(255);

async function orgId(db: SqlExecutor, ref: string): Promise<string> {
  const org = await findOrganization(db, ref);
  if (!org) throw notFound(`Organization "${ref}"`);
  return org.id;
}

/** `ninjait contract show|set`: the server machine's operator, for any organization. */
export function createContractsAdminRouter(deps: ContractsRouterDeps) {
  return router({
    show: localAdminProcedure.input(z.object({ org: orgRef }).strict())
      .query(async ({ input }) => contractSummary(deps.db, await orgId(deps.db, input.org))),
    set: localAdminProcedure.input(z.object({ org: orgRef, contract: contractInputSchema }).strict())
      .mutation(async ({ ctx, input }) => setContract(deps, ctx, await orgId(deps.db, input.org), input.contract, null)),
  });
}
