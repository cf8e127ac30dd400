#!/usr/bin/env bash
# Static checks of the installer sources that cannot be built on Linux (macOS, Windows) and of
# the shell scripts. Needs xmllint (libxml2-utils) and python3. Exit code 1 on any problem.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
problems=0
bad() { echo "lint: $*" >&2; problems=$((problems + 1)); }

# XML well-formedness: WiX, WinSW, the productbuild distribution, the launchd plist.
for xml in windows/ninjait-agent.wxs windows/ninjait-agent-service.xml macos/distribution.xml macos/com.ninjait.agent.plist; do
  xmllint --noout --nonet "$HERE/$xml" || bad "$xml is not well-formed XML"
done

# The plist through a real plist parser, with the keys launchd needs.
python3 - "$HERE/macos/com.ninjait.agent.plist" <<'PY' || bad "launchd plist"
import plistlib, sys
with open(sys.argv[1], 'rb') as f:
    p = plistlib.load(f)
assert p['Label'] == 'com.ninjait.agent', 'Label'
assert p['ProgramArguments'][0].endswith('/bin/node') and p['ProgramArguments'][-1] == 'run', 'ProgramArguments'
assert p['KeepAlive'] == {'SuccessfulExit': False}, 'KeepAlive restarts on failure only'
assert p['UserName'] == '_ninjait' and p['RunAtLoad'] is True, 'UserName/RunAtLoad'
PY

# WinSW and WiX: the pieces the service depends on are present.
python3 - "$HERE/windows/ninjait-agent-service.xml" "$HERE/windows/ninjait-agent.wxs" <<'PY' || bad "Windows XML content"
import sys, xml.etree.ElementTree as ET
svc = ET.parse(sys.argv[1]).getroot()
assert svc.tag == 'service' and svc.findtext('id') == 'NinjaITAgent', 'WinSW id'
assert svc.findtext('executable').endswith('node.exe') and 'launcher.mjs' in svc.findtext('arguments'), 'WinSW command'
assert svc.find('onfailure').get('action') == 'restart', 'WinSW restart on failure'
ns = {'w': 'http://wixtoolset.org/schemas/v4/wxs'}
wix = ET.parse(sys.argv[2]).getroot()
pkg = wix.find('w:Package', ns)
assert pkg is not None and pkg.get('UpgradeCode'), 'WiX Package/UpgradeCode'
assert pkg.find('.//w:ServiceInstall', ns).get('Name') == svc.findtext('id'), 'WiX ServiceInstall matches WinSW id'
assert pkg.find("w:Property[@Id='NINJAIT_TOKEN']", ns).get('Hidden') == 'yes', 'token property hidden from logs'
PY

# Shell syntax (POSIX sh where it matters: maintainer scripts and install.sh run under dash).
for sh in linux/install.sh linux/ninjait-setup.sh linux/ninjait-agent.sh linux/debian/postinst linux/debian/prerm linux/debian/postrm \
  macos/scripts/preinstall macos/scripts/postinstall macos/uninstall.sh macos/ninjait-agent.sh; do
  sh -n "$HERE/$sh" || bad "$sh: sh syntax"
done
for sh in linux/build.sh macos/build.sh ci/update-key.sh ci/sign-dist.sh; do bash -n "$HERE/$sh" || bad "$sh: bash syntax"; done
if command -v dash >/dev/null; then dash -n "$HERE/linux/install.sh" || bad "install.sh: dash syntax"; fi

# PowerShell: parsed when pwsh exists (CI's Windows job); here only the placeholders are checked.
if command -v pwsh >/dev/null; then
  for ps in windows/install.ps1 windows/build.ps1; do
    pwsh -NoProfile -Command "\$e=\$null; [System.Management.Automation.Language.Parser]::ParseFile('$HERE/$ps',[ref]\$null,[ref]\$e) | Out-Null; if (\$e) { \$e; exit 1 }" || bad "$ps: PowerShell syntax"
  done
fi
grep -q "__NINJAIT_TOKEN__" "$HERE/windows/install.ps1" || bad "install.ps1 lacks the token placeholder"
grep -q "__NINJAIT_TOKEN__" "$HERE/linux/install.sh" || bad "install.sh lacks the token placeholder"

[ "$problems" = 0 ] || { echo "lint: $problems problem(s)" >&2; exit 1; }
echo "lint: installers OK"
