import { z } from 'zod';
import { MAX_BYTES, MAX_CPU_CORES, MAX_CPU_GHZ, MAX_SAMPLE_ITEMS } from '../constants.ts';
import { boundedText, boundedCount, storableText } from './bounds.ts';

const text = (max = 256) => boundedText(max);

/** What a device is: collected at enrollment and hourly. */
export const inventorySchema = z.object({
  hostname: text(),
  os: z.object({
    // The devices table's os_type column holds 50 characters; platforms are words like "linux".
    platform: text(50),
    distro: text(),
    release: text(),
    kernel: text(),
    arch: text(64),
  }).strict(),
  hardware: z.object({
    manufacturer: text(),
    model: text(),
    serial: text(),
    uuid: text(),
  }).strict(),
  /** Best stable identifier available: hardware UUID, else OS machine id, else MACs. */
  machineKey: z.string().min(1).max(256).transform(storableText),
  cpu: z.object({
    brand: text(),
    cores: z.number().int().nonnegative().max(MAX_CPU_CORES),
    physicalCores: z.number().int().nonnegative().max(MAX_CPU_CORES),
    /** Base clock; 0 when the machine does not say (the console shows "unknown"). */
    speedGHz: z.number().nonnegative().max(MAX_CPU_GHZ),
  }).strict(),
  memoryBytes: boundedCount(),
  disks: z.array(z.object({
    device: text(), type: text(64), name: text(), sizeBytes: z.number().nonnegative().max(MAX_BYTES),
  }).strict()).max(MAX_SAMPLE_ITEMS),
  interfaces: z.array(z.object({ iface: text(128), mac: text(64), ip4: text(64), ip6: text(128) }).strict()).max(MAX_SAMPLE_ITEMS),
  // Fields below came later: optional, so inventories of older agents stay valid.
  /** Mounted file systems: virtual machines and containers often show no physical disk at all. */
  filesystems: z.array(z.object({
    mount: text(), fs: text(), type: text(64), sizeBytes: z.number().nonnegative().max(MAX_BYTES),
  }).strict()).max(MAX_SAMPLE_ITEMS).optional(),
  /** The address of the interface that holds the default route: the one people know the machine by. */
  primaryAddress: z.union([z.ipv4(), z.ipv6()]).optional(),
  agentVersion: text(64),
}).strict();
export type Inventory = z.infer<typeof inventorySchema>;
