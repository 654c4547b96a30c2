#!/usr/bin/env bash
# Measures the rule matcher's throughput with every built-in rule over 200 MB of log text.
# Usage: scripts/bench-matcher.sh [MB]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export BENCH_MB="${1:-200}"
# One core, as in CI: pin the benchmark when taskset is available.
if command -v taskset >/dev/null 2>&1; then
  exec taskset -c 0 cargo bench --bench matcher
fi
exec cargo bench --bench matcher
