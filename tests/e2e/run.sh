#!/usr/bin/env bash
# Runs the end-to-end SDK tests (ctest: proxy.e2e_sdk). Needs FUSEBOX_BIN and FUSEBOX_SIM_SERVER (ctest sets
# them from the CMake targets). Installs the pinned SDKs with `npm ci` into tests/e2e/node_modules (git-ignored)
# when they are missing or older than package-lock.json.
set -euo pipefail
cd "$(dirname "$0")"

node=${FUSEBOX_NODE:-node}
npm=${FUSEBOX_NPM:-npm}
: "${FUSEBOX_BIN:?set FUSEBOX_BIN to the fusebox executable}"
: "${FUSEBOX_SIM_SERVER:?set FUSEBOX_SIM_SERVER to the sim_server executable}"
export FUSEBOX_BIN FUSEBOX_SIM_SERVER

# npm ci writes node_modules/.package-lock.json; a lock file newer than that means the install is stale.
stamp=node_modules/.package-lock.json
if [ ! -f "$stamp" ] || [ package-lock.json -nt "$stamp" ] || [ package.json -nt "$stamp" ]; then
  echo "run.sh: npm ci (installing the pinned SDKs into tests/e2e/node_modules)"
  timeout 60 "$npm" ci --no-audit --no-fund --loglevel=error
fi

# Bounded twice: each test has its own timeout, and the whole run has this one.
exec timeout -k 5 90 "$node" --test --test-reporter=spec sdk.test.mjs
