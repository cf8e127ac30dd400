// Release signing for agent auto-update. The private key never goes near the server: sign on
// a build machine (or CI with the key in a secret), copy the artifact and its .json to the
// server's releases folder (RELEASES_DIR, default DATA_DIR/releases).
//   keygen --out DIR                      DIR/update-key.pem (private, 0600) + DIR/update-key.pub
//   sign   --key PEM --file F --version V --platform linux|darwin|win32 --arch x64|arm64
//          --kind bundle|deb|rpm|pkg|msi --out RELEASES_DIR
//   verify --pub PUB --release RELEASES_DIR/F.json
import { createHash, generateKeyPairSync } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { loadPrivateKey, loadPublicKey, releaseSchema, signRelease, verifyRelease, type UnsignedRelease } from '../agent/src/update/release.ts';

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
const sha256File = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');

function keygen(): void {
  const dir = resolve(need('out'));
  const privatePath = join(dir, 'update-key.pem');
  if (existsSync(privatePath) && !values.force) throw new Error(`${privatePath} exists; pass --force to replace it (agents installed with the old key will refuse updates)`);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  writeFileSync(privatePath, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
  writeFileSync(join(dir, 'update-key.pub'), publicKey.export({ type: 'spki', format: 'pem' }), { mode: 0o644 });
  process.stdout.write(`${privatePath} (keep secret)\n${join(dir, 'update-key.pub')} (ship with every package)\n`);
}

function sign(): void {
  const key = loadPrivateKey(readFileSync(need('key')));
  const source = resolve(need('file'));
  const outDir = resolve(need('out'));
  mkdirSync(outDir, { recursive: true });
  const facts = {
    version: need('version'), platform: need('platform'), arch: need('arch'), kind: need('kind'),
    file: basename(source), sha256: sha256File(source), size: statSync(source).size,
  };
  // Validate before signing: the agent would refuse anything the schema refuses.
  const unsigned = releaseSchema.omit({ signature: true }).parse(facts) as UnsignedRelease;
  const release = signRelease(unsigned, key);
  const target = join(outDir, release.file);
  if (resolve(target) !== source) copyFileSync(source, target);
  writeFileSync(`${target}.json`, `${JSON.stringify(release, null, 2)}\n`);
  process.stdout.write(`signed ${release.kind} ${release.version} ${release.platform}-${release.arch}: ${target}.json\n`);
}

function verify(): void {
  const publicKey = loadPublicKey(readFileSync(need('pub')));
  const metaPath = resolve(need('release'));
  const release = releaseSchema.parse(JSON.parse(readFileSync(metaPath, 'utf8')));
  if (!verifyRelease(release, publicKey)) throw new Error(`${metaPath}: signature does not verify`);
  const artifact = join(metaPath, '..', release.file);
  if (sha256File(artifact) !== release.sha256) throw new Error(`${artifact}: SHA-256 does not match the signed one`);
  process.stdout.write(`ok: ${release.file} ${release.version} is signed by this key\n`);
}

const commands: Record<string, () => void> = { keygen, sign, verify };
const run = command ? commands[command] : undefined;
if (!run) {
  process.stderr.write('usage: node --import tsx installers/sign.ts keygen|sign|verify [options] (see the top of this file)\n');
  process.exit(2);
}
try {
  run();
} catch (err) {
  process.stderr.write(`sign.ts ${command}: ${(err as Error).message}\n`);
  process.exit(1);
}
