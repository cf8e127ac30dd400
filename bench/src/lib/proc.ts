import { readdirSync, readFileSync } from 'node:fs';
import { slope, round } from './stats.ts';

/** Clock ticks per second for /proc/<pid>/stat times; 100 on every Linux we run on. */
const CLK_TCK = 100;

export interface ProcSnapshot {
  atMs: number;
  /** utime + stime, in seconds. */
  cpuSec: number;
  /** cutime + cstime: children the process waited for (an agent's `df`, `cat` probes), in seconds. */
  childCpuSec: number;
  rssBytes: number;
}

/** Reads CPU time from /proc/<pid>/stat and VmRSS from /proc/<pid>/status; null once the process is gone. */
export function readProc(pid: number): ProcSnapshot | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces) start after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const utime = Number(fields[11]);
    const stime = Number(fields[12]);
    const childTicks = Number(fields[13]) + Number(fields[14]);
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const rssKb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
    return { atMs: performance.now(), cpuSec: (utime + stime) / CLK_TCK, childCpuSec: childTicks / CLK_TCK, rssBytes: rssKb * 1024 };
  } catch {
    return null;
  }
}

/** Sums snapshots taken at one moment (a process and its workers). */
function sumSnapshots(snaps: readonly ProcSnapshot[]): ProcSnapshot | null {
  if (snaps.length === 0) return null;
  return {
    atMs: performance.now(),
    cpuSec: snaps.reduce((sum, snap) => sum + snap.cpuSec, 0),
    childCpuSec: snaps.reduce((sum, snap) => sum + snap.childCpuSec, 0),
    rssBytes: snaps.reduce((sum, snap) => sum + snap.rssBytes, 0),
  };
}

/** A process's command line, its arguments joined by spaces; throws once it is gone. */
const commandLine = (pid: number | string) => readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ').trim();

/**
 * The children `pid` started from its main thread (a server's workers and its chdb process), with
 * their command lines. One read of the kernel's list, not a scan of /proc: the download benchmark
 * samples this ten times a second.
 */
function childProcesses(pid: number): { pid: number; cmdline: string }[] {
  let listed: string;
  try {
    listed = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8');
  } catch {
    return [];
  }
  return listed.split(' ').filter(Boolean).flatMap((child) => {
    try {
      return [{ pid: Number(child), cmdline: commandLine(child) }];
    } catch {
      return []; // Gone between the listing and the read.
    }
  });
}

/**
 * A server under test: its process and, when it runs as several workers (WORKERS), theirs,
 * summed; never its chdb process (`ninjait-chdb`), which the figures of one process never had
 * either, so one process and several workers compare like for like.
 */
export function readServerProc(pid: number): ProcSnapshot | null {
  const own = readProc(pid);
  if (!own) return null;
  const workers = childProcesses(pid).filter((child) => !child.cmdline.startsWith('ninjait-chdb')).map((child) => readProc(child.pid));
  return sumSnapshots([own, ...workers.filter((snap) => snap !== null)]);
}

export interface ProcSummary {
  samples: number;
  rssMeanMb: number;
  rssMaxMb: number;
  rssLastMb: number;
  /** Share of one core over the measured window, in percent. */
  cpuPercentOfCore: number;
  /** The same, adding the children it started and waited for during the window. */
  cpuWithChildrenPercentOfCore: number;
  /** RSS trend over the window, from a least-squares fit. */
  rssGrowthMbPerHour: number;
}

/**
 * A process group's RSS and CPU, summed over its members (a Zabbix agent forks a collector and
 * listeners: what it costs is all of them); null once none is left.
 */
export function readGroup(pgid: number): ProcSnapshot | null {
  return sumSnapshots(processGroupMembers(pgid).map(({ pid }) => readProc(pid)).filter((snap) => snap !== null));
}

/** Samples a set of processes (and of process groups, summed) every `everyMs` until stopped. */
export function sampleProcesses(pids: Record<string, number>, everyMs: number, groups: Record<string, number> = {}, servers: Record<string, number> = {}) {
  const series: Record<string, ProcSnapshot[]> = Object.fromEntries([...Object.keys(pids), ...Object.keys(groups), ...Object.keys(servers)].map((name) => [name, []]));
  const take = () => {
    for (const [name, pid] of Object.entries(pids)) {
      const snap = readProc(pid);
      if (snap) series[name]!.push(snap);
    }
    for (const [name, pgid] of Object.entries(groups)) {
      const snap = readGroup(pgid);
      if (snap) series[name]!.push(snap);
    }
    for (const [name, pid] of Object.entries(servers)) {
      const snap = readServerProc(pid);
      if (snap) series[name]!.push(snap);
    }
  };
  take();
  const timer = setInterval(take, everyMs);
  return {
    series,
    stop(): Record<string, ProcSummary> {
      clearInterval(timer);
      take();
      return Object.fromEntries(Object.entries(series).map(([name, snaps]) => [name, summarize(snaps)]));
    },
  };
}

export function summarize(snaps: readonly ProcSnapshot[], skip = 0): ProcSummary {
  const window = snaps.slice(skip);
  const first = window[0];
  const last = window.at(-1);
  const mb = (b: number) => b / 1024 / 1024;
  const wallSec = first && last ? (last.atMs - first.atMs) / 1000 : 0;
  const share = (sec: (p: ProcSnapshot) => number) => round(first && last && wallSec > 0 ? ((sec(last) - sec(first)) / wallSec) * 100 : 0, 3);
  return {
    samples: window.length,
    rssMeanMb: round(window.length ? mb(window.reduce((s, p) => s + p.rssBytes, 0) / window.length) : 0, 1),
    rssMaxMb: round(mb(Math.max(0, ...window.map((p) => p.rssBytes))), 1),
    rssLastMb: round(last ? mb(last.rssBytes) : 0, 1),
    cpuPercentOfCore: share((p) => p.cpuSec),
    cpuWithChildrenPercentOfCore: share((p) => p.cpuSec + p.childCpuSec),
    rssGrowthMbPerHour: round(slope(window.map((p) => [p.atMs / 3_600_000, mb(p.rssBytes)] as const)), 2),
  };
}

/** The processes of one process group (a detached child and everything it started), with their command lines. */
export function processGroupMembers(pgid: number): { pid: number; cmdline: string }[] {
  const members: { pid: number; cmdline: string }[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // After the command name: state, ppid, pgrp.
      const pgrp = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]);
      if (pgrp !== pgid) continue;
      members.push({ pid: Number(entry), cmdline: commandLine(entry) });
    } catch {
      // Gone between the listing and the read.
    }
  }
  return members;
}

/** CPU seconds so far of a process (user + system), null once it is gone. */
export const cpuSecOf = (pid: number): number | null => readProc(pid)?.cpuSec ?? null;

/**
 * A per-process counter that only grows (`cpuSecOf`, `runQueueWaitMs`) of each process whose
 * command line `matches` (PostgreSQL's backends of one database: "postgres: user db
 * 127.0.0.1(port) idle"), by pid: `growthBetween` subtracts two readings.
 */
export function readByPidOfCommandLines(matches: (cmdline: string) => boolean, read: (pid: number) => number | null): Map<number, number> {
  const byPid = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (!matches(commandLine(entry))) continue;
      const value = read(Number(entry));
      if (value !== null) byPid.set(Number(entry), value);
    } catch {
      // Gone between the listing and the read.
    }
  }
  return byPid;
}

/**
 * Milliseconds a process's main thread has waited so far on a run queue: runnable, not running,
 * because other tasks held the CPUs (Linux /proc/<pid>/schedstat: time on a CPU, time waiting,
 * timeslices, in ns). An event loop that was ready to run is late by this, and no profile taken
 * inside the process can tell it from its own work. Null where unreadable (not Linux, gone).
 */
export function runQueueWaitMs(pid: number): number | null {
  try {
    const waitedNs = Number(readFileSync(`/proc/${pid}/schedstat`, 'utf8').split(' ')[1]);
    return Number.isFinite(waitedNs) ? waitedNs / 1e6 : null;
  } catch {
    return null;
  }
}

/**
 * How much a per-process counter (CPU seconds, run-queue wait) grew between two readings by pid.
 * Summed per process, because a process that exits between them (a pool's backend) takes its
 * counter with it: a difference of two totals read negative when one did. Its growth after the
 * first reading is lost, so this is a lower bound; one started between them counts whole, and a
 * pid reused by a newer process never subtracts.
 */
export function growthBetween(before: ReadonlyMap<number, number>, after: ReadonlyMap<number, number>): number {
  let total = 0;
  for (const [pid, sec] of after) total += Math.max(0, sec - (before.get(pid) ?? 0));
  return total;
}
