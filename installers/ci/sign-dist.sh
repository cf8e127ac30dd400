#!/usr/bin/env bash
# CI: signs every artifact in dist/ for PLATFORM ARCH, writing <file>.json beside it, ready to
# copy into a server's releases folder.   installers/ci/sign-dist.sh linux x64
set -euo pipefail
PLATFORM="$1" ARCH="$2"
VERSION="$(node -p "require('./agent/package.json').version")"
shopt -s nullglob
for file in dist/*.tar.gz dist/*.deb dist/*.rpm dist/*.pkg dist/*.msi; do
  case "$file" in
    *.tar.gz) kind=bundle ;; *.deb) kind=deb ;; *.rpm) kind=rpm ;; *.pkg) kind=pkg ;; *.msi) kind=msi ;;
  esac
  node --import tsx installers/sign.ts sign --key keys/update-key.pem --file "$file" --version "$VERSION" \
    --platform "$PLATFORM" --arch "$ARCH" --kind "$kind" --out dist
done
rm -f keys/update-key.pem
