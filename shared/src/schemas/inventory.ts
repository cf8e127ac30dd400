import { z } from 'zod';

const text = (max = 256) => z.string().max(max);

/** What a device is: collected at enrollment and hourly. */
export const inventorySchema = z.object({
  hostname: text(),
  os: z.object({
    platform: text(64),
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
  machineKey: text(256).min(1),
  cpu: z.object({
    brand: text(),
    cores: z.number().int().nonnegative(),
    physicalCores: z.number().int().nonnegative(),
    speedGHz: z.number().nonnegative(),
  }).strict(),
  memoryBytes: z.number().int().nonnegative(),
  disks: z.array(z.object({ device: text(), type: text(64), name: text(), sizeBytes: z.number().nonnegative() }).strict()).max(256),
  interfaces: z.array(z.object({ iface: text(128), mac: text(64), ip4: text(64), ip6: text(128) }).strict()).max(256),
  agentVersion: text(64),
}).strict();
export type Inventory = z.infer<typeof inventorySchema>;
