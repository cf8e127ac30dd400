#!/usr/bin/env bash
# Builds the macOS installer on a Mac (runner: macos-14 for arm64, macos-13 for x64).
#   installers/macos/build.sh --version X.Y.Z --update-key PUB [--out DIR]
# Optional: MACOS_INSTALLER_IDENTITY="Developer ID Installer: ..." signs the product archive
# (notarize afterwards with `xcrun notarytool submit --wait` and `xcrun stapler staple`).
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
VERSION="" KEY="" OUT="$REPO/dist"
while [ $# -gt 0 ]; do
  case "$1" in
    --version) VERSION="$2"; shift 2 ;;
    --update-key) KEY="$2"; shift 2 ;;
    --out) OUT="$2"; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
[ -n "$VERSION" ] && [ -f "$KEY" ] || { echo "usage: $0 --version X.Y.Z --update-key PUB [--out DIR]" >&2; exit 2; }
case "$(uname -m)" in arm64) ARCH=arm64 ;; x86_64) ARCH=x64 ;; *) echo "unsupported $(uname -m)" >&2; exit 1 ;; esac
mkdir -p "$OUT"; OUT="$(cd "$OUT" && pwd)"
WORK="$(mktemp -d)"; trap 'rm -rf "$WORK"' EXIT

(cd "$REPO" && node --import tsx installers/build-bundle.ts --version "$VERSION" --out "$WORK/bundle" \
  --tar "$OUT/ninjait-agent-$VERSION-darwin-$ARCH.tar.gz")

ROOT="$WORK/root"
mkdir -p "$ROOT/usr/local/ninjait/share" "$ROOT/usr/local/bin" "$ROOT/Library/LaunchDaemons"
cp -R "$WORK/bundle/." "$ROOT/usr/local/ninjait/"
install -m 0644 "$KEY" "$ROOT/usr/local/ninjait/share/update-key.pub"
install -m 0755 "$HERE/uninstall.sh" "$ROOT/usr/local/ninjait/share/uninstall.sh"
install -m 0755 "$HERE/ninjait-agent.sh" "$ROOT/usr/local/bin/ninjait-agent"
install -m 0644 "$HERE/com.ninjait.agent.plist" "$ROOT/Library/LaunchDaemons/com.ninjait.agent.plist"
plutil -lint "$ROOT/Library/LaunchDaemons/com.ninjait.agent.plist"
chmod 0755 "$HERE/scripts/preinstall" "$HERE/scripts/postinstall"
# The bundled node and addon must keep their ad-hoc/upstream signatures: no stripping here.

pkgbuild --root "$ROOT" --scripts "$HERE/scripts" --identifier com.ninjait.agent --version "$VERSION" \
  --install-location / --ownership recommended "$WORK/ninjait-agent-component.pkg"
sed "s/version=\"0\"/version=\"$VERSION\"/" "$HERE/distribution.xml" >"$WORK/distribution.xml"
SIGN=()
[ -n "${MACOS_INSTALLER_IDENTITY:-}" ] && SIGN=(--sign "$MACOS_INSTALLER_IDENTITY")
productbuild --distribution "$WORK/distribution.xml" --package-path "$WORK" ${SIGN[@]+"${SIGN[@]}"} \
  "$OUT/ninjait-agent-$VERSION-darwin-$ARCH.pkg"
echo "$OUT/ninjait-agent-$VERSION-darwin-$ARCH.pkg"
