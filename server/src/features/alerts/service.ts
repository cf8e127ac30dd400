import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import type { RelationalStore, SqlExecutor } from '../../stores/relational/index.ts';
import { AppError } from '../../platform/errors.ts';
import { ConditionSyntaxError, conditionSchema, parseWhen, type Condition, type Severity } from './conditions.ts';
import { createChannel, getChannel, type Channel, type ChannelKind } from './channels-repository.ts';
import { acknowledgeAlert, resolveByPerson } from './lifecycle.ts';
import { checkedAddress, parseChannelUrl, sendAndRecord, type SendResult, type TransportOptions } from '../webhooks/index.ts';
import { channelSource } from './notify/channel-source.ts';
import type { EventPublisher } from '../events/index.ts';

/** A condition from the CLI's words, with typed errors people can act on. */
export async function conditionFromText(
  when: string,
  options: { forSec?: number | undefined; clear?: number | undefined; everySec?: number | undefined; timeoutSec?: number | undefined },
  /** A script check names its script by name or id: this finds it in the organization (NOT_FOUND otherwise). */
  resolveScript: (ref: string) => Promise<string>,
): Promise<Condition> {
  let parsed: Condition;
  const defined = <T extends object>(values: T) => Object.fromEntries(Object.entries(values).filter(([, value]) => value !== undefined));
  try {
    parsed = parseWhen(when, defined({ forSec: options.forSec, clear: options.clear, everySec: options.everySec, timeoutSec: options.timeoutSec }));
  } catch (error) {
    if (error instanceof ConditionSyntaxError) throw new AppError('BAD_REQUEST', error.message);
    throw error;
  }
  if (parsed.kind !== 'script' && (options.everySec !== undefined || options.timeoutSec !== undefined)) {
    throw new AppError('BAD_REQUEST', '--every and --timeout apply to script checks only');
  }
  if (parsed.kind === 'script') parsed = { ...parsed, scriptId: await resolveScript(parsed.scriptId) };
  const checked = conditionSchema.safeParse(parsed);
  if (!checked.success) throw new AppError('BAD_REQUEST', `Invalid condition "${when}": ${checked.error.issues.map((issue) => issue.message).join('; ')}`);
  return checked.data;
}

const email = z.email().max(320);

/**
 * Creates a channel after checking its target: an email address, or an http(s) URL whose host
 * resolves to addresses a webhook may reach (checked again at every send). Webhooks get a signing
 * secret, returned only here.
 */
export async function createCheckedChannel(db: SqlExecutor, organizationId: string, input: { name: string; kind: ChannelKind; target: string; minSeverity: Severity }, allowPrivate: boolean): Promise<{ channel: Channel; signingSecret: string | null }> {
  if (input.kind === 'email') {
    if (!email.safeParse(input.target).success) throw new AppError('BAD_REQUEST', `"${input.target.slice(0, 200)}" is not an email address`);
  } else {
    await checkedAddress(parseChannelUrl(input.target), allowPrivate);
  }
  const signingSecret = input.kind === 'webhook' ? `whsec_${randomBytes(24).toString('base64url')}` : null;
  const channel = await createChannel(db, organizationId, { ...input, signingSecret });
  return { channel, signingSecret };
}

/** Sends a test message now and logs it like any delivery; the answer says what happened. */
export async function sendTestMessage(db: SqlExecutor, organizationId: string, channelId: string, options: TransportOptions): Promise<SendResult> {
  await getChannel(db, organizationId, channelId);
  const [channel] = await channelSource.load(db, [channelId]);
  const message = channelSource.message({ event: 'channel.test', organizationId, alert: null, text: `Test message from NinjaIT for channel "${channel!.name}"` });
  return sendAndRecord(db, channelSource, channel!, message, { key: `test:${channelId}:${randomBytes(6).toString('hex')}` }, options,
    { outboxId: 0, attempt: 1, messages: 1, digest: false });
}

/** Acknowledges or resolves several alerts; each one that cannot change is reported, the rest change. */
export async function bulkChange(db: RelationalStore, events: EventPublisher, organizationId: string, ids: readonly string[], action: 'acknowledge' | 'resolve', by: string | null) {
  const failed: { id: string; reason: string }[] = [];
  let changed = 0;
  for (const id of new Set(ids)) {
    try {
      await db.transaction((tx) => (action === 'acknowledge' ? acknowledgeAlert(tx, organizationId, id, by) : resolveByPerson(tx, events, organizationId, id, by)));
      changed++;
    } catch (error) {
      if (!(error instanceof AppError)) throw error;
      failed.push({ id, reason: error.message });
    }
  }
  // One id that is not the caller's (or does not exist) answers NOT_FOUND, like every other procedure.
  if (ids.length === 1 && failed[0]) throw new AppError(failed[0].reason.includes('not found') ? 'NOT_FOUND' : 'CONFLICT', failed[0].reason);
  return { changed, failed };
}
