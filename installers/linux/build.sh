#!/usr/bin/env bash
# Builds the Linux packages of the agent from this checkout, on the architecture to package.
#   installers/linux/build.sh --version X.Y.Z --update-key PUB [--out DIR] [--no-deb] [--no-rpm] [--bundle DIR]
# Writes to DIR (default dist/): ninjait-agent_X.Y.Z_<debarch>.deb, ninjait-agent-X.Y.Z-1.<rpmarch>.rpm
# (when rpmbuild exists) and ninjait-agent-X.Y.Z-linux-<arch>.tar.gz (the auto-update bundle).
# --bundle DIR packages a bundle folder build-bundle.ts already made (of this --version) and
# writes no tarball: installers/publish-local.ts builds the bundle once for every package.
# Temporary files go under $TMPDIR.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
VERSION="" KEY="" OUT="$REPO/dist" DEB=1 RPM=1 BUNDLE=""
while [ $# -gt 0 ]; do
  case "$1" in
    --version) VERSION="$2"; shift 2 ;;
    --update-key) KEY="$2"; shift 2 ;;
    --out) OUT="$2"; shift 2 ;;
    --no-deb) DEB=0; shift ;;
    --no-rpm) RPM=0; shift ;;
    --bundle) BUNDLE="$2"; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
[ -n "$VERSION" ] || { echo "--version is required" >&2; exit 2; }
[ -f "$KEY" ] || { echo "--update-key PUB (from installers/sign.ts keygen) is required: agents verify updates with it" >&2; exit 2; }
if [ -n "$BUNDLE" ]; then
  [ "$(cat "$BUNDLE/VERSION" 2>/dev/null)" = "$VERSION" ] || { echo "--bundle $BUNDLE is not a bundle of version $VERSION" >&2; exit 2; }
fi
mkdir -p "$OUT"; OUT="$(cd "$OUT" && pwd)"

case "$(uname -m)" in
  x86_64) ARCH=x64 DEB_ARCH=amd64 RPM_ARCH=x86_64 ;;
  aarch64) ARCH=arm64 DEB_ARCH=arm64 RPM_ARCH=aarch64 ;;
  *) echo "unsupported architecture $(uname -m)" >&2; exit 1 ;;
esac

WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
BUNDLE_TAR=""
if [ -z "$BUNDLE" ]; then
  BUNDLE="$WORK/bundle" BUNDLE_TAR="$OUT/ninjait-agent-$VERSION-linux-$ARCH.tar.gz"
  (cd "$REPO" && node --import tsx installers/build-bundle.ts --version "$VERSION" --out "$BUNDLE" --tar "$BUNDLE_TAR")
fi

# The file tree both packages install.
stage_tree() { # $1 = root, $2 = systemd unit dir
  local root="$1"
  install -d "$root/opt/ninjait" "$root/opt/ninjait/share" "$root/usr/bin" "$root$2" "$root/etc/ninjait" "$root/usr/share/doc/ninjait-agent"
  cp -a "$BUNDLE/." "$root/opt/ninjait/"
  install -m 0755 "$HERE/ninjait-setup.sh" "$root/opt/ninjait/share/ninjait-setup.sh"
  install -m 0755 "$HERE/ninjait-agent.sh" "$root/usr/bin/ninjait-agent"
  install -m 0644 "$HERE/ninjait-agent.service" "$root$2/ninjait-agent.service"
  install -m 0644 "$KEY" "$root/etc/ninjait/update-key.pub"
  install -m 0644 "$HERE/../README.md" "$root/usr/share/doc/ninjait-agent/README.md"
  # Readable by all, writable by root only, whatever umask the builder ran under (the quick start's is 077).
  chmod -R u+rwX,go+rX,go-w "$root"
}

if [ "$DEB" = 1 ]; then
  ROOT="$WORK/deb"
  stage_tree "$ROOT" /lib/systemd/system
  install -d "$ROOT/DEBIAN"
  SIZE_KB="$(du -sk --exclude=DEBIAN "$ROOT" | cut -f1)"
  sed -e "s/@VERSION@/$VERSION/" -e "s/@ARCH@/$DEB_ARCH/" -e "s/@SIZE_KB@/$SIZE_KB/" "$HERE/debian/control.in" >"$ROOT/DEBIAN/control"
  chmod 0644 "$ROOT/DEBIAN/control"
  install -m 0644 "$HERE/debian/conffiles" "$ROOT/DEBIAN/conffiles"
  for script in postinst prerm postrm; do install -m 0755 "$HERE/debian/$script" "$ROOT/DEBIAN/$script"; done
  # gzip: fast to build, readable by every dpkg; root:root ownership without fakeroot.
  dpkg-deb --root-owner-group -Zgzip --build "$ROOT" "$OUT/ninjait-agent_${VERSION}_${DEB_ARCH}.deb" >/dev/null
  echo "$OUT/ninjait-agent_${VERSION}_${DEB_ARCH}.deb"
fi

if [ "$RPM" = 1 ]; then
  if command -v rpmbuild >/dev/null 2>&1; then
    ROOT="$WORK/rpm-stage"
    UNITDIR="$(rpm --eval '%{_unitdir}' 2>/dev/null || echo /usr/lib/systemd/system)"
    case "$UNITDIR" in /*) ;; *) UNITDIR=/usr/lib/systemd/system ;; esac
    stage_tree "$ROOT" "$UNITDIR"
    rpmbuild -bb --quiet --define "_topdir $WORK/rpmbuild" --define "stage $ROOT" --define "agent_version $VERSION" \
      --define "rpm_arch $RPM_ARCH" --define "_unitdir $UNITDIR" "$HERE/rpm/ninjait-agent.spec" >/dev/null
    cp "$WORK"/rpmbuild/RPMS/"$RPM_ARCH"/ninjait-agent-"$VERSION"-1.*.rpm "$OUT/"
    ls "$OUT"/ninjait-agent-"$VERSION"-1.*.rpm
  else
    echo "rpmbuild not found: skipped the .rpm (apt-get install rpm, or dnf install rpm-build)" >&2
  fi
fi
if [ -n "$BUNDLE_TAR" ]; then echo "$BUNDLE_TAR"; fi
