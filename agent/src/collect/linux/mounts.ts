/** One line of /proc/self/mountinfo. */
export interface MountEntry {
  /** major:minor of the mounted file system. */
  device: string;
  /** The folder of the file system mounted here (not `/` for a bind mount of a subfolder). */
  root: string;
  mount: string;
  type: string;
  source: string;
}

/** mountinfo writes space, tab, newline and backslash in names as octal escapes (`\040`). */
const unescape = (text: string) => text.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8)));

/** `id parent major:minor root mount options [optional fields…] - type source super-options` per line. */
export function parseMountinfo(text: string): MountEntry[] {
  const entries: MountEntry[] = [];
  for (const line of text.split('\n')) {
    const fields = line.split(' ');
    const separator = fields.indexOf('-', 6);
    if (separator < 0 || fields.length < separator + 3) continue;
    entries.push({
      device: fields[2]!, root: unescape(fields[3]!), mount: unescape(fields[4]!),
      type: fields[separator + 1]!, source: unescape(fields[separator + 2]!),
    });
  }
  return entries;
}

/** What df (coreutils, without -a) calls dummy file systems and never lists. */
const DF_DUMMY_TYPES = new Set(['autofs', 'proc', 'subfs', 'debugfs', 'devpts', 'fusectl', 'fuse.portal', 'mqueue', 'rpc_pipefs', 'sysfs', 'devfs', 'kernfs', 'ignore', 'none']);
/** systeminformation runs `df -x squashfs` (snap packages would flood the list). */
const EXCLUDED_TYPES = new Set(['squashfs']);
/** systeminformation drops a df row whose type contains one of these, unless its source looks like a device. */
const SI_TEMPORARY_TYPES = ['rootfs', 'unionfs', 'squashfs', 'cramfs', 'initrd', 'initramfs', 'devtmpfs', 'tmpfs', 'udev', 'devfs', 'specfs', 'type', 'appimaged'];

const isRemote = (m: MountEntry) => m.source.includes(':') || (m.source.startsWith('//') && ['smbfs', 'smb3', 'cifs'].includes(m.type));

/**
 * Which of df's duplicate rows for one device df keeps (coreutils filter_mount_list): a real
 * device over a pseudo name, the mount nearer the root unless it shows a deeper folder, and the
 * later mount over an earlier one on the same folder.
 */
function replacesSeen(seen: MountEntry, next: MountEntry): boolean {
  if (isRemote(seen) && isRemote(next) && seen.source !== next.source) return false;
  const targetNearerRoot = seen.mount.length > next.mount.length;
  const sourceBelowRoot = seen.root.length < next.root.length;
  return (next.source.includes('/') && !seen.source.includes('/')) || (targetNearerRoot && !sourceBelowRoot) || (seen.source !== next.source && seen.mount === next.mount);
}

/**
 * The mounts systeminformation's fsSize lists on Linux (`df -kPTx squashfs`, then its own
 * filter), worked out from mountinfo without running df: df's dummy and excluded types out,
 * one row per device as df chooses it, then systeminformation's rule against temporary file
 * systems. File systems with no blocks, which df also hides, are left to the caller's statfs.
 */
export function listedMounts(entries: readonly MountEntry[]): MountEntry[] {
  const candidates = entries.filter((m) => !DF_DUMMY_TYPES.has(m.type) && !EXCLUDED_TYPES.has(m.type));
  const chosen = new Map<string, MountEntry>();
  for (const entry of candidates) {
    const seen = chosen.get(entry.device);
    if (!seen || replacesSeen(seen, entry)) chosen.set(entry.device, entry);
  }
  const listed = new Set(chosen.values());
  return candidates.filter((m) => {
    if (!listed.has(m)) return false;
    const type = m.type.toLowerCase();
    return m.source.startsWith('/') || m.mount === '/' || m.source.indexOf('/') > 0 || m.source.indexOf(':') === 1 || !SI_TEMPORARY_TYPES.some((t) => type.includes(t));
  });
}
