import { open } from 'node:fs/promises';
import { FILE_CHUNK_BYTES, TRANSFER_WINDOW } from '@ninjait/shared';
import { RemoteFailure } from './errors.ts';

/** How far past the partial's end a chunk may arrive and wait for the ones before it. */
export const MAX_AHEAD_BYTES = 2 * TRANSFER_WINDOW * FILE_CHUNK_BYTES;
/** How long such a chunk waits; under the server's 30 s request timeout, so the sender hears why. */
const WAIT_MS = 20_000;

interface Waiting { offset: number; data: Buffer; resolve: (v: { offset: number }) => void; reject: (e: unknown) => void; timer: NodeJS.Timeout }
interface State { queued: number; chain: Promise<void>; waiting: Map<number, Waiting> }

const isDiskFull = (error: unknown) => ['ENOSPC', 'EDQUOT'].includes((error as NodeJS.ErrnoException).code ?? '');

/**
 * Writes upload chunks into partial files strictly in order. Chunks of one partial are handled
 * one at a time (no two writes race on its size); one that arrives ahead of the partial's end
 * is parked until the gap is filled, at most MAX_AHEAD_BYTES ahead and for WAIT_MS.
 */
export function createChunkSequencer(remove: (path: string) => Promise<unknown>, opts: { waitMs?: number } = {}) {
  const states = new Map<string, State>();
  const waitMs = opts.waitMs ?? WAIT_MS;

  /** Writes at `offset` (at or before the end) and answers the partial's new end. */
  async function writeAt(partial: string, offset: number, data: Buffer): Promise<number> {
    let handle;
    try {
      handle = await open(partial, 'r+');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new RemoteFailure('NOT_FOUND', 'The upload was not begun, or was aborted: begin it again');
      throw error;
    }
    try {
      const { size } = await handle.stat();
      if (offset > size) return -size - 1;
      await handle.write(data, 0, data.length, offset);
      return Math.max(size, offset + data.length);
    } catch (error) {
      if (isDiskFull(error)) await remove(partial);
      throw error;
    } finally {
      await handle.close().catch(() => undefined);
    }
  }

  async function step(partial: string, state: State, chunk: Waiting) {
    let end = await writeAt(partial, chunk.offset, chunk.data).catch((error: unknown) => {
      chunk.reject(error);
      return null;
    });
    if (end === null) return;
    if (end < 0) {
      const have = -end - 1;
      if (chunk.offset - have > MAX_AHEAD_BYTES) return chunk.reject(new RemoteFailure('CONFLICT', `The device has ${have} bytes of this upload; continue from there`));
      chunk.timer = setTimeout(() => {
        state.waiting.delete(chunk.offset);
        chunk.reject(new RemoteFailure('CONFLICT', `The bytes before offset ${chunk.offset} did not arrive; the device has ${have}: continue from there`));
        release(partial, state);
      }, waitMs);
      state.waiting.set(chunk.offset, chunk);
      return;
    }
    chunk.resolve({ offset: chunk.offset + chunk.data.length });
    // The chunk may have filled the gap some parked ones were waiting for.
    for (let parked = state.waiting.get(end); parked; parked = state.waiting.get(end)) {
      state.waiting.delete(end);
      clearTimeout(parked.timer);
      const next: number | null = await writeAt(partial, parked.offset, parked.data).catch((error: unknown) => {
        parked!.reject(error);
        return null;
      });
      if (next === null || next < 0) return;
      parked.resolve({ offset: parked.offset + parked.data.length });
      end = next;
    }
  }

  function release(partial: string, state: State) {
    if (state.queued === 0 && state.waiting.size === 0 && states.get(partial) === state) states.delete(partial);
  }

  return {
    write(partial: string, offset: number, data: Buffer): Promise<{ offset: number }> {
      let state = states.get(partial);
      if (!state) states.set(partial, (state = { queued: 0, chain: Promise.resolve(), waiting: new Map() }));
      const s = state;
      return new Promise((resolve, reject) => {
        const chunk: Waiting = { offset, data, resolve, reject, timer: undefined as unknown as NodeJS.Timeout };
        s.queued += 1;
        s.chain = s.chain.then(() => step(partial, s, chunk)).finally(() => {
          s.queued -= 1;
          release(partial, s);
        });
      });
    },
    /** The partial was removed or restarted: parked chunks are refused, nothing more is kept for it. */
    forget(partial: string) {
      const state = states.get(partial);
      if (!state) return;
      for (const parked of state.waiting.values()) {
        clearTimeout(parked.timer);
        parked.reject(new RemoteFailure('NOT_FOUND', 'The upload was aborted or begun again'));
      }
      state.waiting.clear();
      states.delete(partial);
    },
  };
}
