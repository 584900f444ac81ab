#!/usr/bin/env bash
# npm run test:shipped-node: the whole suite on the Node.js the release package ships
# (packaging/node-runtime.json), as the npm registry's x64 build of the same version. The checkout is
# copied to a scratch directory without node_modules and dist, so the checkout's own modules (built for the
# system's node) stay as they are; npm ci there compiles the native modules against that Node's own headers.
# Arguments go to `npm test` (e.g. a test path).
set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$SCRIPT_DIR/.." && pwd)
# shellcheck source=common.sh
. "$SCRIPT_DIR/common.sh"
# shellcheck source=node-runtime.sh
. "$SCRIPT_DIR/node-runtime.sh"

fetch_node_runtime "$REPO" x64
WORK=$(mktemp -d "${TMPDIR:-/tmp}/kkt-shipped-node.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
tar -C "$REPO" --exclude=./.node-runtime --exclude=./node_modules --exclude=./dist --exclude=./out --exclude=./coverage --exclude=./.git \
  -cf - . | tar -C "$WORK" -xf -

# A copy outside $HOME: the installer tests (rightly) refuse a node under /root or /home.
cp -a "$NODE_RUNTIME_DIR" "$WORK/.node-runtime"
NODE_RUNTIME_DIR=$WORK/.node-runtime
export PATH="$NODE_RUNTIME_DIR/bin:$PATH" npm_config_nodedir=$NODE_RUNTIME_DIR
[ "$(node -p process.versions.node)" = "$NODE_RUNTIME_VERSION" ] ||
  die "node on PATH is $(node --version), not the shipped $NODE_RUNTIME_VERSION"
log "running the suite on node $(node --version) ($NODE_RUNTIME_DIR)"
cd "$WORK"
npm ci --no-audit --no-fund --loglevel=error
npm test -- "$@"
