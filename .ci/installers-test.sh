#!/usr/bin/env bash
# End-to-end check of the Linux packaging and auto-update path, run by .ci/run as root on Debian:
#   docker-compose.yml validates; the .deb and .rpm build (rpm file list checked); a test server
#   offers a Linux install line (and none for macOS or Windows, which have no package there) and
#   serves install.sh with a single-use token; install.sh downloads the .deb and installs it with
#   dpkg -i, which enrolls the agent; the agent (started by hand: no systemd here) sends samples;
#   a signed 0.1.1 bundle is auto-installed and confirmed; a bundle signed with another key is
#   refused; a signed bundle that never connects is rolled back; dpkg -r keeps the data, dpkg -P
#   removes it. Exits non-zero with a message on the first failure; kills what it started.
set -euo pipefail
REPO="$(cd "$(dirname "$0")/.." && pwd)"
WORK="$(mktemp -d /tmp/ninjait-installers.XXXXXX)"
chmod 755 "$WORK"
SERVER_PID="" AGENT_PID=""
# Whoever installs the ninjait-agent package on this machine holds it (test/support/system-package.ts too).
LOCK=/run/lock/ninjait-agent-package-test
BASE=0.1.0 NEXT=0.1.1 BAD=0.1.2 BROKEN=0.1.3

step() { printf '\n== installers: %s\n' "$*"; }
fail() {
  printf '\nFAIL installers: %s\n' "$*" >&2
  for log in "$WORK/agent.log" "$WORK/server.log"; do
    [ -f "$log" ] && { echo "--- last lines of $log" >&2; tail -n 40 "$log" >&2; }
  done
  exit 1
}
stop_pid() { # pid: TERM, wait up to 10 s, then KILL
  local pid="$1"
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.2; done
  kill -KILL "$pid" 2>/dev/null || true
}
cleanup() {
  stop_pid "$AGENT_PID"; stop_pid "$SERVER_PID"
  if [ "$(cat "$LOCK/pid" 2>/dev/null)" = $$ ]; then
    if dpkg -s ninjait-agent >/dev/null 2>&1; then dpkg -P ninjait-agent >/dev/null 2>&1 || true; fi
    rm -rf "$LOCK"
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT
# wait_for SECONDS DESCRIPTION COMMAND...: polls until the command succeeds.
wait_for() {
  local seconds="$1" what="$2"; shift 2
  local deadline=$((SECONDS + seconds))
  until "$@" >/dev/null 2>&1; do
    [ $SECONDS -lt $deadline ] || fail "timed out after ${seconds}s waiting for: $what"
    sleep 1
  done
}
apt_install() {
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "$@" >/dev/null 2>&1 \
    || { apt-get -o DPkg::Lock::Timeout=600 update -qq >/dev/null 2>&1; DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "$@" >/dev/null; }
}

[ "$(id -u)" = 0 ] || fail "must run as root (dpkg -i, a system user)"
# The machine-wide package lock, shared with test/e2e/install-lines.test.ts (npm test runs this
# beside the main suite): waited for while its holder lives, taken over when the holder is gone.
waited=0
until mkdir "$LOCK" 2>/dev/null; do
  holder="$(cat "$LOCK/pid" 2>/dev/null || true)"
  if [ -n "$holder" ] && ! kill -0 "$holder" 2>/dev/null; then break; fi
  [ "$waited" -lt 900 ] || fail "another test (pid $holder) has been installing ninjait-agent on this machine for 15 minutes"
  [ "$waited" -eq 0 ] && echo "waiting for another test (pid ${holder:-?}) installing ninjait-agent on this machine"
  sleep 2
  waited=$((waited + 2))
done
echo $$ >"$LOCK/pid"
cd "$REPO"
NINJAIT() { node --import tsx server/src/cli/main.ts "$@" --data-dir "$WORK/server" --server "$URL"; }

step "tools: rpm, docker-compose, xmllint"
command -v rpmbuild >/dev/null || apt_install rpm
command -v docker-compose >/dev/null || apt_install docker-compose
command -v xmllint >/dev/null || apt_install libxml2-utils

step "docker-compose.yml validates"
docker-compose -f docker-compose.yml config -q || fail "docker-compose config -q refused docker-compose.yml"

step "static checks of the macOS and Windows sources"
bash installers/lint.sh || fail "installers/lint.sh"

step "the agent sources are there (agent/src/cli/main.ts, agent/src/index.ts)"
for _ in $(seq 1 60); do [ -f agent/src/cli/main.ts ] && [ -f agent/src/index.ts ] && break; sleep 10; done
[ -f agent/src/cli/main.ts ] && [ -f agent/src/index.ts ] || fail "agent/src/cli/main.ts or agent/src/index.ts is missing"

step "keys: the release key and an attacker's key"
node --import tsx installers/sign.ts keygen --out "$WORK/keys" >/dev/null
node --import tsx installers/sign.ts keygen --out "$WORK/evil" >/dev/null

step "build $BASE: .deb, .rpm and the update bundle"
installers/linux/build.sh --version "$BASE" --update-key "$WORK/keys/update-key.pub" --out "$WORK/dist" >"$WORK/build.log" 2>&1 \
  || { tail -n 30 "$WORK/build.log" >&2; fail "installers/linux/build.sh"; }
DEB="$WORK/dist/ninjait-agent_${BASE}_amd64.deb"
RPM="$(ls "$WORK"/dist/ninjait-agent-"$BASE"-1.*.rpm)"
[ -f "$DEB" ] || fail "no $DEB"

step "the .rpm holds the expected files and scriptlets"
rpm -qlp "$RPM" >"$WORK/rpm-files.txt"
for path in /opt/ninjait/bin/node /opt/ninjait/lib/agent.mjs /opt/ninjait/lib/launcher.mjs \
  /opt/ninjait/lib/node_modules/better-sqlite3/build/Release/better_sqlite3.node /opt/ninjait/share/ninjait-setup.sh \
  /opt/ninjait/VERSION /usr/bin/ninjait-agent /usr/lib/systemd/system/ninjait-agent.service /etc/ninjait/update-key.pub; do
  grep -qx "$path" "$WORK/rpm-files.txt" || fail ".rpm lacks $path"
done
rpm -qp --configfiles "$RPM" >"$WORK/rpm-config.txt"
grep -qx /etc/ninjait/update-key.pub "$WORK/rpm-config.txt" || fail ".rpm: update-key.pub is not a config file"
rpm -qp --scripts "$RPM" >"$WORK/rpm-scripts.txt"
grep -q 'ninjait-setup.sh configure' "$WORK/rpm-scripts.txt" || fail ".rpm: no %post enrollment"
[ "$(rpm -qp --queryformat '%{VERSION}' "$RPM")" = "$BASE" ] || fail ".rpm version is not $BASE"
dpkg-deb -c "$DEB" >"$WORK/deb-files.txt"
grep -q '\./lib/systemd/system/ninjait-agent.service$' "$WORK/deb-files.txt" || fail ".deb lacks the systemd unit"
grep -q '\./opt/ninjait/lib/launcher.mjs$' "$WORK/deb-files.txt" || fail ".deb lacks the launcher"

step "a test server with a releases folder"
PORT="$(node -e "const s=require('node:net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})")"
URL="http://127.0.0.1:$PORT"
mkdir -p "$WORK/server" "$WORK/releases"
for kind in deb rpm; do
  file="$DEB"; [ $kind = rpm ] && file="$RPM"
  node --import tsx installers/sign.ts sign --key "$WORK/keys/update-key.pem" --file "$file" --version "$BASE" \
    --platform linux --arch x64 --kind $kind --out "$WORK/releases" >/dev/null
done
# Embedded stores only: CI exports DATABASE_URL/REDIS_URL for the test suite, and this server
# must not write into the machine's shared databases (a second run would find its organization).
env -u DATABASE_URL -u REDIS_URL -u REDIS_KEY_PREFIX \
  PORT="$PORT" HOST=127.0.0.1 DATA_DIR="$WORK/server" RELEASES_DIR="$WORK/releases" AGENT_INTERVAL_MS=2000 LOG_LEVEL=info \
  node --import tsx server/src/cli/main.ts serve >"$WORK/server.log" 2>&1 &
SERVER_PID=$!
server_up() { kill -0 "$SERVER_PID" 2>/dev/null || fail "the test server exited"; curl -fsS "$URL/healthz"; }
wait_for 180 "server /healthz" server_up

step "organization and a single-use install token"
NINJAIT org create Installers >/dev/null
TOKEN="$(NINJAIT token create --org Installers --max-uses 1 --expires-in-hours 1 2>/dev/null)"
[[ "$TOKEN" == nit_* ]] || fail "token create printed '$TOKEN'"

step "install.sh?token= is served with the token filled in"
dpkg -P ninjait-agent >/dev/null 2>&1 || true
rm -rf /etc/ninjait /var/lib/ninjait
code="$(curl -s -o "$WORK/install.sh" -w '%{http_code}' "$URL/install.sh?token=$TOKEN")"
[ "$code" = 200 ] || fail "GET /install.sh answered $code (is handleDownloads wired in server/src/platform/http/server.ts?)"
grep -q "$TOKEN" "$WORK/install.sh" || fail "install.sh does not carry the token"
code="$(curl -s -o /dev/null -w '%{http_code}' "$URL/install.sh?token=nit_not-a-real-token-0000000000000")"
[ "$code" = 403 ] || fail "install.sh with an unknown token answered $code, expected 403"

step "ninjait installer offers the Linux line (a .deb is published) and none for macOS or Windows"
NINJAIT installer --org Installers >"$WORK/installer.txt" 2>&1 || { cat "$WORK/installer.txt" >&2; fail "ninjait installer"; }
grep -q "^  curl -fsSL '$URL/install.sh?token=nit_[A-Za-z0-9_-]*' | sudo sh\$" "$WORK/installer.txt" || { cat "$WORK/installer.txt" >&2; fail "no Linux line"; }
grep -q '^macOS: no line' "$WORK/installer.txt" && grep -q '^Windows: no line' "$WORK/installer.txt" || fail "a macOS or Windows line without its package"

step "install.sh: downloads the .deb, dpkg -i, postinst enrolls"
sh "$WORK/install.sh" >"$WORK/install.log" 2>&1 || { cat "$WORK/install.log" >&2; fail "install.sh failed"; }
dpkg -s ninjait-agent | grep -q "^Version: $BASE" || fail "ninjait-agent $BASE is not installed"
getent passwd ninjait >/dev/null || fail "no ninjait user"
[ -f /etc/ninjait/agent.json ] || { cat "$WORK/install.log" >&2; fail "postinst did not enroll (/etc/ninjait/agent.json missing)"; }
[ "$(stat -c %U /etc/ninjait/agent.json)" = ninjait ] || fail "agent.json is not owned by ninjait"
[ "$(stat -c %a /etc/ninjait/agent.json)" = 600 ] || fail "agent.json is not mode 600"
code="$(curl -s -o /dev/null -w '%{http_code}' "$URL/install.sh?token=$TOKEN")"
[ "$code" = 403 ] || fail "the used single-use token still serves install.sh ($code)"

step "start the agent by hand as ninjait (no systemd here)"
env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin NINJAIT_UPDATE_FIRST_CHECK_SEC=1 NINJAIT_UPDATE_CHECK_SEC=2 \
  NINJAIT_UPDATE_CONFIRM_SEC=45 NINJAIT_UPDATE_CONFIRM_POLL_SEC=1 \
  setpriv --reuid=ninjait --regid=ninjait --init-groups /usr/bin/ninjait-agent run >"$WORK/agent.log" 2>&1 &
AGENT_PID=$!
device_json() { NINJAIT devices --org Installers --json 2>/dev/null; }
device_has() { # jq-free check with node: device_has '<js expression on d>'
  device_json | node -e "const ds=JSON.parse(require('fs').readFileSync(0,'utf8')); const d=ds[0]; process.exit(d && ($1) ? 0 : 1)"
}
wait_for 90 "the device online with latest values" device_has "d.status==='online' && d.latest"
device_has "d.agentVersion==='$BASE'" || fail "device reports version $(device_json | head -c 300)"

step "auto-update to a signed $NEXT"
build_bundle() { # version -> $WORK/bundles/ninjait-agent-<v>-linux-x64.tar.gz
  node --import tsx installers/build-bundle.ts --version "$1" --out "$WORK/bundles/$1" \
    --tar "$WORK/bundles/ninjait-agent-$1-linux-x64.tar.gz" >/dev/null
}
mkdir -p "$WORK/bundles"
build_bundle "$NEXT"
node --import tsx installers/sign.ts sign --key "$WORK/keys/update-key.pem" --file "$WORK/bundles/ninjait-agent-$NEXT-linux-x64.tar.gz" \
  --version "$NEXT" --platform linux --arch x64 --kind bundle --out "$WORK/releases" >/dev/null
current_is() { [ "$(cat /var/lib/ninjait/agent/current 2>/dev/null)" = "$1" ]; }
wait_for 120 "/var/lib/ninjait/agent/current = $NEXT" current_is "$NEXT"
wait_for 60 "the update to be confirmed (marker cleared)" test ! -e /var/lib/ninjait/agent/update-pending.json
device_has "d.agentVersion==='$NEXT'" || fail "the server does not see $NEXT"
wait_for 30 "samples from $NEXT" device_has "d.status==='online'"
kill -0 "$AGENT_PID" || fail "the launcher exited during the update"

step "a bundle signed with another key is refused"
cp "$WORK/bundles/ninjait-agent-$NEXT-linux-x64.tar.gz" "$WORK/bundles/ninjait-agent-$BAD-linux-x64.tar.gz"
node --import tsx installers/sign.ts sign --key "$WORK/evil/update-key.pem" --file "$WORK/bundles/ninjait-agent-$BAD-linux-x64.tar.gz" \
  --version "$BAD" --platform linux --arch x64 --kind bundle --out "$WORK/releases" >/dev/null
refused() { node -e "const s=JSON.parse(require('fs').readFileSync('/var/lib/ninjait/agent/update-state.json','utf8')); process.exit(s.status==='refused' && s.version==='$BAD' ? 0 : 1)"; }
wait_for 60 "update-state.json to show $BAD refused" refused
grep -q 'signature does not verify' /var/lib/ninjait/agent/update-state.json || fail "refusal reason is not the signature"
current_is "$NEXT" || fail "current changed after a bad signature"
[ ! -e "/var/lib/ninjait/agent/versions/$BAD" ] || fail "the badly signed bundle was unpacked"

step "a signed $BROKEN that never connects is rolled back to $NEXT"
cp -a "$WORK/bundles/$NEXT" "$WORK/bundles/$BROKEN"
echo "$BROKEN" >"$WORK/bundles/$BROKEN/VERSION"
printf 'process.stderr.write("broken build\\n"); process.exit(1);\n' >"$WORK/bundles/$BROKEN/lib/agent.mjs"
tar --owner=0 --group=0 -czf "$WORK/bundles/ninjait-agent-$BROKEN-linux-x64.tar.gz" -C "$WORK/bundles/$BROKEN" .
node --import tsx installers/sign.ts sign --key "$WORK/keys/update-key.pem" --file "$WORK/bundles/ninjait-agent-$BROKEN-linux-x64.tar.gz" \
  --version "$BROKEN" --platform linux --arch x64 --kind bundle --out "$WORK/releases" >/dev/null
# A build that exits at once is rolled back within a second, so `current` may show it only between
# two polls: having tried it is also seen in failed.json, which stays.
tried_broken() { current_is "$BROKEN" || grep -q "\"$BROKEN\"" /var/lib/ninjait/agent/failed.json 2>/dev/null; }
wait_for 60 "the launcher to try $BROKEN" tried_broken
wait_for 120 "rollback to $NEXT" current_is "$NEXT"
grep -q "\"$BROKEN\"" /var/lib/ninjait/agent/failed.json || fail "$BROKEN is not remembered as failed"
wait_for 60 "the device online again on $NEXT" device_has "d.status==='online' && d.agentVersion==='$NEXT'"

step "stop the agent; dpkg -r keeps data, dpkg -P removes it"
stop_pid "$AGENT_PID"; AGENT_PID=""
dpkg -r ninjait-agent >"$WORK/remove.log" 2>&1 || { cat "$WORK/remove.log" >&2; fail "dpkg -r"; }
[ ! -e /opt/ninjait/bin/node ] || fail "/opt/ninjait/bin/node left after remove"
[ ! -e /usr/bin/ninjait-agent ] || fail "/usr/bin/ninjait-agent left after remove"
[ -f /etc/ninjait/agent.json ] || fail "remove deleted /etc/ninjait/agent.json"
[ -f /var/lib/ninjait/outbox.db ] || fail "remove deleted /var/lib/ninjait/outbox.db"
dpkg -P ninjait-agent >"$WORK/purge.log" 2>&1 || { cat "$WORK/purge.log" >&2; fail "dpkg -P"; }
[ ! -e /var/lib/ninjait ] || fail "/var/lib/ninjait left after purge"
[ ! -e /etc/ninjait ] || fail "/etc/ninjait left after purge"
[ ! -e /opt/ninjait ] || fail "/opt/ninjait left after purge"
! getent passwd ninjait >/dev/null || fail "user ninjait left after purge"

printf '\nOK installers: deb/rpm built, installed via install.sh, enrolled, sampled, updated %s -> %s, bad signature refused, broken %s rolled back, removed, purged\n' "$BASE" "$NEXT" "$BROKEN"
