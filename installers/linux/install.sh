#!/bin/sh
# NinjaIT agent installer for Linux and macOS. The server fills in its URL and a short-lived
# enrollment token (single-use unless the admin chose otherwise), then serves this file at
#   curl -fsSL 'https://SERVER/install.sh?token=TOKEN' | sudo sh
# It downloads the newest signed package for this machine from the same server, installs it
# with the system's package tool and enrolls the machine. The token is handed to the package
# in a root-only file that the package deletes, never on a command line. A machine enrolled
# before is enrolled again: its agent proves its current credentials to the same server, which
# then keeps the device it knows.
set -eu

NINJAIT_SERVER='__NINJAIT_SERVER__'
NINJAIT_TOKEN='__NINJAIT_TOKEN__'
# 1 when the server is plain http:// beyond loopback: the agent must be told to accept that.
NINJAIT_INSECURE='__NINJAIT_INSECURE__'

say() { echo "NinjaIT: $*" >&2; }
die() { say "$*"; exit 1; }
[ "$(id -u)" = 0 ] || die "run as root: curl -fsSL '<link>' | sudo sh"

fetch() { # url file: on a refusal, says what the server said (e.g. that it has no such package)
  if command -v curl >/dev/null 2>&1; then
    code="$(curl -sSL --retry 3 -o "$2" -w '%{http_code}' "$1")" || die "could not download $1"
    [ "$code" = 200 ] || die "$1 answered $code: $(head -c 300 "$2" | tr -cd '[:print:]\n')"
  elif command -v wget >/dev/null 2>&1; then wget -q -O "$2" "$1" || die "could not download $1 (the server may have no such package)"
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
  (umask 077 && printf 'NINJAIT_SERVER=%s\nNINJAIT_TOKEN=%s\nNINJAIT_INSECURE=%s\nNINJAIT_REENROLL=1\n' \
    "$NINJAIT_SERVER" "$NINJAIT_TOKEN" "$NINJAIT_INSECURE" >"$env_file")
}
# A fingerprint of the enrollment, to tell a fresh one from one left by an earlier install.
enrollment_of() { if [ -f "$1" ]; then cksum <"$1"; fi; }

case "$(uname -s)" in
  Linux)
    if command -v dpkg >/dev/null 2>&1; then kind=deb; elif command -v rpm >/dev/null 2>&1; then kind=rpm
    else die "neither dpkg nor rpm found: install from the .tar.gz by hand (see the docs)"; fi
    say "downloading the $kind package for linux-$arch from $NINJAIT_SERVER"
    fetch "$NINJAIT_SERVER/downloads/agent/latest/linux/$arch/$kind" "$tmp/ninjait-agent.$kind"
    config=/etc/ninjait/agent.json
    before="$(enrollment_of "$config")"
    write_env /etc/ninjait
    if [ "$kind" = deb ]; then
      dpkg -i "$tmp/ninjait-agent.deb" || { command -v apt-get >/dev/null 2>&1 && apt-get install -f -y; } || die "dpkg -i failed"
    elif command -v dnf >/dev/null 2>&1; then dnf install -y "$tmp/ninjait-agent.rpm"
    elif command -v yum >/dev/null 2>&1; then yum install -y "$tmp/ninjait-agent.rpm"
    else rpm -Uvh "$tmp/ninjait-agent.rpm"; fi
    ;;
  Darwin)
    [ "$NINJAIT_INSECURE" != 1 ] || die "$NINJAIT_SERVER is plain http: the macOS package enrolls over https only"
    say "downloading the macOS package from $NINJAIT_SERVER"
    fetch "$NINJAIT_SERVER/downloads/agent/latest/darwin/$arch/pkg" "$tmp/ninjait-agent.pkg"
    config="/Library/Application Support/NinjaIT/agent.json"
    before="$(enrollment_of "$config")"
    write_env "/Library/Application Support/NinjaIT"
    installer -pkg "$tmp/ninjait-agent.pkg" -target /
    ;;
  *) die "unsupported system $(uname -s); on Windows use install.ps1" ;;
esac

if [ -f "$config" ] && [ "$(enrollment_of "$config")" != "$before" ]; then
  say "installed and enrolled with $NINJAIT_SERVER"
else
  die "installed, but enrollment failed (see the messages above); the link's token may be used up or expired"
fi
