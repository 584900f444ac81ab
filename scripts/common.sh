# Shared by install.sh and uninstall.sh (sourced, not executed).
# Every path below is prefixed with $DESTDIR so tests and package builds can target a throwaway root.

SERVICE_NAME=kkt-agent
SERVICE_USER=kkt-agent
SERVICE_GROUP=kkt-agent
SERIAL_GROUP=dialout

APP_DIR=/opt/kkt-agent
CONFIG_DIR=/etc/kkt-agent
STATE_DIR=/var/lib/kkt-agent
LOG_DIR=/var/log/kkt-agent
UNIT_PATH=/etc/systemd/system/kkt-agent.service
RULE_PATH=/etc/udev/rules.d/99-atol-kkt.rules
# The kkt-agent command of a source or tarball install (the .deb puts its own in /usr/bin).
COMMAND_PATH=/usr/local/bin/kkt-agent

log() { printf '%s: %s\n' "$(basename "$0")" "$*"; }
die() {
  printf '%s: error: %s\n' "$(basename "$0")" "$*" >&2
  exit 1
}

is_root() { [ "$(id -u)" -eq 0 ]; }

# SYSTEMCTL/UDEVADM name the commands used for service management; an empty value or --no-systemctl
# disables them. With DESTDIR and no explicit SYSTEMCTL the host's systemd is left alone: the staged
# root is not the running system.
resolve_service_tools() {
  local no_systemctl=$1
  if [ "$no_systemctl" = 1 ]; then
    SYSTEMCTL=""
    UDEVADM=""
  elif [ -n "${DESTDIR:-}" ] && [ -z "${SYSTEMCTL+set}" ]; then
    log "DESTDIR is set: not calling systemctl or udevadm on this host"
    SYSTEMCTL=""
    UDEVADM=""
  else
    SYSTEMCTL=${SYSTEMCTL-systemctl}
    UDEVADM=${UDEVADM-udevadm}
  fi
}

run_systemctl() { [ -z "$SYSTEMCTL" ] || $SYSTEMCTL "$@"; }
run_udevadm() { [ -z "$UDEVADM" ] || $UDEVADM "$@"; }

# User creation and chown only make sense on the real root, as root.
resolve_user_handling() {
  local no_user=$1
  MANAGE_USER=1
  if [ "$no_user" = 1 ]; then
    MANAGE_USER=0
  elif [ -n "${DESTDIR:-}" ]; then
    log "DESTDIR is set: not creating or removing the system user $SERVICE_USER"
    MANAGE_USER=0
  elif ! is_root; then
    die "run as root (sudo), or pass --no-user with DESTDIR for a staged install"
  fi
}

# render_unit UNIT NODE OUT: the unit names /usr/bin/node; the node the app runs on is written in instead.
render_unit() {
  sed "s#^ExecStart=/usr/bin/node #ExecStart=$2 #" "$1" >"$3"
}

# write_wrapper NODE APP OUT: the kkt-agent command on PATH runs the app with the node it was installed
# with, whatever node (if any) comes first on the caller's PATH.
write_wrapper() {
  printf '#!/bin/sh\n# kkt-agent: the installed agent on the node it was installed with.\nexec %s %s/bin/kkt-agent.js "$@"\n' \
    "$1" "$2" >"$3"
}
