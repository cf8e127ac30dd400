import type { PatchResult, PatchSpec } from '@ninjait/shared';

/**
 * A softwareupdate label as `--list` prints it ("macOS Sonoma 14.4.1-23E224", "Safari17.4.1VenturaAuto-17.4.1"):
 * printable, no leading dash (it would read as an option), bounded.
 */
const LABEL = /^[^\s\-\p{Cc}][^\p{Cc}]{0,254}$/u;

/** The label the collector keyed the update by (`softwareupdate:<label>`). */
export function macLabel(patch: PatchSpec): string | null {
  if (!patch.key.startsWith('softwareupdate:')) return null;
  const label = patch.key.slice('softwareupdate:'.length).trim();
  return LABEL.test(label) ? label : null;
}

/**
 * `softwareupdate --install <label>… --agree-to-license`; the labels are arguments. No `--restart`:
 * the deployment's reboot policy decides about restarting, with a notice for a logged-in user.
 */
export function macInstallCommand(patches: readonly PatchSpec[]): { file: string; args: string[]; env: NodeJS.ProcessEnv } | null {
  const labels = patches.map(macLabel);
  if (labels.some((label) => label === null)) return null;
  return { file: 'softwareupdate', args: ['--install', ...new Set(labels as string[]), '--agree-to-license'], env: {} };
}

const RESTART = /restart (your computer|is required|immediately)|requires? (that you |a )?restart/i;
const FAILURE = /^(?:failed to|error|.*\bfailed\b|.*: no such update|no such update)/i;

/** Lines about one update: softwareupdate names it by its title ("Done with Safari 17.4.1") or, in errors, by label. */
function mentions(line: string, patch: PatchSpec, label: string): boolean {
  const lower = line.toLowerCase();
  return lower.includes(label.toLowerCase()) || (patch.name.length > 0 && lower.includes(patch.name.toLowerCase()));
}

/**
 * One result per patch from `softwareupdate --install`'s output: "Done with <title>" means
 * installed; a "failed"/"error"/"No such update" line naming it, or a run that ended non-zero
 * without a "Done with" for it, means failed with the exit code and that line; the closing
 * "…requires that you restart…" turns every installed one into reboot pending.
 */
export function parseMacInstall(outputLines: readonly string[], patches: readonly PatchSpec[], exit: { code: number | null; tail: string; error: string | null }): PatchResult[] {
  const restart = outputLines.some((line) => RESTART.test(line));
  const failures = outputLines.filter((line) => FAILURE.test(line.trim()));
  const labelOf = (patch: PatchSpec) => macLabel(patch) ?? patch.name;
  // A failure naming no update ("Error installing updates.") explains every update it did not finish.
  const general = failures.filter((line) => !patches.some((patch) => mentions(line, patch, labelOf(patch))));
  return patches.map((patch) => {
    const label = labelOf(patch);
    const done = outputLines.find((line) => /^\s*Done with /i.test(line) && mentions(line, patch, label));
    const failure = failures.find((line) => mentions(line, patch, label));
    if (done && !failure) {
      return { key: patch.key, status: restart ? 'reboot_pending' as const : 'installed' as const, code: exit.code ?? 0,
        message: `${done.trim()}${restart ? '; a restart completes it' : ''}`.slice(0, 2_000) };
    }
    const why = failure?.trim() ?? general[0]?.trim() ?? exit.error ?? (exit.tail || 'softwareupdate did not install it');
    return { key: patch.key, status: 'failed' as const, code: exit.code ?? -1, message: `${label}: ${why}`.slice(0, 2_000) };
  });
}
