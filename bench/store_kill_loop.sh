#!/usr/bin/env bash
# The long kill -9 scenario of the state store: 50 kills while 10 children stream and their
# contexts change (CI runs the same test with 10 kills and 3 children). Needs a build and the
# integration test tools (mosquitto); see tests/integration/test_15_durable_state.py.
#
#   bench/store_kill_loop.sh [kills] [children]
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
export ACLKD_BIN_DIR="${ACLKD_BIN_DIR:-$ROOT/build/bin}" PYTHONDONTWRITEBYTECODE=1
export ACLKD_KILL_LOOPS="${1:-50}" ACLKD_KILL_CHILDREN="${2:-10}"
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY
cd "$ROOT/tests/integration"
exec python3 -m unittest -v \
  test_15_durable_state.CrashAndCorruptionTest.test_kill9_loop_never_loses_more_than_the_batch_window
