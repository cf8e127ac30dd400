# Builds the Windows MSI on a Windows runner (windows-2022) with Node 20 and the .NET SDK.
#   pwsh installers/windows/build.ps1 -Version X.Y.Z -UpdateKey path\to\update-key.pub [-Out dist]
param(
  [Parameter(Mandatory = $true)][string]$Version,
  [Parameter(Mandatory = $true)][string]$UpdateKey,
  [string]$Out = 'dist'
)
$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest
$here = $PSScriptRoot
$repo = (Resolve-Path (Join-Path $here '..\..')).Path
New-Item -ItemType Directory -Force -Path $Out | Out-Null
$Out = (Resolve-Path $Out).Path
$work = Join-Path ([IO.Path]::GetTempPath()) ("ninjait-msi-" + [Guid]::NewGuid().ToString('N'))
New-Item -ItemType Directory -Path $work | Out-Null

# WinSW 2.12.0, pinned by hash: the service wrapper that runs node.exe as a Windows service.
$winswUrl = 'https://github.com/winsw/winsw/releases/download/v2.12.0/WinSW-x64.exe'
$winswSha256 = $env:WINSW_SHA256
$winsw = Join-Path $work 'WinSW-x64.exe'
Invoke-WebRequest -UseBasicParsing -Uri $winswUrl -OutFile $winsw
$actual = (Get-FileHash -Algorithm SHA256 $winsw).Hash.ToLowerInvariant()
if ($winswSha256 -and $actual -ne $winswSha256.ToLowerInvariant()) { throw "WinSW hash $actual does not match WINSW_SHA256" }
Write-Host "WinSW SHA-256: $actual"

Push-Location $repo
try {
  node --import tsx installers/build-bundle.ts --version $Version --out (Join-Path $work 'bundle') --tar (Join-Path $Out "ninjait-agent-$Version-win32-x64.tar.gz")
  if ($LASTEXITCODE -ne 0) { throw 'build-bundle.ts failed' }
} finally { Pop-Location }

$msi = Join-Path $Out "ninjait-agent-$Version-win32-x64.msi"
Push-Location $here
try {
  wix build ninjait-agent.wxs -arch x64 -ext WixToolset.Util.wixext `
    -d "Version=$Version" -d "BundleDir=$(Join-Path $work 'bundle')" -d "WinSWExe=$winsw" -d "UpdateKey=$((Resolve-Path $UpdateKey).Path)" `
    -o $msi
  if ($LASTEXITCODE -ne 0) { throw 'wix build failed' }
} finally { Pop-Location }
Remove-Item -Recurse -Force $work
Write-Host $msi
