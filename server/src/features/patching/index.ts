export { createPatchingService, type PatchingService, type ComplianceReport } from './service.ts';
export { patchingJobs } from './jobs.ts';
export { createPatchingAgentProcedures } from './agent-procedures.ts';
export { createSoftwareRouter, createPatchesRouter } from './patching.router.ts';
export { compareVersions, compareDebian, compareRpm, ecosystemOf } from './versions.ts';
