export { releaseSchema, releaseMessage, signRelease, verifyRelease, loadPublicKey, loadPrivateKey, ARTIFACT_KINDS, type Release, type UnsignedRelease, type ArtifactKind } from './release.ts';
export { compareVersions, isNewer } from '@ninjait/shared';
export { updateLayout, isRunnable, type UpdateLayout, type PendingMarker } from './layout.ts';
export { swapTo, confirmSwap, rollback, rollbackIfStale, recentlyFailed, readMarker } from './swap.ts';
export { resolveLaunchTarget, packagedVersion, type LaunchTarget } from './launch-target.ts';
export { checkForUpdate, type CheckOutcome, type CheckOptions } from './updater.ts';
export { offerSchema, type Offer } from './server-api.ts';
export { supervise, type SupervisorOptions } from './supervisor.ts';
export { AGENT_RUN_NODE_FLAGS } from './node-flags.ts';
