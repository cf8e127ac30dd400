import { z } from 'zod';
import { isReleaseVersion } from './semver.ts';

/** What kinds of artifact a release folder holds: `bundle` is what auto-update installs. */
export const ARTIFACT_KINDS = ['bundle', 'deb', 'rpm', 'pkg', 'msi'] as const;
export type ArtifactKind = (typeof ARTIFACT_KINDS)[number];
export const RELEASE_PLATFORMS = ['linux', 'darwin', 'win32'] as const;

/** A bare file name: no path, so metadata cannot point the server or an agent elsewhere. */
const SAFE_FILE_NAME = /^[A-Za-z0-9][A-Za-z0-9._+-]{0,199}$/;

/**
 * The signed facts about one agent artifact (`<file>.json` beside `<file>` in the releases
 * folder, written by installers/sign.ts). The server lists and serves them; the agent verifies
 * the signature over every field but `signature` with its installed key, so a server never
 * needs the key and cannot forge an update.
 */
export const releaseSchema = z.object({
  version: z.string().max(64).refine(isReleaseVersion, 'a semantic version like 1.2.3'),
  platform: z.enum(RELEASE_PLATFORMS),
  arch: z.string().regex(/^[a-z0-9_]{1,16}$/),
  kind: z.enum(ARTIFACT_KINDS),
  file: z.string().regex(SAFE_FILE_NAME),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  size: z.number().int().positive(),
  /** Base64 Ed25519 signature of the release message (agent/src/update/release.ts). */
  signature: z.string().min(1).max(200),
});
export type Release = z.infer<typeof releaseSchema>;
export type UnsignedRelease = Omit<Release, 'signature'>;
export type ReleaseQuery = Pick<Release, 'platform' | 'arch' | 'kind'>;
