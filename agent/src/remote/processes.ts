import si from 'systeminformation';
import type { RemoteOp, RemoteResult } from '@ninjait/shared';
import { RemoteFailure } from './errors.ts';

type Op<K extends RemoteOp['kind']> = Extract<RemoteOp, { kind: K }>;

/** The live process list (CPU, memory, user, command line). */
export async function listProcesses(): Promise<RemoteResult<'proc.list'>> {
  const { list } = await si.processes();
  return {
    processes: list.slice(0, 20_000).map((p) => ({
      pid: p.pid, ppid: Number.isFinite(p.parentPid) ? p.parentPid : null, name: (p.name ?? '').slice(0, 256), user: (p.user ?? '').slice(0, 256),
      cpu: Number.isFinite(p.cpu) ? p.cpu : 0, memRssKb: Number.isFinite(p.memRss) ? p.memRss : 0,
      command: `${p.command ?? ''}${p.params ? ` ${p.params}` : ''}`.slice(0, 4096),
      started: (p.started ?? '').slice(0, 64),
    })),
  };
}

/**
 * Signals a process. The agent itself is refused (stopping it would cut the technician off; its
 * service manager is the way); on Windows every signal terminates.
 */
export function killProcess(op: Op<'proc.kill'>): RemoteResult<'proc.kill'> {
  if (op.pid === process.pid) throw new RemoteFailure('FORBIDDEN', 'That is the agent itself: restart it through its service instead');
  process.kill(op.pid, op.signal);
  return { pid: op.pid, signal: op.signal };
}
