#!/usr/bin/env bash
# Installs kkt-agent as a systemd service: app in /opt/kkt-agent, config in /etc/kkt-agent, state in
# /var/lib/kkt-agent, logs in /var/log/kkt-agent, the udev rule and the unit. Safe to run again: what is
# already in place is left untouched, an existing config.json is always kept.
set -euo pipefail

usage() {
  cat <<'EOF'
Usage: sudo scripts/install.sh [options]

Build first (on the Pi or on a machine of the same architecture):  npm ci && npm run build

Options:
  --destdir DIR    install below DIR instead of / (also: DESTDIR=DIR); implies --no-user and, unless
                   SYSTEMCTL is set explicitly, no systemctl/udevadm calls
  --source DIR     the built checkout to install (default: the repository holding this script)
  --no-systemctl   do not reload udev/systemd nor enable and start the service
  --no-user        do not create the kkt-agent system user and do not chown to it
  --reinstall-deps run "npm ci --omit=dev" even when package files did not change
  -h, --help       this text

Environment: NODE (node binary), NPM (npm command), SYSTEMCTL, UDEVADM (commands; empty disables them).
EOF
}

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=common.sh
. "$SCRIPT_DIR/common.sh"

SOURCE=$(cd "$SCRIPT_DIR/.." && pwd)
DESTDIR=${DESTDIR:-}
no_systemctl=0
no_user=0
reinstall_deps=0
while [ $# -gt 0 ]; do
  case $1 in
    --destdir) DESTDIR=${2:?--destdir needs a directory}; shift 2 ;;
    --destdir=*) DESTDIR=${1#*=}; shift ;;
    --source) SOURCE=${2:?--source needs a directory}; shift 2 ;;
    --source=*) SOURCE=${1#*=}; shift ;;
    --no-systemctl) no_systemctl=1; shift ;;
    --no-user) no_user=1; shift ;;
    --reinstall-deps) reinstall_deps=1; shift ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; die "unknown option: $1" ;;
  esac
done
if [ -n "$DESTDIR" ]; then
  mkdir -p "$DESTDIR"
  DESTDIR=$(cd "$DESTDIR" && pwd)
fi
SOURCE=$(cd "$SOURCE" && pwd)
D=$DESTDIR
NPM=${NPM:-npm}

resolve_user_handling "$no_user"
resolve_service_tools "$no_systemctl"

# --- prerequisites -------------------------------------------------------------------------------

check_node() {
  local node=${NODE:-node} version major
  if ! NODE_BIN=$(command -v "$node"); then
    die "Node.js 20 or newer is required and '$node' was not found. Debian 12 ships Node 18, which is too
old: install Node 20+ from NodeSource's apt repository (node_20.x) or another Node.js 20+ build, so that
/usr/bin/node reports v20 or newer, then run this script again."
  fi
  version=$("$NODE_BIN" -p 'process.versions.node')
  major=${version%%.*}
  if [ "$major" -lt 20 ]; then
    die "Node.js 20 or newer is required, $NODE_BIN is v$version. Install Node 20+ (for example from
NodeSource's apt repository, node_20.x) and run this script again."
  fi
  NODE_ABI=$("$NODE_BIN" -p 'process.platform + "-" + process.arch + "-abi" + process.versions.modules')
  log "using node v$version at $NODE_BIN"
}

check_source() {
  local missing=()
  local path
  for path in package.json package-lock.json bin/kkt-agent.js dist systemd/kkt-agent.service \
    systemd/99-atol-kkt.rules config.example.json; do
    [ -e "$SOURCE/$path" ] || missing+=("$path")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    die "$SOURCE is not a built checkout (missing: ${missing[*]}). Run 'npm ci && npm run build' there first."
  fi
}

# The native addon for sd_notify (unix-dgram) is compiled by npm ci on the target.
check_build_tools() {
  local tool missing=()
  for tool in make g++ python3; do
    command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    die "npm ci compiles a native addon and needs: ${missing[*]}. Install them with
'apt-get install -y build-essential python3' and run this script again."
  fi
}

# --- idempotent file operations ------------------------------------------------------------------

CHANGED=0
UNIT_CHANGED=0
RULE_CHANGED=0

mode_of() { stat -c '%a' "$1"; }

# ensure_dir PATH MODE [OWNER:GROUP]
ensure_dir() {
  local path=$1 mode=$2 owner=${3:-}
  if [ ! -d "$path" ]; then
    install -d -m "$mode" "$path"
    log "created ${path#"$D"}"
    CHANGED=1
  elif [ "$(mode_of "$path")" != "${mode#0}" ]; then
    chmod "$mode" "$path"
    log "set mode $mode on ${path#"$D"}"
    CHANGED=1
  fi
  if [ -n "$owner" ] && [ "$MANAGE_USER" = 1 ] && [ "$(stat -c '%U:%G' "$path")" != "$owner" ]; then
    chown "$owner" "$path"
    CHANGED=1
  fi
}

# install_file SRC DST MODE [OWNER:GROUP]; returns 0 when DST changed, 1 when it was already in place.
install_file() {
  local src=$1 dst=$2 mode=$3 owner=${4:-root:root}
  if [ -f "$dst" ] && cmp -s "$src" "$dst" && [ "$(mode_of "$dst")" = "${mode#0}" ]; then
    return 1
  fi
  install -m "$mode" "$src" "$dst.tmp.$$"
  if is_root && { [ "$MANAGE_USER" = 1 ] || [ "$owner" = root:root ]; }; then
    chown "$owner" "$dst.tmp.$$"
  fi
  mv -f "$dst.tmp.$$" "$dst"
  log "installed ${dst#"$D"}"
  CHANGED=1
  return 0
}

# Same content, file types, modes and symlink targets.
same_tree() {
  [ -d "$1" ] && [ -d "$2" ] || return 1
  diff -r --no-dereference -q "$1" "$2" >/dev/null 2>&1 || return 1
  [ "$(cd "$1" && find . -printf '%y %m %p %l\n' | LC_ALL=C sort)" = \
    "$(cd "$2" && find . -printf '%y %m %p %l\n' | LC_ALL=C sort)" ]
}

# Swap a staged directory into place, keeping the old one until the new one is there.
swap_dir() {
  local staged=$1 target=$2
  rm -rf "$target.old"
  if [ -e "$target" ]; then mv "$target" "$target.old"; fi
  mv "$staged" "$target"
  rm -rf "$target.old"
}

# install_tree SRC_DIR DST_DIR: files 0644 and dirs 0755 (executables keep 0755), owned by root; the
# files directly in a bin/ directory are made executable. The copy is compared in a scratch directory and
# only moved next to DST (same filesystem, for the swap) when it differs, so an unchanged tree is untouched.
install_tree() {
  local src=$1 dst=$2 scratch staged="$2.staging"
  scratch=$(mktemp -d)
  cp -R "$src" "$scratch/tree"
  chmod -R u=rwX,go=rX "$scratch/tree"
  if [ "$(basename "$dst")" = bin ]; then
    find "$scratch/tree" -maxdepth 1 -type f -exec chmod 0755 {} +
  fi
  if is_root; then chown -R -h root:root "$scratch/tree"; fi
  if same_tree "$scratch/tree" "$dst"; then
    rm -rf "$scratch"
    return
  fi
  rm -rf "$staged"
  cp -a "$scratch/tree" "$staged"
  rm -rf "$scratch"
  swap_dir "$staged" "$dst"
  log "installed ${dst#"$D"}/"
  CHANGED=1
}

# Production dependencies come from "npm ci --omit=dev" against the lockfile; they are rebuilt only when
# the package files or the node ABI changed, so a second run neither downloads nor restarts anything.
install_node_modules() {
  local app=$1 stamp staged="$1/node_modules.staging" current
  stamp="$(cat "$SOURCE/package.json" "$SOURCE/package-lock.json" | sha256sum | cut -d' ' -f1) $NODE_ABI"
  current=$(cat "$app/node_modules/.kkt-agent-install-stamp" 2>/dev/null || true)
  if [ "$reinstall_deps" = 0 ] && [ "$current" = "$stamp" ]; then
    return
  fi
  [ "$NPM" != npm ] || check_build_tools
  rm -rf "$staged"
  mkdir -p "$staged"
  cp "$SOURCE/package.json" "$SOURCE/package-lock.json" "$staged/"
  log "running $NPM ci --omit=dev (production dependencies)"
  (cd "$staged" && $NPM ci --omit=dev --no-audit --no-fund)
  [ -d "$staged/node_modules" ] || die "$NPM ci did not produce node_modules"
  printf '%s\n' "$stamp" >"$staged/node_modules/.kkt-agent-install-stamp"
  chmod -R u+rwX,go+rX,go-w "$staged/node_modules"
  if is_root; then chown -R -h root:root "$staged/node_modules"; fi
  swap_dir "$staged/node_modules" "$app/node_modules"
  rm -rf "$staged"
  log "installed $APP_DIR/node_modules/"
  CHANGED=1
}

# The unit names /usr/bin/node; a node installed elsewhere (e.g. /usr/local/bin) is written in instead.
render_unit() {
  local out=$1
  sed "s#^ExecStart=/usr/bin/node #ExecStart=$NODE_BIN #" "$SOURCE/systemd/kkt-agent.service" >"$out"
}

# --- steps -------------------------------------------------------------------------------------------

ensure_user() {
  [ "$MANAGE_USER" = 1 ] || return 0
  if ! getent group "$SERIAL_GROUP" >/dev/null; then
    groupadd --system "$SERIAL_GROUP"
  fi
  if getent passwd "$SERVICE_USER" >/dev/null; then
    return 0
  fi
  local group_option=(--user-group)
  if getent group "$SERVICE_GROUP" >/dev/null; then group_option=(--gid "$SERVICE_GROUP"); fi
  useradd --system "${group_option[@]}" --home-dir "$STATE_DIR" --no-create-home \
    --shell /usr/sbin/nologin --comment "kkt-agent fiscal register agent" "$SERVICE_USER"
  log "created system user $SERVICE_USER"
  CHANGED=1
}

install_app() {
  local app=$D$APP_DIR part
  ensure_dir "$app" 0755 root:root
  for part in bin dist; do
    install_tree "$SOURCE/$part" "$app/$part"
  done
  if [ -f "$SOURCE/docs/operations.md" ]; then
    mkdir -p "$app/docs"
    chmod 0755 "$app/docs"
    install_file "$SOURCE/docs/operations.md" "$app/docs/operations.md" 0644 || true
  fi
  for part in package.json package-lock.json config.example.json; do
    install_file "$SOURCE/$part" "$app/$part" 0644 || true
  done
  install_node_modules "$app"
}

install_dirs() {
  ensure_dir "$D$CONFIG_DIR" 0750 "root:$SERVICE_GROUP"
  ensure_dir "$D$STATE_DIR" 0750 "$SERVICE_USER:$SERVICE_GROUP"
  ensure_dir "$D$LOG_DIR" 0750 "$SERVICE_USER:$SERVICE_GROUP"
}

# config.json holds tokens: root writes it, the service group reads it. An existing one is never touched.
install_config() {
  local config=$D$CONFIG_DIR/config.json
  if [ -e "$config" ]; then
    log "kept existing $CONFIG_DIR/config.json"
    return
  fi
  install_file "$SOURCE/config.example.json" "$config" 0640 "root:$SERVICE_GROUP" || true
  log "edit $CONFIG_DIR/config.json, then: systemctl restart $SERVICE_NAME"
}

install_system_files() {
  local rendered
  ensure_dir "$D/etc/systemd/system" 0755
  ensure_dir "$D/etc/udev/rules.d" 0755
  rendered=$(mktemp)
  render_unit "$rendered"
  if install_file "$rendered" "$D$UNIT_PATH" 0644; then UNIT_CHANGED=1; fi
  rm -f "$rendered"
  if install_file "$SOURCE/systemd/99-atol-kkt.rules" "$D$RULE_PATH" 0644; then RULE_CHANGED=1; fi
}

activate() {
  if [ -z "$SYSTEMCTL" ]; then
    log "service not started (no systemctl). On the target run:"
    log "  udevadm control --reload-rules && udevadm trigger --subsystem-match=tty --subsystem-match=usb"
    log "  systemctl daemon-reload && systemctl enable --now $SERVICE_NAME"
    return
  fi
  if [ "$RULE_CHANGED" = 1 ]; then
    run_udevadm control --reload-rules
    run_udevadm trigger --action=change --subsystem-match=tty --subsystem-match=usb
  fi
  if [ "$UNIT_CHANGED" = 1 ]; then
    run_systemctl daemon-reload
  fi
  run_systemctl enable "$SERVICE_NAME.service"
  # Restart only when something changed, so re-running the installer does not interrupt a receipt.
  if [ "$CHANGED" = 1 ]; then
    run_systemctl restart "$SERVICE_NAME.service"
  else
    run_systemctl start "$SERVICE_NAME.service"
  fi
}

check_node
check_source
ensure_user
install_dirs
install_app
install_config
install_system_files
activate
if [ "$CHANGED" = 1 ]; then
  log "done"
else
  log "done: everything was already in place"
fi
