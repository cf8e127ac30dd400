import { randomUUID } from 'node:crypto';
import { describe, expect, it, vi } from 'vitest';
import type { WebSocket } from 'ws';
import { allocChunkFrame } from '@ninjait/shared';
import { createLogger } from '../../platform/obs/logger.ts';
import { createFrameReceiver, UNSUPPORTED_DATA } from './frame-receiver.ts';

const fakeSocket = () => ({ close: vi.fn() }) as unknown as WebSocket & { close: ReturnType<typeof vi.fn> };

describe('binary frame receiver', () => {
  const deviceId = randomUUID();
  const device = fakeSocket();
  const setup = () => {
    const fromAgentFrame = vi.fn(async () => ({ accepted: true }));
    const receive = createFrameReceiver({ rpc: { fromAgentFrame }, deviceOf: (s) => (s === device ? deviceId : null), log: createLogger('silent') });
    return { receive, fromAgentFrame };
  };

  it('hands a device\'s chunk frame to the RPC as that device', () => {
    const { receive, fromAgentFrame } = setup();
    const requestId = randomUUID();
    receive(device, allocChunkFrame(requestId, 8, 0));
    expect(fromAgentFrame).toHaveBeenCalledWith(deviceId, expect.objectContaining({ requestId, offset: 8 }));
    expect(device.close).not.toHaveBeenCalled();
  });

  it('closes a socket without device credentials that sends one, and a device socket that sends garbage', () => {
    const { receive, fromAgentFrame } = setup();
    const person = fakeSocket();
    receive(person, allocChunkFrame(randomUUID(), 0, 0));
    expect(person.close).toHaveBeenCalledWith(UNSUPPORTED_DATA, expect.any(String));
    receive(device, Buffer.from('{"id":1}'));
    expect(device.close).toHaveBeenCalledWith(UNSUPPORTED_DATA, expect.any(String));
    expect(fromAgentFrame).not.toHaveBeenCalled();
  });
});
