#!/usr/bin/env bash
# Installs the test OpenID provider's packages (oidc-provider, pinned by package-lock.json)
# into a cache under $HOME/.cache and links them as tests/oidc/node_modules. Fast when the
# cache already matches the lock file. Needs node (>= 20) and npm.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
"$here/../../scripts/npm-cached" "$here" "${CLIENTELE_OIDC_CACHE:-$HOME/.cache/clientele-oidc-provider}" \
  oidc-provider/package.json
