import type { CacheStore } from '../../stores/cache/index.ts';
import type { Logger } from '../../platform/obs/logger.ts';
import { deviceChannel, outputChannel } from './channels.ts';
import type { Command, CommandResult, CommandStatus, DeviceChannelMessage, OutputChunk } from './types.ts';

/** What travels on `command:<id>:output`: one message per stored batch keeps publishes few. */
export type ChannelEvent =
  | { type: 'chunks'; chunks: OutputChunk[] }
  | { type: 'status'; status: CommandStatus }
  /** `lastSeq`: the highest chunk stored, when known, so streams that saw it need not re-read the output. */
  | ({ type: 'result'; lastSeq?: number } & CommandResult);

export const resultOf = (command: Pick<Command, 'status' | 'exitCode' | 'error' | 'outputBytes' | 'outputTruncated'>): CommandResult => ({
  status: command.status, exitCode: command.exitCode, error: command.error,
  outputBytes: command.outputBytes, outputTruncated: command.outputTruncated,
});

/**
 * Publishing is best effort: the row in PostgreSQL is the truth, and every subscriber
 * re-reads it (agents on reconnect, people on a periodic check), so a lost message only delays.
 */
export function createPublisher(cache: CacheStore, log: Logger) {
  const publish = async (channel: string, message: unknown) => {
    try {
      await cache.publish(channel, JSON.stringify(message));
    } catch (error) {
      log.warn({ err: error, channel }, 'could not publish on the cache; subscribers will catch up from the database');
    }
  };
  return {
    toDevice: (deviceId: string, message: DeviceChannelMessage) => publish(deviceChannel(deviceId), message),
    output: (commandId: string, event: ChannelEvent) => publish(outputChannel(commandId), event),
    result: (command: Pick<Command, 'id' | 'status' | 'exitCode' | 'error' | 'outputBytes' | 'outputTruncated'> & { lastSeq?: number }) =>
      publish(outputChannel(command.id), {
        type: 'result', ...resultOf(command), ...(command.lastSeq === undefined ? {} : { lastSeq: command.lastSeq }),
      } satisfies ChannelEvent),
  };
}
export type Publisher = ReturnType<typeof createPublisher>;
