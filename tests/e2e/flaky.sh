#!/usr/bin/env bash
# A deterministic flaky command: fails until it has been run N times.
#   flaky.sh N COUNTER_FILE [EXIT_CODE] [MESSAGE]
# Each run adds one to the count in COUNTER_FILE; runs before the Nth print MESSAGE to stderr and
# exit with EXIT_CODE (default 1); the Nth and later runs succeed.
set -euo pipefail
need="${1:?N}"
counter="${2:?COUNTER_FILE}"
code="${3:-1}"
message="${4:-flaky: not yet}"
count=0
if [[ -f "${counter}" ]]; then
  count="$(<"${counter}")"
fi
count=$((count + 1))
printf '%s\n' "${count}" >"${counter}"
if ((count < need)); then
  printf 'flaky: run %s of %s fails\n' "${count}" "${need}"
  printf '%s\n' "${message}" >&2
  exit "${code}"
fi
printf 'flaky: run %s succeeds\n' "${count}"
