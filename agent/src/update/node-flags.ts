/**
 * Node/V8 flags the launcher starts `ninjait-agent run` with: the agent is idle almost all the
 * time, so memory matters and peak speed does not. `npm run bench -- --only footprint` runs the
 * bundle with and without them side by side (30 s interval): 6 to 9 MB less RSS, same CPU.
 * - No optimizing compilers: their code in the node binary and the memory their background
 *   compiles leave in malloc stay resident, and kept growing (~45 MB/h in the first ten
 *   minutes). Ignition, the interpreter, runs everything; Sparkplug would cost ~1.3 MB more.
 *   `--no-maglev` is Node 20's default and keeps Node 22+ the same.
 * - One 1 MB semi-space and GC on the main thread: a ~9 MB heap needs neither more.
 * Not `--lite-mode`/`--jitless`: they turn WebAssembly off, and Node's fetch needs it.
 * The price: a 7-day backlog drains slower (ws masks frames in JavaScript), still within 10 s.
 */
export const AGENT_RUN_NODE_FLAGS: readonly string[] = [
  '--no-opt',
  '--no-sparkplug',
  '--no-maglev',
  '--max-semi-space-size=1',
  '--single-threaded-gc',
  // For util/heap-trim.ts: a full GC now and then instead of hours of garbage piling up.
  '--expose-gc',
];
