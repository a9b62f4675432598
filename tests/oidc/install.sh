#!/usr/bin/env bash
# Installs the test OpenID provider's packages (oidc-provider, pinned by package-lock.json)
# into a cache under $HOME/.cache and links them as tests/oidc/node_modules. Fast when the
# cache already matches the lock file. Needs node (>= 20) and npm.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cache="${CLIENTELE_OIDC_CACHE:-$HOME/.cache/clientele-oidc-provider}"
if ! command -v npm >/dev/null 2>&1; then
  apt-get update -qq && apt-get install -y -qq nodejs npm >/dev/null
fi
mkdir -p "$cache"
if ! cmp -s "$here/package-lock.json" "$cache/package-lock.json" || [ ! -f "$cache/node_modules/oidc-provider/package.json" ]; then
  cp "$here/package.json" "$here/package-lock.json" "$cache/"
  (cd "$cache" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
fi
ln -sfn "$cache/node_modules" "$here/node_modules"
