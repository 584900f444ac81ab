#!/usr/bin/env bash
# Installs kkt-agent as a systemd service: app in /opt/kkt-agent, config in /etc/kkt-agent, state in
# /var/lib/kkt-agent, logs in /var/log/kkt-agent, the udev rule, the unit and the kkt-agent command in
# /usr/local/bin. Safe to run again: what is already in place is left untouched, an existing config.json
# is always kept. Installs either a built checkout (source install, the system's Node) or the release
# tarball's tree (its own Node and native modules; nothing is downloaded or compiled).
set -euo pipefail

usage() {
  cat <<'EOF'
Usage: sudo scripts/install.sh [options]

From a checkout, build first (on the Pi or a machine of the same architecture and Node):
  npm_config_nodedir=/usr npm ci && npm run build
From the release tarball: run the tree's own scripts/install.sh, nothing to build.

Options:
  --destdir DIR    install below DIR instead of / (also: DESTDIR=DIR); implies --no-user and, unless
                   SYSTEMCTL is set explicitly, no systemctl/udevadm calls
  --source DIR     the built checkout to install (default: the repository holding this script)
  --no-systemctl   do not reload udev/systemd nor enable and start the service
  --no-user        do not create the kkt-agent system user and do not chown to it
  --reinstall-deps copy node_modules again even when package files and Node did not change
  -h, --help       this text

Environment: NODE (node binary; default: node on PATH), NPM (default: the npm beside that node),
NODE_GYP (node-gyp.js; default: npm's own), SYSTEMCTL, UDEVADM (commands; empty disables them), UNAME.
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

# armv6 (Pi Zero W, Pi 1): no Node.js 20+ is built for it by the Node.js project, npm or Debian, and the
# usb module's only 32-bit ARM binary needs ARMv7 (on armv6 it dies with SIGILL).
check_cpu() {
  local machine
  machine=$(${UNAME:-uname} -m)
  case $machine in
    armv6* | armv5*)
      die "this is an $machine CPU (Raspberry Pi Zero W or Pi 1): kkt-agent does not support it. Node.js 20 or
newer is not built for ARMv6 by the Node.js project, npm or Debian, and the usb module's ARM binary needs
ARMv7. Use a Pi Zero 2 W, 3, 4 or 5 with 64-bit Raspberry Pi OS and the arm64 package."
      ;;
  esac
}

# A release tree (the tarball) carries its own Node and production node_modules built for one architecture.
RELEASE=0
detect_release() {
  [ -x "$SOURCE/node/bin/node" ] && [ -f "$SOURCE/release.json" ] || return 0
  RELEASE=1
  local arch machine
  arch=$(sed -n 's/^ *"arch": *"\([^"]*\)".*/\1/p' "$SOURCE/release.json")
  machine=$(${UNAME:-uname} -m)
  case "$arch:$machine" in
    arm64:aarch64 | amd64:x86_64) ;;
    *) die "this release is built for $arch, this machine is $machine" ;;
  esac
}

# systemd's ProtectHome=yes hides these from the service: a node there fails with status 203/EXEC.
hidden_from_service() {
  case $1 in /home/* | /root/* | /run/user/*) return 0 ;; esac
  return 1
}

check_node() {
  local node=${NODE:-node} version major real
  if [ "$RELEASE" = 1 ]; then node=$SOURCE/node/bin/node; fi
  if ! NODE_BIN=$(command -v "$node"); then
    die "Node.js 20 or newer is required and '$node' was not found. Debian 12 ships Node 18, which is too
old. Either install the release package (it brings its own Node; docs/operations.md), or install Node 24
(or 22) system-wide, e.g. from NodeSource's apt repository (node_24.x), then run this script again."
  fi
  real=$(readlink -f "$NODE_BIN")
  if [ "$RELEASE" = 0 ] && { hidden_from_service "$NODE_BIN" || hidden_from_service "$real"; }; then
    die "$NODE_BIN is under /home or /root (nvm?). The service runs with ProtectHome=yes, which hides those
directories, so systemd could not start it (status 203/EXEC). Install Node.js system-wide (/usr/bin/node or
/usr/local/bin/node, e.g. NodeSource's node_24.x), or pass NODE=/path/to/that/node."
  fi
  version=$("$NODE_BIN" -p 'process.versions.node')
  major=${version%%.*}
  if [ "$major" -lt 20 ]; then
    die "Node.js 20 or newer is required, $NODE_BIN is v$version. Install Node 24 (or 22), for example from
NodeSource's apt repository (node_24.x), and run this script again."
  fi
  NODE_ABI=$("$NODE_BIN" -p 'process.platform + "-" + process.arch + "-abi" + process.versions.modules')
  log "using node v$version at $NODE_BIN"
  if [ "$RELEASE" = 1 ]; then
    # The unit and the command run the copy installed with the app.
    NODE_BIN=$APP_DIR/node/bin/node
    return
  fi
  # npm (and node-gyp) from the same installation as this node, run with it first on PATH.
  NODE_PATH_DIR=$(dirname "$NODE_BIN")
  NPM=${NPM:-$NODE_PATH_DIR/npm}
  [ -x "$NPM" ] || command -v "$NPM" >/dev/null 2>&1 ||
    die "npm was not found beside $NODE_BIN ($NPM); install the npm that comes with this Node.js"
}

check_source() {
  local missing=()
  local path
  for path in package.json package-lock.json bin/kkt-agent.js dist systemd/kkt-agent.service \
    systemd/99-atol-kkt.rules config.example.json node_modules; do
    [ -e "$SOURCE/$path" ] || missing+=("$path")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    die "$SOURCE is not a built checkout (missing: ${missing[*]}). Run 'npm ci && npm run build' there first."
  fi
}

# Rebuilding a native module (only when the checkout's does not load on this node) compiles it.
check_build_tools() {
  local tool missing=()
  for tool in make g++ python3; do
    command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    die "rebuilding a native module needs: ${missing[*]}. Install them with
'apt-get install -y build-essential python3' and run this script again."
  fi
}

# node-gyp compiles against the headers installed with this node, never downloaded ones.
local_node_headers() {
  local prefix
  prefix=$(dirname "$(dirname "$(readlink -f "$NODE_BIN")")")
  [ -f "$prefix/include/node/node_api.h" ] ||
    die "no Node.js headers beside $NODE_BIN (expected $prefix/include/node): node-gyp would download them.
Install the Node.js package that ships them (NodeSource's nodejs does) and run this script again."
  printf '%s\n' "$prefix"
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

# Native modules (.node files outside prebuilds/, which hold other platforms' binaries) that this node
# cannot load: built for another Node ABI or another CPU. Prints their package directories.
unloadable_natives() {
  local modules=$1 file dir
  while IFS= read -r file; do
    "$NODE_BIN" -e 'require(process.argv[1])' "$file" >/dev/null 2>&1 && continue
    dir=$(dirname "$file")
    while [ "$dir" != "$modules" ] && [ ! -f "$dir/binding.gyp" ]; do dir=$(dirname "$dir"); done
    [ "$dir" = "$modules" ] && die "${file#"$modules/"} does not load on this node and has no binding.gyp to rebuild it"
    printf '%s\n' "$dir"
  done < <(find "$modules" -name '*.node' -type f -not -path '*/prebuilds/*') | LC_ALL=C sort -u
}

# Compiles the given packages with node-gyp against this node's own headers (npm_config_nodedir), so
# nothing is downloaded; it happens only when the checkout's binaries do not fit this node.
rebuild_natives() {
  local nodedir node_gyp pkg
  check_build_tools
  nodedir=$(local_node_headers)
  node_gyp=${NODE_GYP:-$(dirname "$(readlink -f "$(command -v "$NPM")")")/../node_modules/node-gyp/bin/node-gyp.js}
  [ -f "$node_gyp" ] || die "node-gyp was not found at $node_gyp (it comes with npm)"
  for pkg in "$@"; do
    log "rebuilding ${pkg##*/node_modules/} for node $NODE_ABI (headers from $nodedir/include/node)"
    (cd "$pkg" && PATH="$NODE_PATH_DIR:$PATH" npm_config_nodedir=$nodedir \
      "$NODE_BIN" "$node_gyp" rebuild --release --nodedir="$nodedir") || die "rebuilding ${pkg##*/} failed"
  done
}

# Production dependencies are the checkout's own node_modules, already installed and compiled by the
# user's "npm ci": copied, then pruned of development packages (nothing is downloaded or compiled again).
# A native module that does not load on this node (another Node major since) is rebuilt. A release
# tree's node_modules is copied as it is. Redone only when the package files or the node ABI changed.
install_node_modules() {
  local app=$1 stamp staged="$1/node_modules.staging" current broken
  stamp="$(cat "$SOURCE/package.json" "$SOURCE/package-lock.json" | sha256sum | cut -d' ' -f1) $NODE_ABI"
  current=$(cat "$app/node_modules/.kkt-agent-install-stamp" 2>/dev/null || true)
  if [ "$reinstall_deps" = 0 ] && [ "$current" = "$stamp" ]; then
    return
  fi
  rm -rf "$staged"
  mkdir -p "$staged"
  cp "$SOURCE/package.json" "$SOURCE/package-lock.json" "$staged/"
  cp -a "$SOURCE/node_modules" "$staged/node_modules"
  if [ "$RELEASE" = 0 ]; then
    log "removing development dependencies ($NPM prune --omit=dev, offline)"
    (cd "$staged" && PATH="$NODE_PATH_DIR:$PATH" $NPM prune --omit=dev --ignore-scripts --offline --no-audit --no-fund)
    mapfile -t broken < <(unloadable_natives "$staged/node_modules")
    [ ${#broken[@]} -eq 0 ] || rebuild_natives "${broken[@]}"
  fi
  mapfile -t broken < <(unloadable_natives "$staged/node_modules")
  [ ${#broken[@]} -eq 0 ] || die "native modules do not load on this node: ${broken[*]}"
  printf '%s\n' "$stamp" >"$staged/node_modules/.kkt-agent-install-stamp"
  chmod -R u+rwX,go+rX,go-w "$staged/node_modules"
  if is_root; then chown -R -h root:root "$staged/node_modules"; fi
  swap_dir "$staged/node_modules" "$app/node_modules"
  rm -rf "$staged"
  log "installed $APP_DIR/node_modules/"
  CHANGED=1
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
  if [ "$RELEASE" = 1 ]; then
    install_tree "$SOURCE/node" "$app/node"
    install_file "$SOURCE/release.json" "$app/release.json" 0644 || true
  fi
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
  render_unit "$SOURCE/systemd/kkt-agent.service" "$NODE_BIN" "$rendered"
  if install_file "$rendered" "$D$UNIT_PATH" 0644; then UNIT_CHANGED=1; fi
  ensure_dir "$D$(dirname "$COMMAND_PATH")" 0755
  write_wrapper "$NODE_BIN" "$APP_DIR" "$rendered"
  install_file "$rendered" "$D$COMMAND_PATH" 0755 || true
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

check_cpu
detect_release
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
