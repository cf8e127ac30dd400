import type { DestinationSource } from '../../webhooks/index.ts';
import { channelsForSending, recordChannelOutcome } from '../channels-repository.ts';
import type { NotificationPayload } from '../lifecycle.ts';
import { digestMessage, singleMessage } from './formats.ts';

/** Alert notification channels as the shared outbox sends them: one message each, digests in a burst. */
export const channelSource: DestinationSource = {
  kind: 'channel',
  async load(db, ids) {
    return (await channelsForSending(db, ids)).map(({ kind, ...channel }) => ({ ...channel, format: kind }));
  },
  recordOutcome: recordChannelOutcome,
  message: (payload) => singleMessage(payload as NotificationPayload),
  digest: (organizationId, payloads) => digestMessage(organizationId, payloads as NotificationPayload[]),
};
