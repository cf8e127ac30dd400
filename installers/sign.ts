// Release signing for agent auto-update. The private key never goes near the server: sign on
// a build machine (or CI with the key in a secret), copy the artifact and its .json to the
// server's releases folder (RELEASES_DIR, default DATA_DIR/releases).
//   keygen --out DIR                      DIR/update-key.pem (private, 0600) + DIR/update-key.pub
//   sign   --key PEM --file F --version V --platform linux|darwin|win32 --arch x64|arm64
//          --kind bundle|deb|rpm|pkg|msi --out RELEASES_DIR
//   verify --pub PUB --release RELEASES_DIR/F.json
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { loadPrivateKey, loadPublicKey, releaseSchema, verifyRelease } from '@ninjait/agent/update';
import { generateReleaseKey } from './publish/release-key.ts';
import { publishRelease, sha256File, type ReleaseFacts } from './publish/publish-release.ts';

const [command, ...rest] = process.argv.slice(2);
const { values } = parseArgs({
  args: rest,
  options: {
    out: { type: 'string' }, key: { type: 'string' }, pub: { type: 'string' }, file: { type: 'string' }, release: { type: 'string' },
    version: { type: 'string' }, platform: { type: 'string' }, arch: { type: 'string' }, kind: { type: 'string' }, force: { type: 'boolean' },
  },
});
const need = (name: keyof typeof values): string => {
  const value = values[name];
  if (typeof value !== 'string' || value === '') throw new Error(`--${name} is required for ${command}`);
  return value;
};

function keygen(): void {
  const key = generateReleaseKey(resolve(need('out')), values.force ?? false);
  process.stdout.write(`${key.privatePath} (keep secret)\n${key.publicPath} (ship with every package)\n`);
}

async function sign(): Promise<void> {
  const key = loadPrivateKey(readFileSync(need('key')));
  // Validated (by publishRelease) before signing: the agent would refuse anything the schema refuses.
  const facts = { version: need('version'), platform: need('platform'), arch: need('arch'), kind: need('kind') } as ReleaseFacts;
  const release = await publishRelease(resolve(need('out')), need('file'), facts, key);
  process.stdout.write(`signed ${release.kind} ${release.version} ${release.platform}-${release.arch}: ${join(resolve(need('out')), release.file)}.json\n`);
}

async function verify(): Promise<void> {
  const publicKey = loadPublicKey(readFileSync(need('pub')));
  const metaPath = resolve(need('release'));
  const release = releaseSchema.parse(JSON.parse(readFileSync(metaPath, 'utf8')));
  if (!verifyRelease(release, publicKey)) throw new Error(`${metaPath}: signature does not verify`);
  const artifact = join(metaPath, '..', release.file);
  if ((await sha256File(artifact)) !== release.sha256) throw new Error(`${artifact}: SHA-256 does not match the signed one`);
  process.stdout.write(`ok: ${release.file} ${release.version} is signed by this key\n`);
}

const commands: Record<string, () => void | Promise<void>> = { keygen, sign, verify };
const run = command ? commands[command] : undefined;
if (!run) {
  process.stderr.write('usage: node --import tsx installers/sign.ts keygen|sign|verify [options] (see the top of this file)\n');
  process.exit(2);
}
try {
  await run();
} catch (err) {
  process.stderr.write(`sign.ts ${command}: ${(err as Error).message}\n`);
  process.exit(1);
}
