#!/usr/bin/env bash
# Runs end-to-end tests with node's test runner: `run.sh [FILE.test.mjs ...]`, the SDK tests when none is named.
#   proxy.e2e_sdk     sdk.test.mjs sdk_agents.test.mjs   the official OpenAI, Anthropic and OpenAI Agents SDKs
#   proxy.e2e_agents  agents/agents.test.mjs             Claude Code and Codex CLI themselves
# Needs FUSEBOX_BIN and FUSEBOX_SIM_SERVER (ctest sets them from the CMake targets). Installs the pinned packages
# with `npm ci` into tests/e2e/node_modules (git-ignored) when they are missing or older than package-lock.json.
set -euo pipefail
cd "$(dirname "$0")"

node=${FUSEBOX_NODE:-node}
npm=${FUSEBOX_NPM:-npm}
: "${FUSEBOX_BIN:?set FUSEBOX_BIN to the fusebox executable}"
: "${FUSEBOX_SIM_SERVER:?set FUSEBOX_SIM_SERVER to the sim_server executable}"
export FUSEBOX_BIN FUSEBOX_SIM_SERVER

# npm ci writes node_modules/.package-lock.json; a lock file newer than that means the install is stale.
# The agents' native binaries make this a ~350 MB download (~920 MB unpacked) on a cold npm cache: bounded at 5 min.
# --ignore-scripts: no package's install script runs; the tests call the agents' platform binaries directly.
stamp=node_modules/.package-lock.json
if [ ! -f "$stamp" ] || [ package-lock.json -nt "$stamp" ] || [ package.json -nt "$stamp" ]; then
  echo "run.sh: npm ci (installing the pinned SDKs and agents into tests/e2e/node_modules)"
  timeout 300 "$npm" ci --no-audit --no-fund --ignore-scripts --loglevel=error
fi

# Bounded twice: each test has its own timeout, and the whole run has this one.
[ $# -gt 0 ] || set -- sdk.test.mjs sdk_agents.test.mjs
exec timeout -k 5 "${FUSEBOX_E2E_TIMEOUT_S:-150}" "$node" --test --test-reporter=spec "$@"
