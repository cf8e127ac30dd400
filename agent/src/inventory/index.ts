export { collectSoftware, type SoftwareSnapshot, type CollectOptions } from './collect.ts';
export { createInventoryReporter, packageDatabaseSignal, type InventoryReporter } from './reporter.ts';
export { startPatchRunner, installedVersion, type PatchApi } from './patch-runner.ts';
export { installPatches, installCommand } from './install.ts';
export { buildReport, snapshotHash } from './snapshot.ts';
export { startSoftwareInventory, type SoftwareInventoryOptions } from './start.ts';
export { decideReboot, defaultAllowReboot, rebootCommand } from './reboot.ts';
