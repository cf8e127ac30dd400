# NinjaIT agent installer for Windows. The server fills in its URL and a short-lived enrollment
# token (single-use unless the admin chose otherwise) and serves this file at
#   powershell -NoProfile -ExecutionPolicy Bypass -Command "iex (irm 'https://SERVER/install.ps1?token=TOKEN')"
# Run it in an elevated PowerShell. It downloads the newest signed MSI from the same server,
# installs it silently and enrolls the machine. Also usable as a file:
#   .\install.ps1 [-Server URL -Token TOKEN] [-Uninstall [-Purge]]
[CmdletBinding()]
param(
  [string]$Server = '__NINJAIT_SERVER__',
  [string]$Token = '__NINJAIT_TOKEN__',
  [switch]$Uninstall,
  [switch]$Purge
)
$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest

function Fail([string]$Message) {
  Write-Error "NinjaIT: $Message"
  exit 1
}

$principal = New-Object Security.Principal.WindowsPrincipal([Security.Principal.WindowsIdentity]::GetCurrent())
if (-not $principal.IsInRole([Security.Principal.WindowsBuiltInRole]::Administrator)) {
  Fail 'run this in an elevated PowerShell (Run as administrator)'
}
$dataDir = Join-Path $env:ProgramData 'NinjaIT'

if ($Uninstall) {
  $product = Get-CimInstance -ClassName Win32_Product -Filter "Name = 'NinjaIT Agent'" -ErrorAction SilentlyContinue
  if ($product) {
    $p = Start-Process -FilePath 'msiexec.exe' -ArgumentList @('/x', $product.IdentifyingNumber, '/qn', '/norestart') -Wait -PassThru
    if ($p.ExitCode -ne 0) { Fail "msiexec /x failed with exit code $($p.ExitCode)" }
  }
  if ($Purge -and (Test-Path $dataDir)) { Remove-Item -Recurse -Force $dataDir }
  Write-Host "NinjaIT agent removed$(if ($Purge) { ', data purged' })"
  exit 0
}

if ($Server -notmatch '^https?://[A-Za-z0-9.\-\[\]:]+(/[A-Za-z0-9._~/\-]*)?$') { Fail "invalid server URL '$Server'" }
if ($Token -notmatch '^nit_[A-Za-z0-9_\-]{20,100}$') { Fail 'invalid or missing enrollment token' }

$arch = if ([Environment]::Is64BitOperatingSystem) { if ($env:PROCESSOR_ARCHITECTURE -eq 'ARM64') { 'arm64' } else { 'x64' } } else { Fail '32-bit Windows is not supported' }
[Net.ServicePointManager]::SecurityProtocol = [Net.ServicePointManager]::SecurityProtocol -bor [Net.SecurityProtocolType]::Tls12
$work = Join-Path ([IO.Path]::GetTempPath()) ("ninjait-" + [Guid]::NewGuid().ToString('N'))
New-Item -ItemType Directory -Path $work | Out-Null
try {
  $msi = Join-Path $work 'ninjait-agent.msi'
  Write-Host "NinjaIT: downloading the agent for win32-$arch from $Server"
  Invoke-WebRequest -UseBasicParsing -Uri "$Server/downloads/agent/latest/win32/$arch/msi" -OutFile $msi
  $signature = Get-AuthenticodeSignature -FilePath $msi
  if ($signature.Status -ne 'Valid') { Write-Warning "NinjaIT: the MSI is not Authenticode-signed ($($signature.Status)); it came over $Server" }
  $log = Join-Path $work 'install.log'
  # The token goes to msiexec as a Hidden property: it is not written to the MSI log.
  $arguments = @('/i', "`"$msi`"", '/qn', '/norestart', "/l*v", "`"$log`"", "NINJAIT_SERVER=`"$Server`"", "NINJAIT_TOKEN=`"$Token`"")
  $p = Start-Process -FilePath 'msiexec.exe' -ArgumentList $arguments -Wait -PassThru
  if ($p.ExitCode -ne 0 -and $p.ExitCode -ne 3010) { Fail "msiexec failed with exit code $($p.ExitCode); log: $log" }
  if (-not (Test-Path (Join-Path $dataDir 'agent.json'))) { Fail 'installed, but enrollment failed: the token may be used up or expired' }
  Write-Host "NinjaIT: installed and enrolled with $Server"
} finally {
  if (Test-Path (Join-Path $work 'install.log')) { Copy-Item (Join-Path $work 'install.log') (Join-Path $env:TEMP 'ninjait-install.log') -Force }
  Remove-Item -Recurse -Force $work -ErrorAction SilentlyContinue
}
