#!/bin/sh
# Shared by the .deb and .rpm maintainer scripts (installed as /opt/ninjait/share/ninjait-setup.sh).
#   configure        create the user and folders, enroll when NINJAIT_SERVER and NINJAIT_TOKEN are
#                    given (environment or /etc/ninjait/install.env), enable and start the service
#   stop [--disable] stop the service (and disable it on removal)
set -eu

USER_NAME=ninjait
CONFIG_DIR=/etc/ninjait
DATA_DIR=/var/lib/ninjait
UNIT=ninjait-agent.service
has_systemd() { [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; }
say() { echo "ninjait-agent: $*" >&2; }

# Reads KEY=value from install.env without sourcing it (it is data, not code).
env_file_value() {
  [ -f "$CONFIG_DIR/install.env" ] || return 0
  sed -n "s/^$1=//p" "$CONFIG_DIR/install.env" | tail -n 1 | tr -d "\"'\r"
}

configure() {
  if ! getent passwd "$USER_NAME" >/dev/null; then
    useradd --system --user-group --home-dir "$DATA_DIR" --no-create-home \
      --shell /usr/sbin/nologin --comment "NinjaIT agent" "$USER_NAME"
  fi
  install -d -m 0750 -o "$USER_NAME" -g "$USER_NAME" "$DATA_DIR" "$CONFIG_DIR"
  # The update key belongs to root: the agent reads it, only an admin or a package replaces it.
  if [ -f "$CONFIG_DIR/update-key.pub" ]; then chown root:root "$CONFIG_DIR/update-key.pub"; chmod 0644 "$CONFIG_DIR/update-key.pub"; fi

  server="${NINJAIT_SERVER:-$(env_file_value NINJAIT_SERVER)}"
  token="${NINJAIT_TOKEN:-$(env_file_value NINJAIT_TOKEN)}"
  rm -f "$CONFIG_DIR/install.env"
  if [ -n "$server" ] && [ -n "$token" ]; then
    if [ -f "$CONFIG_DIR/agent.json" ] && [ "${NINJAIT_REENROLL:-0}" != 1 ]; then
      say "already enrolled ($CONFIG_DIR/agent.json); set NINJAIT_REENROLL=1 to enroll again"
    elif runuser -u "$USER_NAME" -- /usr/bin/ninjait-agent enroll --server "$server" --token "$token"; then
      say "enrolled with $server"
    else
      say "enrollment failed; fix the cause, then run: sudo -u $USER_NAME ninjait-agent enroll --server URL --token TOKEN"
    fi
  elif [ ! -f "$CONFIG_DIR/agent.json" ]; then
    say "installed, not enrolled: sudo -u $USER_NAME ninjait-agent enroll --server URL --token TOKEN, then systemctl start $UNIT"
  fi

  if has_systemd; then
    systemctl daemon-reload || true
    systemctl enable "$UNIT" >/dev/null 2>&1 || true
    if [ -f "$CONFIG_DIR/agent.json" ]; then systemctl restart "$UNIT" || say "the service did not start: journalctl -u $UNIT"; fi
  else
    say "no systemd here: start the agent with: runuser -u $USER_NAME -- ninjait-agent run"
  fi
}

stop() {
  has_systemd || return 0
  systemctl stop "$UNIT" >/dev/null 2>&1 || true
  if [ "${1:-}" = --disable ]; then systemctl disable "$UNIT" >/dev/null 2>&1 || true; fi
}

case "${1:-}" in
  configure) configure ;;
  stop) stop "${2:-}" ;;
  *) echo "usage: $0 configure | stop [--disable]" >&2; exit 2 ;;
esac
