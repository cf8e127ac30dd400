#!/usr/bin/env bash
# Builds the Windows MSI on Linux with Debian's wixl (msitools) from ninjait-agent.wxs, and
# inspects it with msiinfo/msiextract: the tables an install needs, the product version and
# upgrade code, every bundle file plus the service wrapper, its config and the update key, the
# service's install and control entries, and the folders. Run by `npm test` (phase msi) on every
# change; the windows job of .github/workflows/installers.yml builds the same source with real WiX.
# The bundle is the real one (installers/build-bundle.ts) with stand-ins where only Windows has
# the binary (node.exe, WinSW): what is checked here is the installer, not those programs.
#   installers/windows/check-msi.sh [--keep DIR]
set -euo pipefail
REPO="$(cd "$(dirname "$0")/../.." && pwd)"
HERE="$REPO/installers/windows"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/ninjait-msi.XXXXXX")"
KEEP=""
[ "${1:-}" = --keep ] && KEEP="${2:?--keep needs a folder}"
cleanup() { [ -n "$KEEP" ] && { mkdir -p "$KEEP"; cp -a "$WORK/." "$KEEP/"; }; rm -rf "$WORK"; }
trap cleanup EXIT
step() { printf '\n== msi: %s\n' "$*"; }
fail() { printf '\nFAIL msi: %s\n' "$*" >&2; exit 1; }

for tool in wixl msiinfo msiextract python3; do
  command -v "$tool" >/dev/null || fail "$tool is missing (Debian packages wixl and msitools; npm test installs them as root)"
done
cd "$REPO"
VERSION="$(node -p "require('./agent/package.json').version")"

step "bundle $VERSION (stand-ins for node.exe and WinSW)"
printf 'stand-in: build.ps1 ships the Windows node.exe here\n' >"$WORK/node.exe"
node --import tsx installers/build-bundle.ts --version "$VERSION" --out "$WORK/bundle" --node "$WORK/node.exe" >"$WORK/bundle.log" 2>&1 \
  || { tail -n 20 "$WORK/bundle.log" >&2; fail "installers/build-bundle.ts"; }
mv "$WORK/bundle/bin/node" "$WORK/bundle/bin/node.exe"
printf 'stand-in: build.ps1 downloads WinSW 2.12.0, pinned by hash\n' >"$WORK/WinSW-x64.exe"
node --import tsx installers/sign.ts keygen --out "$WORK/keys" >/dev/null

step "WiX 3 source for wixl from ninjait-agent.wxs"
python3 "$HERE/wixl-source.py" "$HERE/ninjait-agent.wxs" "$WORK/bundle" "$WORK/WinSW-x64.exe" "$WORK/keys/update-key.pub" "$WORK/ninjait-agent.wixl.wxs" \
  || fail "wixl-source.py"

step "wixl builds the MSI"
# wixl warns (GLib) about attributes it ignores (Secure, Hidden, Permanent); errors fail the build.
(cd "$WORK" && wixl -a x64 -D "Version=$VERSION" -o ninjait-agent.msi ninjait-agent.wixl.wxs) 2>"$WORK/wixl.log" \
  || { cat "$WORK/wixl.log" >&2; fail "wixl"; }

step "msiinfo: tables, properties, upgrade, service, files, folders"
mkdir "$WORK/tables"
msiinfo tables "$WORK/ninjait-agent.msi" >"$WORK/tables.txt"
for table in Property Upgrade ServiceInstall ServiceControl File Component Directory CreateFolder FeatureComponents Media; do
  msiinfo export "$WORK/ninjait-agent.msi" "$table" >"$WORK/tables/$table.idt" || fail "msiinfo export $table"
done
msiinfo suminfo "$WORK/ninjait-agent.msi" >"$WORK/suminfo.txt"
python3 "$HERE/check-msi.py" "$HERE/ninjait-agent.wxs" "$HERE/ninjait-agent-service.xml" "$WORK" "$VERSION" || fail "check-msi.py"

step "msiextract: the files come out as they went in"
mkdir "$WORK/extracted"
(cd "$WORK/extracted" && msiextract "$WORK/ninjait-agent.msi" >/dev/null) || fail "msiextract"
for path in lib/launcher.mjs lib/agent.mjs VERSION; do
  found="$(find "$WORK/extracted" -path "*/NinjaIT/$path" -type f | head -n 1)"
  [ -n "$found" ] || fail "msiextract: no NinjaIT/$path"
  cmp -s "$found" "$WORK/bundle/$path" || fail "msiextract: NinjaIT/$path differs from the bundle"
done

printf '\nOK msi: ninjait-agent %s built with wixl, tables, service entries, upgrade code and files checked\n' "$VERSION"
