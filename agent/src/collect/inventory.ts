import { hostname } from 'node:os';
import si from 'systeminformation';
import { AGENT_VERSION, inventorySchema, type Inventory } from '@ninjait/shared';
import { toBytes, toNonNegative, toText, withTimeout } from './num.ts';
import { pickMachineKey, readLinuxMachineIds } from './machine-key.ts';
import { DEFAULT_PROBE_TIMEOUT_MS } from './sample.ts';
import { cpuSpeedGHz } from './cpu-speed.ts';
import { primaryAddress } from './addresses.ts';

const MAX_ITEMS = 256;

/**
 * Describes the machine (sent at enrollment and hourly). Passes `inventorySchema`.
 * Rejects only if no stable machine identifier exists at all.
 */
export async function collectInventory(opts: { timeoutMs?: number } = {}): Promise<Inventory> {
  const ms = opts.timeoutMs ?? DEFAULT_PROBE_TIMEOUT_MS;
  const t = <T>(p: Promise<T>, what: string) => withTimeout(p, ms, what);
  // Each probe may fail on some OS or without privileges; an inventory with blanks beats none.
  const [os, sys, ids, cpu, mem, disks, ifaces, filesystems] = await Promise.all([
    t(si.osInfo(), 'osInfo').catch(() => null),
    t(si.system(), 'system').catch(() => null),
    t(si.uuid(), 'uuid').catch(() => null),
    t(si.cpu(), 'cpu').catch(() => null),
    t(si.mem(), 'mem').catch(() => null),
    t(si.diskLayout(), 'diskLayout').catch(() => []),
    t(si.networkInterfaces(), 'networkInterfaces').catch(() => []),
    // Virtual machines and containers often list no physical disk: their mounts still say what storage there is.
    t(si.fsSize(), 'fsSize').catch(() => []),
  ]);
  const ifaceList = Array.isArray(ifaces) ? ifaces : [ifaces];
  const address = primaryAddress(ifaceList);

  const osIds = [ids?.os ?? ''];
  if (process.platform === 'linux') osIds.push(...readLinuxMachineIds());
  const machineKey = pickMachineKey({
    hardwareUuids: [ids?.hardware ?? '', sys?.uuid ?? ''],
    osIds,
    macs: [...(ids?.macs ?? []), ...ifaceList.map((i) => i.mac)],
  });
  if (!machineKey) throw new Error('no stable machine identifier (no hardware UUID, OS machine id or MAC address)');

  const inventory: Inventory = {
    hostname: toText(os?.hostname || hostname(), 256),
    os: {
      platform: toText(os?.platform || process.platform, 64),
      distro: toText(os?.distro, 256),
      release: toText(os?.release, 256),
      kernel: toText(os?.kernel, 256),
      arch: toText(os?.arch || process.arch, 64),
    },
    hardware: {
      manufacturer: toText(sys?.manufacturer, 256),
      model: toText(sys?.model, 256),
      serial: toText(sys?.serial, 256),
      uuid: toText(sys?.uuid || ids?.hardware, 256),
    },
    machineKey,
    cpu: {
      brand: toText([cpu?.manufacturer, cpu?.brand].filter(Boolean).join(' '), 256),
      cores: toBytes(cpu?.cores),
      physicalCores: toBytes(cpu?.physicalCores),
      speedGHz: cpuSpeedGHz(cpu),
    },
    memoryBytes: toBytes(mem?.total),
    disks: disks.slice(0, MAX_ITEMS).map((d) => ({
      device: toText(d.device, 256),
      type: toText(d.type, 64),
      name: toText(d.name, 256),
      sizeBytes: toNonNegative(d.size),
    })),
    interfaces: ifaceList.slice(0, MAX_ITEMS).map((i) => ({
      iface: toText(i.iface, 128),
      mac: toText(i.mac, 64),
      ip4: toText(i.ip4, 64),
      ip6: toText(i.ip6, 128),
    })),
    filesystems: filesystems.slice(0, MAX_ITEMS).map((f) => ({
      mount: toText(f.mount, 256),
      fs: toText(f.fs, 256),
      type: toText(f.type, 64),
      sizeBytes: toNonNegative(f.size),
    })),
    ...(address ? { primaryAddress: address } : {}),
    agentVersion: AGENT_VERSION,
  };
  return inventorySchema.parse(inventory);
}
