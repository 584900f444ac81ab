#!/usr/bin/env bash
# Removes the kkt-agent service, its udev rule and the app in /opt/kkt-agent. Configuration
# (/etc/kkt-agent), state (/var/lib/kkt-agent: the job journal!) and logs are kept unless --purge.
set -euo pipefail

usage() {
  cat <<'EOF'
Usage: sudo scripts/uninstall.sh [options]

Options:
  --destdir DIR   remove from below DIR instead of / (also: DESTDIR=DIR)
  --purge         also remove /etc/kkt-agent, /var/lib/kkt-agent, /var/log/kkt-agent and the user.
                  The state directory holds the job journal: unsent receipts are lost with it.
  --no-systemctl  do not stop/disable the service nor reload systemd/udev
  --no-user       do not remove the kkt-agent system user (with --purge)
  -h, --help      this text

Environment: SYSTEMCTL, UDEVADM (commands; empty disables them).
EOF
}

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=common.sh
. "$SCRIPT_DIR/common.sh"

DESTDIR=${DESTDIR:-}
purge=0
no_systemctl=0
no_user=0
while [ $# -gt 0 ]; do
  case $1 in
    --destdir) DESTDIR=${2:?--destdir needs a directory}; shift 2 ;;
    --destdir=*) DESTDIR=${1#*=}; shift ;;
    --purge) purge=1; shift ;;
    --no-systemctl) no_systemctl=1; shift ;;
    --no-user) no_user=1; shift ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; die "unknown option: $1" ;;
  esac
done
if [ -n "$DESTDIR" ]; then
  [ -d "$DESTDIR" ] || die "DESTDIR $DESTDIR does not exist"
  DESTDIR=$(cd "$DESTDIR" && pwd)
fi
D=$DESTDIR

resolve_user_handling "$no_user"
resolve_service_tools "$no_systemctl"

remove() {
  local path
  for path in "$@"; do
    if [ -e "$D$path" ] || [ -L "$D$path" ]; then
      rm -rf "$D$path"
      log "removed $path"
    fi
  done
}

if [ -n "$SYSTEMCTL" ]; then
  # The unit may already be gone; stopping waits for a receipt in progress (TimeoutStopSec).
  run_systemctl disable --now "$SERVICE_NAME.service" || true
fi

remove "$UNIT_PATH" "$RULE_PATH" "$COMMAND_PATH" "$APP_DIR"

if [ -n "$SYSTEMCTL" ]; then
  run_systemctl daemon-reload
  run_systemctl reset-failed "$SERVICE_NAME.service" 2>/dev/null || true
  run_udevadm control --reload-rules || true
fi

if [ "$purge" = 1 ]; then
  remove "$CONFIG_DIR" "$STATE_DIR" "$LOG_DIR"
  if [ "$MANAGE_USER" = 1 ] && getent passwd "$SERVICE_USER" >/dev/null; then
    userdel "$SERVICE_USER"
    log "removed system user $SERVICE_USER"
  fi
else
  log "kept $CONFIG_DIR, $STATE_DIR and $LOG_DIR (use --purge to remove them)"
fi
log "done"
