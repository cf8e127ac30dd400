import type { DomainEvent } from '../events/index.ts';
import type { Command } from './types.ts';

/** `command.finished` for the event webhooks: the outcome, never the script or its output. */
export function commandFinished(command: Command): DomainEvent {
  return {
    type: 'command.finished', organizationId: command.organizationId, source: command.id,
    data: {
      command: {
        id: command.id, deviceId: command.deviceId, status: command.status, exitCode: command.exitCode, error: command.error,
        requestedBy: command.requestedByLabel, finishedAt: command.finishedAt ? new Date(command.finishedAt).toISOString() : null,
      },
    },
  };
}
