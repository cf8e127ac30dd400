import { networkInterfaces } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { SampleParts } from '../parts.ts';
import { createCpuLoad } from './cpu.ts';
import { createDiskUsage } from './disks.ts';
import { memoryFromMeminfo } from './memory.ts';
import { createNetworkRates } from './network.ts';
import { createProcFileReader } from './proc-file.ts';

export interface ProcPartsOptions {
  /** Where /proc is found (tests point it at fixtures); `/` by default. */
  root?: string;
  /** The interfaces to report; by default those with an address, as systeminformation reports them. */
  interfaceNames?: () => Iterable<string>;
  /** statfs(2) of a mount point; node's by default. */
  statfs?: Parameters<typeof createDiskUsage>[0];
}

/**
 * The sample's parts read in this process from the kernel's files and statfs(2), with no child
 * process: /proc/stat (CPU), /proc/meminfo, /proc/net/dev and /proc/self/mountinfo. Each
 * returns what systeminformation returns for the same part on Linux (see linux-vs-si.test.ts).
 * Holds the previous CPU and interface counters, so one instance serves one process.
 */
export function createProcParts(opts: ProcPartsOptions = {}): SampleParts {
  const root = opts.root ?? '/';
  const path = (file: string) => join(root, 'proc', file);
  const interfaceNames = opts.interfaceNames ?? (() => Object.keys(networkInterfaces()));
  const files = createProcFileReader();
  const cpuLoad = createCpuLoad();
  const diskUsage = createDiskUsage(opts.statfs);
  const networkRates = createNetworkRates();
  return {
    cpu: async () => cpuLoad(files.read(path('stat'))),
    memory: async () => memoryFromMeminfo(files.read(path('meminfo'))),
    disks: () => diskUsage(files.read(path('self/mountinfo'))),
    network: async () => {
      const names = new Set(interfaceNames());
      return networkRates(files.read(path('net/dev')), performance.now(), (iface) => names.has(iface));
    },
  };
}
