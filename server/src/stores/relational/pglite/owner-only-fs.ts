import type { PGlite } from '@electric-sql/pglite';
import { NodeFS } from '@electric-sql/pglite/nodefs';

/** The slice of Emscripten's NODEFS this relies on; checked at run time, not trusted. */
interface EmscriptenNodeFs {
  doSetAttr?: (path: string, node: unknown, attr: { mode?: number | null }, ...rest: unknown[]) => unknown;
  node_ops?: { mknod?: (parent: unknown, name: string, mode: number, dev: unknown) => unknown };
}
type InitResult = Awaited<ReturnType<NodeFS['init']>>;
type PreRun = (module: { NODEFS?: EmscriptenNodeFs }) => void;

const GROUP_AND_OTHER = 0o077;

/**
 * PGlite's files on disk, readable and writable by this account only. PostgreSQL in WASM asks
 * for 0666 on the files initdb writes and 0644 on its relcache files, and Emscripten passes
 * the mode straight to chmod, so the process umask does not help: the mode is narrowed where
 * Emscripten creates files and folders and where it changes modes. If a PGlite upgrade moves
 * those hooks, nothing is patched and the start-up check of DATA_DIR still narrows what exists.
 */
export class OwnerOnlyNodeFS extends NodeFS {
  override async init(pg: PGlite, opts: Parameters<NodeFS['init']>[1]): Promise<InitResult> {
    const result = await super.init(pg, opts);
    const narrow: PreRun = ({ NODEFS }) => {
      const doSetAttr = NODEFS?.doSetAttr;
      const mknod = NODEFS?.node_ops?.mknod;
      if (!NODEFS || !doSetAttr || !mknod || !NODEFS.node_ops) return;
      NODEFS.doSetAttr = (path, node, attr, ...rest) =>
        doSetAttr(path, node, attr.mode == null ? attr : { ...attr, mode: attr.mode & ~GROUP_AND_OTHER }, ...rest);
      NODEFS.node_ops.mknod = (parent, name, mode, dev) => mknod(parent, name, mode & ~GROUP_AND_OTHER, dev);
    };
    const preRun = result.emscriptenOpts.preRun;
    const existing = preRun === undefined ? [] : Array.isArray(preRun) ? preRun : [preRun];
    return { emscriptenOpts: { ...result.emscriptenOpts, preRun: [narrow as never, ...existing] } };
  }
}
