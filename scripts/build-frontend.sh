#!/usr/bin/env bash
# Build the UI plugin's front end: plugins/nbreports_ui/frontend (TypeScript) → plugins/nbreports_ui/static/
# (app.js, app.js.map, style.css; gitignored, served by pages.py, which reads static/ at import time,
# so this runs before the servers start: `make install` calls it).
#
#   scripts/build-frontend.sh            install deps (npm ci), lint, typecheck, unit tests, build;
#                                        does nothing when sources, lockfile and Node are as last built
#   scripts/build-frontend.sh --check    install deps, lint, typecheck, unit tests (CI); builds nothing
#   scripts/build-frontend.sh --force    build even when the stamp matches
#
# Needs Node.js >= 20.19 and npm: installs Debian's nodejs/npm when npm is missing, and when the Node
# found is older (bookworm ships 18), a Node 20 binary from the npm registry's node-linux-<arch>
# package into frontend/.node/. Only the npm registry is used (npm ci from package-lock.json).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
FRONTEND="$ROOT/plugins/nbreports_ui/frontend"
STATIC="$ROOT/plugins/nbreports_ui/static"
OUTPUTS=("$STATIC/app.js" "$STATIC/style.css")
NODE_FALLBACK=20.20.2     # used only when the system's Node is older than NODE_MIN
NODE_MIN=20.19.0

mode=build force=0
for arg in "$@"; do
  case "$arg" in
    --check) mode=check ;;
    --force) force=1 ;;
    -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
    *) echo "build-frontend: unknown argument $arg (try --help)" >&2; exit 2 ;;
  esac
done

say() { echo "build-frontend: $*"; }

version_ge() {  # version_ge A B: A >= B (dotted numbers)
  [ "$(printf '%s\n%s\n' "$2" "$1" | sort -V | head -n1)" = "$2" ]
}

ensure_node() {
  if ! command -v npm >/dev/null 2>&1; then
    say "npm is missing: installing Debian's nodejs and npm"
    local sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq nodejs npm
  fi
  local have; have="$(node --version 2>/dev/null | sed 's/^v//')" || have=0
  if ! version_ge "$have" "$NODE_MIN"; then
    local arch; case "$(uname -m)" in x86_64) arch=x64 ;; aarch64|arm64) arch=arm64 ;; *) arch="" ;; esac
    if [ -z "$arch" ]; then echo "build-frontend: Node $have is older than $NODE_MIN and $(uname -m) has no fallback" >&2; exit 1; fi
    local dir="$FRONTEND/.node"
    if [ ! -x "$dir/node_modules/node-linux-$arch/bin/node" ]; then
      say "Node $have is older than $NODE_MIN: installing node-linux-$arch@$NODE_FALLBACK from the npm registry"
      mkdir -p "$dir"
      npm install --prefix "$dir" --no-audit --no-fund --no-save --loglevel=error "node-linux-$arch@$NODE_FALLBACK"
    fi
    export PATH="$dir/node_modules/node-linux-$arch/bin:$PATH"
  fi
}

hash_of() {  # a digest of what the build depends on
  (cd "$FRONTEND" && {
    node --version
    cat package.json package-lock.json tsconfig.json vite.config.ts eslint.config.js
    find src test -type f | LC_ALL=C sort | while read -r f; do echo "== $f"; cat "$f"; done
  }) | sha256sum | cut -d' ' -f1
}

ensure_node
cd "$FRONTEND"

stamp="$FRONTEND/node_modules/.nbreports-build-stamp"
if [ "$mode" = build ] && [ "$force" = 0 ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$(hash_of)" ]; then
  missing=0; for f in "${OUTPUTS[@]}"; do [ -f "$f" ] || missing=1; done
  if [ "$missing" = 0 ]; then say "up to date"; exit 0; fi
fi

lock_hash="$( (node --version; cat package-lock.json) | sha256sum | cut -d' ' -f1)"
if [ ! -f node_modules/.nbreports-lock ] || [ "$(cat node_modules/.nbreports-lock)" != "$lock_hash" ]; then
  say "npm ci"
  npm ci --no-audit --no-fund --loglevel=error
  echo "$lock_hash" > node_modules/.nbreports-lock
fi

say "lint";      npm run --silent lint
say "typecheck"; npm run --silent typecheck
say "unit tests"; npm test --silent -- --reporter=dot
[ "$mode" = check ] && { say "checks passed"; exit 0; }

say "build → ${STATIC#"$ROOT"/}"
npm run --silent build -- --logLevel warn
for f in "${OUTPUTS[@]}"; do [ -s "$f" ] || { echo "build-frontend: $f was not built" >&2; exit 1; }; done
# the pages' CSP is script-src 'self' without 'unsafe-eval': the bundle must not evaluate code
if grep -nE '(^|[^.[:alnum:]_$])eval\(|new Function\(|setTimeout\(["'\'']' "$STATIC/app.js" >/dev/null; then
  echo "build-frontend: $STATIC/app.js uses eval or new Function, which the page's CSP forbids" >&2; exit 1
fi
hash_of > "$stamp"
say "built $(wc -c < "$STATIC/app.js") B app.js, $(wc -c < "$STATIC/style.css") B style.css"
