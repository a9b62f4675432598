#!/usr/bin/env bash
# Installs the third-party GraphQL consumers that tests/tests/it/consumers.rs runs against a live
# tenant (graphql-inspector, graphql-codegen, TypeScript, relay-compiler; pinned by
# package-lock.json) into a cache under $HOME/.cache, linked as tests/consumers/node_modules.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
"$here/../../scripts/npm-cached" "$here" "${CLIENTELE_CONSUMERS_CACHE:-$HOME/.cache/clientele-consumers}" \
  .bin/graphql-codegen
