import { CLIENT_USAGE, clientOptions, parse, UsageError, type Command } from '../args.ts';
import { localAdminClient, printTable } from '../client.ts';

const usage = `
Usage: ninjait contract show --org ORG
       ninjait contract set --org ORG --per-device N --per-call N --per-gb N --currency CUR --from YYYY-MM [--to YYYY-MM]

An organization's prices: per device per month, per API call made by people and API keys (agents'
calls are free), per GB stored per day. Without a contract the list prices apply (USD 5, 0.001, 0.10).
A contract starts next month at the earliest and replaces the one running then; without --to it
runs until another replaces it.
${CLIENT_USAGE}`;

function price(value: string | undefined, flag: string): number {
  const number = Number(value);
  if (value === undefined || value.trim() === '' || !Number.isFinite(number) || number < 0) throw new UsageError(`${flag} is a price of 0 or more.\n${usage}`);
  return number;
}

export const contractCommand: Command = {
  usage,
  async run(argv) {
    const { values, positionals } = parse(argv, {
      ...clientOptions, org: { type: 'string' }, 'per-device': { type: 'string' }, 'per-call': { type: 'string' }, 'per-gb': { type: 'string' },
      currency: { type: 'string' }, from: { type: 'string' }, to: { type: 'string' },
    }, usage, true);
    const [action] = positionals;
    if (!values.org) throw new UsageError(`--org is required.\n${usage}`);
    const client = await localAdminClient(values);
    if (action === 'show') {
      const summary = await client.admin.contracts.show.query({ org: values.org });
      if (values.json) {
        process.stdout.write(`${JSON.stringify(summary)}\n`);
        return;
      }
      const { rates } = summary;
      process.stdout.write(`${summary.inForce ? 'Contract in force' : 'No contract in force: list prices'}: ${rates.currency} ${rates.perDevice} per device per month, ${rates.perApiCall} per API call, ${rates.perGb} per GB\n`);
      printTable(summary.contracts, ['startsOn', 'endsOn', 'currency', 'perDevice', 'perApiCall', 'perGb', 'id']);
      return;
    }
    if (action === 'set') {
      if (!values.from) throw new UsageError(`--from YYYY-MM is required.\n${usage}`);
      if (!values.currency) throw new UsageError(`--currency is required (USD, EUR...).\n${usage}`);
      const { contract, ended } = await client.admin.contracts.set.mutate({
        org: values.org,
        contract: {
          perDevice: price(values['per-device'], '--per-device'), perApiCall: price(values['per-call'], '--per-call'), perGb: price(values['per-gb'], '--per-gb'),
          currency: values.currency.toUpperCase(), startMonth: values.from, endMonth: values.to ?? null,
        },
      });
      if (values.json) process.stdout.write(`${JSON.stringify({ contract, ended })}\n`);
      else {
        process.stdout.write(`Contract ${contract.id} from ${contract.startsOn}${contract.endsOn ? ` to ${contract.endsOn}` : ''}\n`);
        if (ended) process.stdout.write(`The contract from ${ended.startsOn} now ends on ${ended.endsOn}\n`);
      }
      return;
    }
    throw new UsageError(usage);
  },
};
