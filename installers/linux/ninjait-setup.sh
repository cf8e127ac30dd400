#!/bin/sh
# Shared by the .deb and .rpm maintainer scripts (installed as /opt/ninjait/share/ninjait-setup.sh).
#   configure        create the user and folders, enroll when NINJAIT_SERVER and NINJAIT_TOKEN are
#                    given (environment or /etc/ninjait/install.env; NINJAIT_PIN, NINJAIT_INSECURE
#                    and NINJAIT_REENROLL too), enable and start the service
#   stop [--disable] stop the service (and disable it on removal)
set -eu

USER_NAME=ninjait
CONFIG_DIR=/etc/ninjait
DATA_DIR=/var/lib/ninjait
UNIT=ninjait-agent.service
# The service's own settings (systemd's EnvironmentFile); consent to plain http goes here.
DEFAULTS=/etc/default/ninjait-agent
has_systemd() { [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; }
say() { echo "ninjait-agent: $*" >&2; }

# Reads KEY=value from install.env without sourcing it (it is data, not code).
env_file_value() {
  [ -f "$CONFIG_DIR/install.env" ] || return 0
  sed -n "s/^$1=//p" "$CONFIG_DIR/install.env" | tail -n 1 | tr -d "\"'\r"
}

# The service runs `ninjait-agent run`, which refuses plain http beyond loopback unless told
# NINJAIT_INSECURE=1: set it for the server just enrolled with, or drop it when that one has TLS.
remember_insecure() {
  if [ -f "$DEFAULTS" ]; then sed -i '/^NINJAIT_INSECURE=/d' "$DEFAULTS"; fi
  if [ "$1" = 1 ]; then
    echo NINJAIT_INSECURE=1 >>"$DEFAULTS"
    chmod 0644 "$DEFAULTS"
    say "plain http: the agent accepts it (NINJAIT_INSECURE=1 in $DEFAULTS); serve https to stop sending data unencrypted"
  fi
}

configure() {
  if ! getent passwd "$USER_NAME" >/dev/null; then
    useradd --system --user-group --home-dir "$DATA_DIR" --no-create-home \
      --shell /usr/sbin/nologin --comment "NinjaIT agent" "$USER_NAME"
  fi
  # The device secret and the buffered data are the agent's alone (it narrows older installs too).
  install -d -m 0700 -o "$USER_NAME" -g "$USER_NAME" "$DATA_DIR" "$CONFIG_DIR"
  # The update key belongs to root: the agent reads it, only an admin or a package replaces it.
  if [ -f "$CONFIG_DIR/update-key.pub" ]; then chown root:root "$CONFIG_DIR/update-key.pub"; chmod 0644 "$CONFIG_DIR/update-key.pub"; fi

  server="${NINJAIT_SERVER:-$(env_file_value NINJAIT_SERVER)}"
  token="${NINJAIT_TOKEN:-$(env_file_value NINJAIT_TOKEN)}"
  # A self-signed server's key (sha256/...), and consent to plain http:// beyond loopback.
  pin="${NINJAIT_PIN:-$(env_file_value NINJAIT_PIN)}"
  insecure="${NINJAIT_INSECURE:-$(env_file_value NINJAIT_INSECURE)}"
  # install.sh asks for it: running an install line is a deliberate enrollment, even of an enrolled machine.
  reenroll="${NINJAIT_REENROLL:-$(env_file_value NINJAIT_REENROLL)}"
  rm -f "$CONFIG_DIR/install.env"
  set -- enroll --server "$server" --token "$token"
  if [ -n "$pin" ]; then set -- "$@" --pin "$pin"; fi
  if [ "$insecure" = 1 ]; then set -- "$@" --insecure; fi
  if [ -n "$server" ] && [ -n "$token" ]; then
    if [ -f "$CONFIG_DIR/agent.json" ] && [ "$reenroll" != 1 ]; then
      say "already enrolled ($CONFIG_DIR/agent.json); set NINJAIT_REENROLL=1 to enroll again"
    # As the agent's user and with its default folders: an enrolled agent reads its agent.json and
    # proves those credentials to the same server, which keeps the device instead of holding a new one.
    elif runuser -u "$USER_NAME" -- /usr/bin/ninjait-agent "$@"; then
      say "enrolled with $server"
      remember_insecure "$insecure"
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
    say "no systemd here: start the agent with: runuser -u $USER_NAME -- ninjait-agent run$(grep -qx NINJAIT_INSECURE=1 "$DEFAULTS" 2>/dev/null && echo ' --insecure')"
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
