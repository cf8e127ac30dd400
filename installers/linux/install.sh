#!/bin/sh
# NinjaIT agent installer for Linux and macOS. The server fills in its URL and a short-lived
# enrollment token (single-use unless the admin chose otherwise), then serves this file at
#   curl -fsSL 'https://SERVER/install.sh?token=TOKEN' | sudo sh
# It downloads the newest signed package for this machine from the same server, installs it
# with the system's package tool and enrolls the machine. The token is handed to the package
# in a root-only file that the package deletes, never on a command line.
set -eu

NINJAIT_SERVER='__NINJAIT_SERVER__'
NINJAIT_TOKEN='__NINJAIT_TOKEN__'

say() { echo "NinjaIT: $*" >&2; }
die() { say "$*"; exit 1; }
[ "$(id -u)" = 0 ] || die "run as root: curl -fsSL '<link>' | sudo sh"

fetch() { # url file
  if command -v curl >/dev/null 2>&1; then curl -fsSL --retry 3 -o "$2" "$1"
  elif command -v wget >/dev/null 2>&1; then wget -q -O "$2" "$1"
  else die "curl or wget is needed"; fi
}

tmp="$(mktemp -d)"
env_file=""
cleanup() { rm -rf "$tmp"; [ -z "$env_file" ] || rm -f "$env_file"; }
trap cleanup EXIT INT TERM

case "$(uname -m)" in
  x86_64|amd64) arch=x64 ;;
  aarch64|arm64) arch=arm64 ;;
  *) die "unsupported CPU architecture $(uname -m)" ;;
esac

write_env() { # dir: the package's postinstall reads and deletes <dir>/install.env
  mkdir -p "$1"
  env_file="$1/install.env"
  (umask 077 && printf 'NINJAIT_SERVER=%s\nNINJAIT_TOKEN=%s\n' "$NINJAIT_SERVER" "$NINJAIT_TOKEN" >"$env_file")
}

case "$(uname -s)" in
  Linux)
    if command -v dpkg >/dev/null 2>&1; then kind=deb; elif command -v rpm >/dev/null 2>&1; then kind=rpm
    else die "neither dpkg nor rpm found: install from the .tar.gz by hand (see the docs)"; fi
    say "downloading the $kind package for linux-$arch from $NINJAIT_SERVER"
    fetch "$NINJAIT_SERVER/downloads/agent/latest/linux/$arch/$kind" "$tmp/ninjait-agent.$kind"
    write_env /etc/ninjait
    if [ "$kind" = deb ]; then
      dpkg -i "$tmp/ninjait-agent.deb" || { command -v apt-get >/dev/null 2>&1 && apt-get install -f -y; } || die "dpkg -i failed"
    elif command -v dnf >/dev/null 2>&1; then dnf install -y "$tmp/ninjait-agent.rpm"
    elif command -v yum >/dev/null 2>&1; then yum install -y "$tmp/ninjait-agent.rpm"
    else rpm -Uvh "$tmp/ninjait-agent.rpm"; fi
    config=/etc/ninjait/agent.json
    ;;
  Darwin)
    say "downloading the macOS package from $NINJAIT_SERVER"
    fetch "$NINJAIT_SERVER/downloads/agent/latest/darwin/$arch/pkg" "$tmp/ninjait-agent.pkg"
    write_env "/Library/Application Support/NinjaIT"
    installer -pkg "$tmp/ninjait-agent.pkg" -target /
    config="/Library/Application Support/NinjaIT/agent.json"
    ;;
  *) die "unsupported system $(uname -s); on Windows use install.ps1" ;;
esac

if [ -f "$config" ]; then
  say "installed and enrolled with $NINJAIT_SERVER"
else
  die "installed, but enrollment failed (see the messages above); the link's token may be used up or expired"
fi
