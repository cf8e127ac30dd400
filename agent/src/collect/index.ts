export { collectSample, createSampler, type PartialFailure, type SamplerOptions } from './sample.ts';
export type { PartFallback, SamplePart } from './parts.ts';
export { collectInventory } from './inventory.ts';
export { pickMachineKey, type MachineKeySources } from './machine-key.ts';
export { createCollector, INVENTORY_INTERVAL_MS, type Collector, type CollectorOptions, type CollectorStats } from './collector.ts';
