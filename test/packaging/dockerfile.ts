import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, statSync } from 'node:fs';
import { basename, join, posix } from 'node:path';

/**
 * Replays a Dockerfile's last stage on this machine, without a Docker engine: the files it
 * copies land in a folder standing for its WORKDIR, its `npm ci` runs there, and its CMD and
 * HEALTHCHECK come back as argument arrays. Instructions it does not know fail the replay, so
 * the Dockerfile cannot drift from what the test checks.
 */

export interface Instruction {
  keyword: string;
  args: string;
}

export interface Stage {
  name: string | null;
  instructions: Instruction[];
}

export interface ReplayedImage {
  /** The folder standing for the image's WORKDIR. */
  dir: string;
  env: Record<string, string>;
  cmd: string[];
  healthcheck: string[];
}

/** Stages in order, with continuation lines joined and comments dropped. */
export function parseDockerfile(text: string): Stage[] {
  const logical: string[] = [];
  let pending = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    if (line.endsWith('\\')) {
      pending += `${line.slice(0, -1).trim()} `;
      continue;
    }
    logical.push(pending + line);
    pending = '';
  }
  const stages: Stage[] = [];
  for (const line of logical) {
    const [, keyword = '', args = ''] = /^(\S+)\s*(.*)$/.exec(line) ?? [];
    const instruction = { keyword: keyword.toUpperCase(), args };
    if (instruction.keyword === 'FROM') stages.push({ name: /\bAS\s+(\S+)$/i.exec(instruction.args)?.[1] ?? null, instructions: [] });
    else stages.at(-1)?.instructions.push(instruction);
  }
  return stages;
}

/** An exec-form (JSON array) command: the form a container runs without a shell. */
function execForm(args: string, what: string): string[] {
  const parsed: unknown = JSON.parse(args);
  if (!Array.isArray(parsed) || !parsed.every((part) => typeof part === 'string')) throw new Error(`${what} is not in exec form: ${args}`);
  return parsed;
}

/** Runs a command (an argument array) to completion; throws with its output when it fails. */
export function run(command: string[], options: { cwd: string; env: NodeJS.ProcessEnv }): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command[0]!, command.slice(1), { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('error', reject);
    child.once('exit', (code, signal) => (code === 0 ? resolve(output) : reject(new Error(`${command.join(' ')} exited with ${code ?? signal}:\n${output}`))));
  });
}

/**
 * This process's environment without npm's own variables: run from `npm test`, they would
 * steer the replayed `npm ci` (its workspace, its prefix) instead of the Dockerfile's flags.
 */
export function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return { ...Object.fromEntries(Object.entries(process.env).filter(([name]) => !/^npm_/i.test(name))), ...extra };
}

interface ReplayOptions {
  /** The build context: the checkout. */
  repo: string;
  /** Empty folder standing for the image's WORKDIR. */
  into: string;
}

/**
 * The last stage of `stages`, replayed into `into`. The build stage it copies from is the
 * checkout: its `node scripts/build.mjs …` steps are rerun there (when stale), its dependency
 * install is the checkout's own.
 */
export async function replayRuntimeStage(stages: Stage[], { repo, into }: ReplayOptions): Promise<ReplayedImage> {
  const runtime = stages.at(-1);
  if (!runtime) throw new Error('no stage in the Dockerfile');
  const image: ReplayedImage = { dir: into, env: {}, cmd: [], healthcheck: [] };
  const stagesBuilt = new Map<string, (path: string) => string>();
  let workdir = '/';
  const local = (path: string) => {
    const absolute = posix.resolve(workdir, path);
    if (!absolute.startsWith(`${workdir}/`) && absolute !== workdir) throw new Error(`the replay keeps files under WORKDIR ${workdir}, not ${absolute}`);
    return join(into, posix.relative(workdir, absolute));
  };

  for (const { keyword, args } of runtime.instructions) {
    switch (keyword) {
      case 'WORKDIR':
        workdir = posix.resolve(workdir, args);
        break;
      case 'ENV':
        for (const pair of args.split(/\s+/)) {
          const match = /^(\w+)=(\S*)$/.exec(pair);
          if (!match) throw new Error(`ENV ${args}: the replay reads KEY=value pairs only`);
          image.env[match[1]!] = match[2]!;
        }
        break;
      case 'COPY': {
        const words = args.split(/\s+/);
        const from = words.find((word) => word.startsWith('--from='))?.slice('--from='.length);
        const paths = words.filter((word) => !word.startsWith('--'));
        const dest = paths.pop()!;
        if (from !== undefined && !stagesBuilt.has(from)) stagesBuilt.set(from, await builtFiles(stages, from, repo));
        const source = from === undefined ? (path: string) => join(repo, path) : stagesBuilt.get(from)!;
        const intoDir = dest.endsWith('/') || paths.length > 1;
        for (const path of paths) {
          const file = source(path);
          if (!existsSync(file)) throw new Error(`COPY ${args}: ${path} does not exist`);
          const target = statSync(file).isDirectory() || !intoDir ? local(dest) : join(local(dest), basename(file));
          mkdirSync(statSync(file).isDirectory() ? target : join(target, '..'), { recursive: true });
          cpSync(file, target, { recursive: true });
        }
        break;
      }
      case 'RUN':
        for (const command of args.split('&&').map((part) => part.trim())) await replayRun(command, into, image.env, local);
        break;
      case 'HEALTHCHECK':
        image.healthcheck = execForm(args.replace(/^(--\S+\s+)*CMD\s+/, ''), 'HEALTHCHECK CMD');
        break;
      case 'CMD':
        image.cmd = execForm(args, 'CMD');
        break;
      case 'ARG': case 'USER': case 'VOLUME': case 'EXPOSE': case 'LABEL':
        break; // nothing a folder on this machine can stand for
      default:
        throw new Error(`the replay does not know ${keyword}: teach test/packaging/dockerfile.ts`);
    }
  }
  return image;
}

/** One `RUN` command of the runtime stage. */
async function replayRun(command: string, dir: string, env: Record<string, string>, local: (path: string) => string): Promise<void> {
  const words = command.split(/\s+/);
  if (words[0] === 'npm' && words[1] === 'ci') {
    // From this machine's npm cache when it can: the replay checks what gets installed, not the network.
    await run([...words, '--prefer-offline'], { cwd: dir, env: cleanEnv(env) });
    return;
  }
  // It would empty this machine's shared npm cache; a layer's size is no concern here.
  if (command === 'npm cache clean --force') return;
  // A link on the image's PATH: its target must be there; the link itself is outside the folder.
  if (words[0] === 'ln' && words[1] === '-s' && words.length === 4) {
    if (!existsSync(local(words[2]!))) throw new Error(`RUN ${command}: the link's target is not in the image`);
    return;
  }
  // The data folder: the test gives the server its own temp folder instead.
  if (/^(mkdir -p|chown \S+) \/data$/.test(command)) return;
  throw new Error(`the replay does not know RUN ${command}: teach test/packaging/dockerfile.ts`);
}

/** Files of the stage named `from`: the checkout, after rerunning that stage's build steps. */
async function builtFiles(stages: Stage[], from: string, repo: string): Promise<(path: string) => string> {
  const stage = stages.find((candidate) => candidate.name === from);
  if (!stage) throw new Error(`COPY --from=${from}: no such stage`);
  const workdir = stage.instructions.filter((i) => i.keyword === 'WORKDIR').at(-1)?.args ?? '/';
  for (const { keyword, args } of stage.instructions) {
    if (keyword !== 'RUN' || !args.startsWith('node scripts/build.mjs')) continue;
    await run([process.execPath, ...args.split(/\s+/).slice(1), '--if-stale'], { cwd: repo, env: cleanEnv() });
  }
  return (path) => {
    if (!path.startsWith(`${workdir}/`)) throw new Error(`COPY --from=${from} ${path}: the replay maps ${workdir} to the checkout only`);
    return join(repo, path.slice(workdir.length + 1));
  };
}
