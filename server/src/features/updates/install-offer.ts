import { AppError } from '../../platform/errors.ts';
import { isTokenShaped } from './install-links.ts';
import { isLoopbackHost, isUrlShaped, needsInsecure } from './server-url.ts';
import type { PublishHelp } from './publish-help.ts';
import type { Release } from './releases.ts';

/** One way to install the agent, as the console and `ninjait installer` show it. */
export interface InstallOption {
  /** Stable: `linux`, `macos`, `windows`, `bundle-<platform>-<arch>` (or `bundle` when there is none). */
  id: string;
  title: string;
  /** Who runs it and what it does. */
  how: string;
  /** The line to paste, or null when this server has no package for it. */
  line: string | null;
  /** The files the line can download. */
  packages: string[];
  /** Why there is no line, and the command that publishes what it needs (null when nothing can). */
  unavailable: { reason: string; publish: string | null } | null;
}

export interface InstallOffer {
  serverUrl: string;
  /** Plain http:// beyond loopback: the lines tell the agent to accept it. */
  insecure: boolean;
  /** What the admin should know before copying a line (no TLS; an address only this machine reaches). */
  notes: string[];
  options: InstallOption[];
}

const PLATFORM_TITLE = { linux: 'Linux', darwin: 'macOS', win32: 'Windows' } as const;
const KIND_TITLE = { deb: '.deb', rpm: '.rpm', pkg: '.pkg', msi: 'MSI', bundle: 'bundle' } as const;

/** "the .deb (x64) or the .rpm (x64, arm64)", kinds in the order of KIND_TITLE. */
function packageList(releases: Release[]): string {
  return (Object.keys(KIND_TITLE) as Release['kind'][])
    .map((kind) => [kind, [...new Set(releases.filter((r) => r.kind === kind).map((r) => r.arch))].sort()] as const)
    .filter(([, arches]) => arches.length > 0)
    .map(([kind, arches]) => `the ${KIND_TITLE[kind]} (${arches.join(', ')})`)
    .join(' or ');
}

/** The server URL as install lines use it (no trailing slash); BAD_REQUEST when it cannot go into one. */
export function installServerUrl(serverUrl: string): string {
  const base = serverUrl.replace(/\/+$/, '');
  if (!isUrlShaped(base)) throw new AppError('BAD_REQUEST', 'The server URL must be http(s)://host[:port][/path], without quotes, query or credentials');
  return base;
}

/** Why there is no line: TLS-only packages over plain http. */
const noTls = (os: string) => ({
  reason: `This server has no TLS, and the ${os} package enrolls over https only: serve https (TLS_CERT_FILE and TLS_KEY_FILE, or PUBLIC_URL behind an https proxy).`,
  publish: null,
});

/** A package-manager line: offered when one of `found` is published (and, for `tlsOnly`, the server has TLS). */
function packageOption(o: {
  id: string; title: string; found: Release[]; how: (what: string) => string; fallback: string; line: string;
  missing: { reason: string; publish: string }; blocked: { reason: string; publish: null } | null;
}): InstallOption {
  const have = o.found.length > 0;
  return {
    id: o.id, title: o.title, how: o.how(have ? packageList(o.found) : o.fallback),
    line: have && !o.blocked ? o.line : null, packages: o.found.map((r) => r.file),
    unavailable: o.blocked ?? (have ? null : o.missing),
  };
}

/** The no-package lines: one per published Linux or macOS bundle, or one saying how to publish it. */
function bundleOptions(base: string, token: string, flag: string, releases: Release[], publish: PublishHelp): InstallOption[] {
  const bundles = newestPerArch(releases.filter((r) => r.kind === 'bundle' && (r.platform === 'linux' || r.platform === 'darwin')));
  if (bundles.length === 0) {
    return [{
      id: 'bundle', title: 'Linux or macOS, without a package', how: 'Any user, no root: the agent and its own Node.js in a folder of your own, run in your shell.', line: null, packages: [],
      unavailable: { reason: 'This server has no agent bundle yet. `ninjait start` builds one in the background. To publish it by hand, run in the repository, as the server\'s user:', publish: publish.local },
    }];
  }
  const launcher = '"$d/bin/node" "$d/lib/launcher.mjs"';
  return bundles.map((bundle) => ({
    id: `bundle-${bundle.platform}-${bundle.arch}`, title: `${PLATFORM_TITLE[bundle.platform]} ${bundle.arch}, without a package`,
    how: 'Any user, no root, no dpkg or rpm: unpacks the agent and its own Node.js into ~/ninjait-agent, enrolls and runs it in this shell (Ctrl-C stops it; no service, no auto-update).',
    line: `d="$HOME/ninjait-agent" && mkdir -p "$d" && curl -fsSL '${base}/downloads/agent/latest/${bundle.platform}/${bundle.arch}/bundle' | tar -xzf - -C "$d"`
      + ` && ${launcher} enroll --data-dir "$d/data" --server '${base}' --token '${token}'${flag} && ${launcher} run --data-dir "$d/data"${flag}`,
    packages: [bundle.file], unavailable: null,
  }));
}

/**
 * Every install line for one token, only where this server has the package the line downloads;
 * the others say why not and how to publish one. The URL and the token are checked against the
 * shapes that are safe inside single quotes in sh and PowerShell, so no value can inject code
 * into a line an admin pastes into a root shell.
 */
export function installOffer(input: { serverUrl: string; token: string; releases: Release[]; publish: PublishHelp }): InstallOffer {
  const base = installServerUrl(input.serverUrl);
  if (!isTokenShaped(input.token)) throw new AppError('BAD_REQUEST', 'Not an enrollment token');
  const { token, releases, publish } = input;
  const insecure = needsInsecure(base);
  const of = (platform: Release['platform'], kind: Release['kind'][]) => releases.filter((r) => r.platform === platform && kind.includes(r.kind));
  // install.sh itself carries the plain-http consent (NINJAIT_INSECURE), rendered per request.
  const shLine = `curl -fsSL '${base}/install.sh?token=${token}' | sudo sh`;
  const options = [
    packageOption({
      id: 'linux', title: 'Linux', found: of('linux', ['deb', 'rpm']), fallback: 'the .deb or .rpm', line: shLine, blocked: null,
      how: (what) => `As root or with sudo: downloads ${what}, installs it, enrolls this machine and starts the service.`,
      missing: { reason: 'This server has no .deb or .rpm yet. `ninjait start` builds them in the background when dpkg-deb or rpmbuild is installed (its log says when each is published). To publish them by hand, run in the repository, as the server\'s user:', publish: publish.local },
    }),
    ...bundleOptions(base, token, insecure ? ' --insecure' : '', releases, publish),
    packageOption({
      id: 'macos', title: 'macOS', found: of('darwin', ['pkg']), fallback: 'the .pkg', line: shLine, blocked: insecure ? noTls('macOS') : null,
      how: (what) => `As an admin (sudo): downloads ${what}, installs it, enrolls this Mac and starts the daemon.`,
      missing: { reason: 'This server has no macOS package. Build one on a Mac and sign it into this server\'s releases:', publish: publish.macos },
    }),
    packageOption({
      id: 'windows', title: 'Windows', found: of('win32', ['msi']), fallback: 'the MSI', blocked: insecure ? noTls('Windows') : null,
      line: `powershell -NoProfile -ExecutionPolicy Bypass -Command "iex (irm '${base}/install.ps1?token=${token}')"`,
      how: (what) => `In PowerShell as Administrator: downloads ${what}, installs it, enrolls this PC and starts the service.`,
      missing: { reason: 'This server has no Windows package. Build the MSI on Windows and sign it into this server\'s releases:', publish: publish.windows },
    }),
  ];
  return { serverUrl: base, insecure, notes: notesFor(base, insecure), options };
}

/** The newest bundle per platform and architecture (the catalog lists newest first). */
function newestPerArch(bundles: Release[]): Release[] {
  const seen = new Map<string, Release>();
  for (const bundle of bundles) if (!seen.has(`${bundle.platform}-${bundle.arch}`)) seen.set(`${bundle.platform}-${bundle.arch}`, bundle);
  return [...seen.values()];
}

function notesFor(base: string, insecure: boolean): string[] {
  const notes: string[] = [];
  const { hostname } = new URL(base);
  if (insecure) {
    notes.push('This server has no TLS; the agent will be told to accept that (--insecure). The token and what the agent sends cross the network unencrypted: serve https (TLS_CERT_FILE and TLS_KEY_FILE) where that matters.');
  }
  if (isLoopbackHost(hostname)) {
    notes.push(`${hostname} is this machine: these lines work here only. To enroll other machines, start the server with HOST=0.0.0.0 and open the console at this machine's network address (or set PUBLIC_URL).`);
  }
  return notes;
}
