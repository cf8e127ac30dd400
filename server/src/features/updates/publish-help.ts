import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { AGENT_VERSION } from '@ninjait/shared';
import { releasesDir } from './releases.ts';

/**
 * The exact commands that publish a package this server does not have, with this server's
 * folders filled in, for the install lines that are not offered yet.
 */

/** Where `ninjait start` keeps its release key and build records (installers/publish-local.ts --work-dir). */
export const localPackagesDir = (env: { DATA_DIR: string }) => resolve(env.DATA_DIR, 'agent-packages');

/** Single-quoted for a POSIX shell when it holds anything but plain path characters. */
const shellWord = (value: string) => (/^[A-Za-z0-9._/~:=@+-]+$/.test(value) ? value : `'${value.replaceAll("'", `'\\''`)}'`);

export interface PublishHelp {
  /** Builds and signs this machine's .deb, .rpm and bundle into the releases folder. */
  local: string;
  macos: string;
  windows: string;
}

export function publishHelp(env: { DATA_DIR: string; RELEASES_DIR?: string | undefined }): PublishHelp {
  const releases = shellWord(resolve(releasesDir(env)));
  const work = localPackagesDir(env);
  // The quick start's key when it made one: packages signed with it update the agents it installed.
  const quickStartKey = existsSync(join(work, 'update-key.pem'));
  const keyDir = quickStartKey ? shellWord(work) : '~/ninjait-keys';
  const keygen = quickStartKey ? '' : `node --import tsx installers/sign.ts keygen --out ${keyDir}   # once; keep update-key.pem secret\n`;
  const sign = (file: string, platform: string, arch: string, kind: string) =>
    `node --import tsx installers/sign.ts sign --key ${keyDir}/update-key.pem --file ${file} --version ${AGENT_VERSION} --platform ${platform} --arch ${arch} --kind ${kind} --out ${releases}`;
  return {
    local: `node --import tsx installers/publish-local.ts --releases-dir ${releases} --work-dir ${shellWord(work)}`,
    macos: `${keygen}# on a Mac, in this repository (copy update-key.pub there):\n`
      + `installers/macos/build.sh --version ${AGENT_VERSION} --update-key update-key.pub --out dist\n`
      + `# here, with the .pkg copied into dist/:\n${sign(`dist/ninjait-agent-${AGENT_VERSION}-darwin-arm64.pkg`, 'darwin', 'arm64', 'pkg')}`,
    windows: `${keygen}# on Windows with WiX 5, in this repository (copy update-key.pub there):\n`
      + `pwsh installers/windows/build.ps1 -Version ${AGENT_VERSION} -UpdateKey update-key.pub -Out dist\n`
      + `# here, with the .msi copied into dist/:\n${sign(`dist/ninjait-agent-${AGENT_VERSION}-win32-x64.msi`, 'win32', 'x64', 'msi')}`,
  };
}
