export { createPatchingService, type PatchingService, type ComplianceReport } from './service.ts';
export { patchingJobs } from './jobs.ts';
export { patchingAgentProcedures } from './agent-procedures.ts';
export { softwareRouter, patchesRouter } from './patching.router.ts';
export { compareVersions, compareDebian, compareRpm, ecosystemOf } from './versions.ts';
