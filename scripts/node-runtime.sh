# The pinned Node.js runtime (packaging/node-runtime.json), fetched from the npm registry and checked
# against its pinned integrity. Sourced by package.sh and test-shipped-node.sh after common.sh.

KKT_CACHE_DIR=${KKT_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/kkt-agent}

# runtime_pin REPO ARCH: prints "name version integrity" for ARCH (arm64, x64).
runtime_pin() {
  node -e '
    const pin = require(process.argv[1]);
    const entry = pin.packages[process.argv[2]];
    if (!entry) { console.error(`no pinned Node.js runtime for ${process.argv[2]}`); process.exit(1); }
    console.log(entry.name, pin.version, entry.integrity);
  ' "$1/packaging/node-runtime.json" "$2"
}

# sha512 integrity (npm's "sha512-<base64>") of a file.
file_integrity() {
  node -e '
    const { createHash } = require("node:crypto");
    const { readFileSync } = require("node:fs");
    console.log("sha512-" + createHash("sha512").update(readFileSync(process.argv[1])).digest("base64"));
  ' "$1"
}

# fetch_node_runtime REPO ARCH: sets NODE_RUNTIME_DIR (bin/node, include/node, LICENSE) and
# NODE_RUNTIME_VERSION. The verified tree is cached in $KKT_CACHE_DIR/node; a cached tree whose recorded
# integrity differs from the pin is fetched again.
fetch_node_runtime() {
  local repo=$1 arch=$2 name version integrity dir tmp tgz actual
  read -r name version integrity < <(runtime_pin "$repo" "$arch") || die "cannot read the runtime pin"
  [ -n "$integrity" ] || die "packaging/node-runtime.json has no integrity for $arch"
  dir=$KKT_CACHE_DIR/node/$name-$version
  NODE_RUNTIME_VERSION=$version
  NODE_RUNTIME_DIR=$dir
  if [ -x "$dir/bin/node" ] && [ "$(cat "$dir/.integrity" 2>/dev/null)" = "$integrity" ]; then
    return 0
  fi
  log "fetching $name@$version from the npm registry"
  tmp=$(mktemp -d)
  (cd "$tmp" && npm pack "$name@$version" --silent --no-audit --no-fund >/dev/null) ||
    die "npm pack $name@$version failed"
  tgz=$tmp/$name-$version.tgz
  [ -f "$tgz" ] || die "npm pack did not produce $tgz"
  actual=$(file_integrity "$tgz")
  if [ "$actual" != "$integrity" ]; then
    rm -rf "$tmp"
    die "$name@$version does not match its pin in packaging/node-runtime.json (got $actual)"
  fi
  rm -rf "$dir.partial"
  mkdir -p "$dir.partial"
  tar -xzf "$tgz" -C "$dir.partial" --strip-components=1
  printf '%s\n' "$integrity" >"$dir.partial/.integrity"
  rm -rf "$dir"
  mv "$dir.partial" "$dir"
  rm -rf "$tmp"
}
