import type { PatchResult, PatchSpec } from '@ninjait/shared';

/** The environment variable that carries the update ids (JSON) into the static install script. */
export const WU_IDS_VARIABLE = 'NINJAIT_WU_IDS';
/** Prefix of the one line of JSON the script ends with; every other line is progress for the technician. */
export const WU_RESULT_MARKER = 'NINJAIT-WU-RESULT ';

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const KB = /^KB\d{1,10}$/i;

/**
 * Installs pending Windows updates through the Windows Update Agent. Constant text: the ids arrive
 * as JSON in NINJAIT_WU_IDS, so nothing a server or a package title says is ever parsed as code.
 * It searches the pending updates (as the collector did), keeps those whose UpdateID or KB is
 * asked for, downloads and installs them, and prints one result per id (ResultCode, HResult,
 * RebootRequired), or `Error` when the agent itself failed (no COM, no service, …).
 */
export const WINDOWS_INSTALL_SCRIPT = `$ErrorActionPreference='Stop'; $ProgressPreference='SilentlyContinue'
$marker = '${WU_RESULT_MARKER}'
try {
  $ids = @(ConvertFrom-Json $env:${WU_IDS_VARIABLE})
  $session = New-Object -ComObject Microsoft.Update.Session
  $session.ClientApplicationID = 'NinjaIT agent'
  Write-Output 'Searching for the pending updates'
  $found = $session.CreateUpdateSearcher().Search('IsInstalled=0 and IsHidden=0')
  $wanted = New-Object -ComObject Microsoft.Update.UpdateColl
  $asked = @{}
  foreach ($u in $found.Updates) {
    $kbs = @($u.KBArticleIDs | ForEach-Object { 'KB' + $_ })
    $hits = @($ids | Where-Object { $_ -eq $u.Identity.UpdateID -or $kbs -contains $_ })
    if ($hits.Count -eq 0) { continue }
    if (-not $u.EulaAccepted) { $u.AcceptEula() }
    [void]$wanted.Add($u)
    foreach ($h in $hits) { $asked[$h] = $u.Identity.UpdateID }
  }
  $rows = @(foreach ($id in $ids) { if (-not $asked.ContainsKey($id)) { [pscustomobject]@{ Id=$id; UpdateId=$null; Title=$null; ResultCode=$null; HResult=$null; RebootRequired=$false } } })
  $reboot = $false
  if ($wanted.Count -gt 0) {
    Write-Output ('Downloading ' + $wanted.Count + ' update(s)')
    $downloader = $session.CreateUpdateDownloader(); $downloader.Updates = $wanted; [void]$downloader.Download()
    Write-Output ('Installing ' + $wanted.Count + ' update(s)')
    $installer = $session.CreateUpdateInstaller(); $installer.Updates = $wanted; $result = $installer.Install()
    $reboot = [bool]$result.RebootRequired
    for ($i = 0; $i -lt $wanted.Count; $i++) {
      $u = $wanted.Item($i); $r = $result.GetUpdateResult($i)
      Write-Output ($u.Title + ': result code ' + $r.ResultCode)
      foreach ($id in @($asked.Keys | Where-Object { $asked[$_] -eq $u.Identity.UpdateID })) {
        $rows += [pscustomobject]@{ Id=$id; UpdateId=$u.Identity.UpdateID; Title=$u.Title; ResultCode=[int]$r.ResultCode; HResult=[int]$r.HResult; RebootRequired=[bool]$r.RebootRequired }
      }
    }
  }
  $marker + ([pscustomobject]@{ Results=@($rows); RebootRequired=$reboot; Error=$null; HResult=$null } | ConvertTo-Json -Compress -Depth 4)
} catch {
  $marker + ([pscustomobject]@{ Results=@(); RebootRequired=$false; Error=$_.Exception.Message; HResult=[int]$_.Exception.HResult } | ConvertTo-Json -Compress -Depth 4)
  exit 1
}`;

/** The id the script looks for: the UpdateID the collector keyed the update by, else its KB number. */
export function windowsUpdateId(patch: PatchSpec): string | null {
  const fromKey = patch.key.startsWith('wu:') ? patch.key.slice(3) : '';
  if (GUID.test(fromKey)) return fromKey.toLowerCase();
  return KB.test(patch.name) ? patch.name.toUpperCase() : null;
}

export function windowsInstallCommand(patches: readonly PatchSpec[]): { file: string; args: string[]; env: NodeJS.ProcessEnv } | null {
  const ids = patches.map(windowsUpdateId);
  if (ids.some((id) => id === null)) return null;
  return {
    file: 'powershell.exe',
    args: ['-NoProfile', '-NonInteractive', '-ExecutionPolicy', 'Bypass', '-Command', WINDOWS_INSTALL_SCRIPT],
    env: { [WU_IDS_VARIABLE]: JSON.stringify([...new Set(ids)]) },
  };
}

/** IUpdateResult.ResultCode (OperationResultCode). */
const RESULT_CODES: Record<number, string> = {
  0: 'not started', 1: 'still in progress', 2: 'succeeded', 3: 'succeeded with errors', 4: 'failed', 5: 'aborted',
};

/** The Windows Update errors a technician meets most, in words (the code itself is always reported). */
const WU_ERRORS: Record<number, string> = {
  0x80240016: 'another installation is in progress',
  0x8024001e: 'the operation was cancelled because the service or system was shutting down',
  0x80240022: 'all updates in the operation failed',
  0x8024002e: 'access to the update service is blocked by policy',
  0x80240438: 'no route to the update service',
  0x80244022: 'the update server answered 503 (service unavailable)',
  0x80246007: 'the update was not downloaded',
  0x80070005: 'access denied (the agent must run as SYSTEM or an administrator)',
  0x80070070: 'not enough disk space',
  0x800f0922: 'the update could not be configured (often the system reserved partition is full)',
};

/** HResult as Windows shows it: 0x8024xxxx. */
export const hresultHex = (hresult: number) => `0x${(hresult >>> 0).toString(16).padStart(8, '0')}`;

const describeHResult = (hresult: number) => {
  const known = WU_ERRORS[hresult >>> 0];
  return `${hresultHex(hresult)}${known ? ` (${known})` : ''}`;
};

interface ScriptRow { Id?: unknown; Title?: unknown; ResultCode?: unknown; HResult?: unknown; RebootRequired?: unknown }
interface ScriptOutput { Results?: unknown; RebootRequired?: unknown; Error?: unknown; HResult?: unknown }

const int = (value: unknown) => (typeof value === 'number' && Number.isInteger(value) ? value : null);
/** HResults are signed 32-bit; PowerShell may print them either way. */
const int32 = (value: number) => value | 0;

/** The script's result line among its output lines, parsed; null when it never printed one. */
export function readWindowsInstallOutput(outputLines: readonly string[]): ScriptOutput | null {
  for (let i = outputLines.length - 1; i >= 0; i--) {
    const line = outputLines[i]!.trim();
    if (!line.startsWith(WU_RESULT_MARKER.trim())) continue;
    try {
      const value = JSON.parse(line.slice(WU_RESULT_MARKER.trim().length)) as unknown;
      return typeof value === 'object' && value !== null ? value as ScriptOutput : null;
    } catch {
      return null;
    }
  }
  return null;
}

/**
 * One result per patch from the script's output: installed (ResultCode 2, or 3 for this update),
 * reboot_pending when Windows says the update needs a restart, failed with the HResult (or the
 * ResultCode when there is none) and a message otherwise.
 */
export function parseWindowsInstall(outputLines: readonly string[], patches: readonly PatchSpec[], exit: { code: number | null; tail: string; error: string | null }): PatchResult[] {
  const output = readWindowsInstallOutput(outputLines);
  const rows = new Map<string, ScriptRow>();
  // Windows PowerShell 5.1 prints a one-element list as the lone object.
  const listed = output?.Results === undefined || output.Results === null ? [] : Array.isArray(output.Results) ? output.Results : [output.Results];
  for (const row of listed as ScriptRow[]) {
    if (typeof row?.Id === 'string') rows.set(row.Id.toLowerCase(), row);
  }
  return patches.map((patch) => {
    const id = windowsUpdateId(patch) ?? '';
    if (!output || typeof output.Error === 'string') {
      const hresult = int(output?.HResult);
      const why = typeof output?.Error === 'string' ? output.Error : exit.error ?? (exit.tail || 'PowerShell printed no result');
      return { key: patch.key, status: 'failed' as const, code: hresult !== null ? int32(hresult) : exit.code ?? -1,
        message: `Windows Update could not run: ${hresult !== null ? `${describeHResult(hresult)}: ` : ''}${why}`.slice(0, 2_000) };
    }
    const row = rows.get(id.toLowerCase());
    const resultCode = int(row?.ResultCode);
    if (!row || resultCode === null) {
      return { key: patch.key, status: 'failed' as const, code: null, message: `${id} is no longer pending on this device (installed, hidden or superseded)` };
    }
    const hresult = int32(int(row.HResult) ?? 0);
    const title = typeof row.Title === 'string' ? row.Title : id;
    if (resultCode === 2 || resultCode === 3) {
      const reboot = row.RebootRequired === true;
      const note = resultCode === 3 ? ` with errors (${describeHResult(hresult)})` : '';
      return { key: patch.key, status: reboot ? 'reboot_pending' as const : 'installed' as const, code: hresult,
        message: `${title}: installed${note}${reboot ? '; a restart completes it' : ''}`.slice(0, 2_000) };
    }
    return { key: patch.key, status: 'failed' as const, code: hresult !== 0 ? hresult : resultCode,
      message: `${title}: ${RESULT_CODES[resultCode] ?? `result code ${resultCode}`}${hresult !== 0 ? `, ${describeHResult(hresult)}` : ''}`.slice(0, 2_000) };
  });
}
