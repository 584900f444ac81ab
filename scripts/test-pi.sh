#!/usr/bin/env bash
# npm run test:pi: builds the arm64 release package, makes (or reuses) an arm64 Debian 12 root with
# mmdebstrap, and runs test/pi/ against it under qemu-user: dpkg install, config validate, a daemon run
# that reports READY and prints bills from the ATOL emulator, status, SIGTERM, remove and purge.
# Needs root, binfmt_misc with qemu-aarch64 registered (qemu-user-static, binfmt-support), mmdebstrap,
# and the packaging tools (scripts/package.sh). Anything missing fails the run; nothing is skipped.
set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$SCRIPT_DIR/.." && pwd)
# shellcheck source=common.sh
. "$SCRIPT_DIR/common.sh"
KKT_CACHE_DIR=${KKT_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/kkt-agent}
SUITE=bookworm
OUT=$REPO/out
started=$(date +%s)

preflight() {
  local tool missing=()
  is_root || die "test:pi needs root: it builds a root file system, chroots into it and mounts /proc there"
  for tool in mmdebstrap unshare chroot dpkg-deb tar; do
    command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
  done
  [ ${#missing[@]} -eq 0 ] ||
    die "missing: ${missing[*]}. Install with: apt-get install -y mmdebstrap qemu-user-static binfmt-support dpkg-dev"
  if [ ! -e /proc/sys/fs/binfmt_misc/status ]; then
    mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc ||
      die "binfmt_misc is not mounted and cannot be (mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc)"
  fi
  if [ ! -e /proc/sys/fs/binfmt_misc/qemu-aarch64 ] && command -v update-binfmts >/dev/null 2>&1; then
    update-binfmts --enable qemu-aarch64 >/dev/null 2>&1 || true
  fi
  local entry=/proc/sys/fs/binfmt_misc/qemu-aarch64
  [ -e "$entry" ] || die "qemu-aarch64 is not registered with binfmt_misc: apt-get install -y qemu-user-static binfmt-support"
  grep -qx enabled "$entry" || die "the qemu-aarch64 binfmt entry is disabled (update-binfmts --enable qemu-aarch64)"
  # F: the kernel opens the interpreter at registration, so it works inside a chroot without a copy of qemu.
  grep -q '^flags:.*F' "$entry" || die "the qemu-aarch64 binfmt entry lacks the F flag (qemu-user-static sets it)"
}

# The root holds what the package depends on, so dpkg -i needs no network; its cache key is the list.
build_root() {
  local deb=$1 depends key tar
  depends=$(dpkg-deb -f "$deb" Depends | tr ',' '\n' | sed -E 's/\(.*\)//; s/\|.*//; s/[[:space:]]//g' |
    grep -v '^$' | LC_ALL=C sort -u | paste -sd, -)
  key=$(printf '%s %s %s essential merged-usr\n' "$SUITE" arm64 "$depends" | sha256sum | cut -c1-16)
  tar=$KKT_CACHE_DIR/pi/$SUITE-arm64-$key.tar
  if [ ! -s "$tar" ]; then
    mkdir -p "$KKT_CACHE_DIR/pi"
    log "building the arm64 $SUITE root with mmdebstrap (cached as $tar): $depends"
    local t0
    t0=$(date +%s)
    # merged /usr by the hook instead of the usrmerge package (which pulls in perl); unsafe I/O is fine for
    # a root that is only ever unpacked from this tarball.
    if ! mmdebstrap --quiet --arch=arm64 --variant=essential --include="$depends" --dpkgopt=force-unsafe-io \
      --hook-dir=/usr/share/mmdebstrap/hooks/merged-usr "$SUITE" "${tar%.tar}.partial.tar" >"$tar.log" 2>&1; then
      tail -n 40 "$tar.log" >&2
      die "mmdebstrap failed (log: $tar.log)"
    fi
    mv "${tar%.tar}.partial.tar" "$tar"
    FIGURE_ROOT_SECONDS=$(($(date +%s) - t0))
  else
    log "reusing the arm64 $SUITE root $tar"
    FIGURE_ROOT_SECONDS=0
  fi
  ROOT_TAR=$tar
}

preflight
t0=$(date +%s)
bash "$SCRIPT_DIR/package.sh" --arch arm64 --out "$OUT" --no-tarball --fast
package_seconds=$(($(date +%s) - t0))
version=$(node -p 'require(process.argv[1]).version' "$REPO/package.json")
DEB=$OUT/kkt-agent_${version}_arm64.deb
build_root "$DEB"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/kkt-pi.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
ROOT=$WORK/root
mkdir "$ROOT"
tar -xf "$ROOT_TAR" -C "$ROOT"
# One arm64 program first, so a broken binfmt set-up says so plainly instead of failing inside the suite.
chroot "$ROOT" /usr/bin/true || die "an arm64 program does not run under qemu in a chroot (binfmt/qemu set-up)"

figures=$OUT/test-pi.json
cd "$REPO"
KKT_PI_DEB=$DEB KKT_PI_ROOT=$ROOT KKT_PI_FIGURES=$figures \
  npx vitest run --config test/pi/vitest.config.ts
node -e '
  const fs = require("node:fs");
  const [file, deb, packageSeconds, rootSeconds, totalSeconds] = process.argv.slice(1);
  const figures = { ...JSON.parse(fs.readFileSync(file, "utf8")), debBytes: fs.statSync(deb).size,
    packageSeconds: Number(packageSeconds), rootSeconds: Number(rootSeconds), totalSeconds: Number(totalSeconds) };
  fs.writeFileSync(file, JSON.stringify(figures, null, 2) + "\n");
  console.log("test:pi figures: " + JSON.stringify(figures));
' "$figures" "$DEB" "$package_seconds" "$FIGURE_ROOT_SECONDS" "$(($(date +%s) - started))"
