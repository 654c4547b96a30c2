#!/usr/bin/env bash
# Cancellation of recover.exe under Wine: SIGINT to its Wine process arrives as Ctrl-C (Wine
# cannot send console events from inside, so tests/integration/windows can't do this), and
# recover must end the attempt's whole job, write outcome=cancelled and exit 130.
#   wine-cancel-test.sh PATH/TO/recover.exe
# Run by scripts/wine-test.sh, with its Wine settings.
set -euo pipefail

recover="$(realpath "${1:?usage: wine-cancel-test.sh PATH/TO/recover.exe}")"
runner="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/wine-run.sh"
dir="$(mktemp -d)"
trap 'rm -rf "${dir}"' EXIT
cd "${dir}"

fail() {
  printf 'wine-cancel-test: %s\n' "$1" >&2
  cat recover.log >&2 || true
  exit 1
}

# A batch file that appends to beat.txt about once a second, for ever.
printf '@echo off\r\n:loop\r\n>>beat.txt echo beat\r\nping -n 2 127.0.0.1 >nul\r\ngoto loop\r\n' >beat.cmd
script=$'start /b cmd /d /c beat.cmd\r\n:wait\r\nif not exist beat.txt (ping -n 1 127.0.0.1 >nul & goto wait)\r\necho x>started\r\nping -n 600 127.0.0.1 >nul\r\n'

GITHUB_OUTPUT="$(winepath -w "${dir}/output")" "${runner}" "${recover}" \
  --max-attempts 3 --shell cmd --command "${script}" </dev/null >recover.log 2>&1 &
pid=$!
for _ in $(seq 300); do
  [[ -f started ]] && break
  sleep 0.1
done
[[ -f started ]] || fail "the attempt never started"
kill -INT "${pid}"
status=0
wait "${pid}" || status=$?
((status == 130)) || fail "exit status ${status} after SIGINT, expected 130"
# The value of output $1: the line after its "name<<delimiter" line.
output() {
  grep -A1 "^$1<<" output | sed -n 2p | tr -d '\r'
}
[[ "$(output outcome)" == cancelled ]] || fail "outcome is not cancelled in GITHUB_OUTPUT"
[[ "$(output total_attempts)" == 1 ]] || fail "total_attempts is not 1 in GITHUB_OUTPUT"
before="$(wc -l <beat.txt)"
sleep 3.5
after="$(wc -l <beat.txt)"
((after == before)) || fail "a process of the cancelled attempt outlived recover (beat.txt grew from ${before} to ${after} lines)"
printf 'wine-cancel-test: SIGINT ended the attempt'"'"'s whole job, outcome=cancelled, exit 130\n'
