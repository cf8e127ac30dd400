#!/bin/sh
# Removes the NinjaIT agent from macOS. Keeps enrollment and data unless --purge is given.
#   sudo /usr/local/ninjait/share/uninstall.sh [--purge]
set -eu
[ "$(id -u)" = 0 ] || { echo "run with sudo" >&2; exit 1; }
launchctl bootout system/com.ninjait.agent 2>/dev/null || true
rm -f /Library/LaunchDaemons/com.ninjait.agent.plist /usr/local/bin/ninjait-agent
rm -rf /usr/local/ninjait
pkgutil --forget com.ninjait.agent >/dev/null 2>&1 || true
if [ "${1:-}" = --purge ]; then
  rm -rf "/Library/Application Support/NinjaIT" /Library/Logs/NinjaIT
  dscl . -delete /Users/_ninjait 2>/dev/null || true
  dscl . -delete /Groups/_ninjait 2>/dev/null || true
fi
echo "NinjaIT agent removed$( [ "${1:-}" = --purge ] && echo ', data purged' )"
