#!/usr/bin/env bash
# Benchmarks recover against the bare command, for issue 2's acceptance:
#   (a) overhead: `recover run --max-attempts 1 -- true` against `true`, median wall time
#       (target: 5 ms or less);
#   (b) relay cost: 200 MB of output through recover against the bare command, CPU time
#       (user + sys, recover and the command together; target: 15% or less over the bare
#       command), with the output going to a pipe and to /dev/null.
# Usage: scripts/bench.sh
# Environment: RUNS (runs for (a), default 300), BIG_RUNS (runs for (b), default 15),
#              CARGO_TARGET_DIR (where cargo builds, default ./target).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "${root}"

runs="${RUNS:-300}"
big_runs="${BIG_RUNS:-15}"
bytes=200000000

if ! command -v hyperfine >/dev/null 2>&1 || ! command -v jq >/dev/null 2>&1; then
  sudo=""
  if [[ "$(id -u)" -ne 0 ]]; then
    sudo="sudo"
  fi
  printf 'Installing hyperfine and jq with apt-get\n' >&2
  ${sudo} apt-get update
  ${sudo} apt-get install -y hyperfine jq
fi

cargo build --release --quiet
bin="${CARGO_TARGET_DIR:-${root}/target}/release/recover"
if [[ ! -x "${bin}" ]]; then
  printf '::error::no release binary at %s\n' "${bin}" >&2
  exit 1
fi

work="$(mktemp -d)"
trap 'rm -rf "${work}"' EXIT

# Prints "<median ms> <mean user+sys ms> <min ms>" for the named command of a hyperfine JSON
# export.
figures() {
  jq -r --arg name "$2" \
    '.results[] | select(.command == $name)
     | "\(.median * 1000) \((.user + .system) * 1000) \(.min * 1000)"' "$1"
}

load_before="$(cut -d' ' -f1-3 /proc/loadavg)"

printf '== (a) start-up overhead, %s runs each\n' "${runs}"
hyperfine --shell=none --warmup 20 --runs "${runs}" --export-json "${work}/startup.json" \
  --command-name bare "true" \
  --command-name recover "${bin} run --max-attempts 1 -- true"
read -r bare_median bare_cpu bare_min < <(figures "${work}/startup.json" bare)
read -r recover_median recover_cpu recover_min < <(figures "${work}/startup.json" recover)
overhead_ms="$(jq -n --argjson a "${recover_median}" --argjson b "${bare_median}" '$a - $b')"

declare -A cpu_bare cpu_recover
for output in pipe null; do
  printf '\n== (b) %s bytes of output to %s, %s runs each\n' "${bytes}" "${output}" "${big_runs}"
  hyperfine --shell=none --warmup 2 --runs "${big_runs}" --output="${output}" \
    --export-json "${work}/big-${output}.json" \
    --command-name bare "head -c ${bytes} /dev/zero" \
    --command-name recover "${bin} run --max-attempts 1 -- head -c ${bytes} /dev/zero"
  read -r _ cpu_bare["${output}"] _ < <(figures "${work}/big-${output}.json" bare)
  read -r _ cpu_recover["${output}"] _ < <(figures "${work}/big-${output}.json" recover)
done

verdict() {
  if jq -en --argjson v "$1" --argjson t "$2" '$v <= $t' >/dev/null; then
    printf 'met'
  else
    printf 'MISSED'
  fi
}

printf '\n== Summary (%s, %s cores, %s, recover %s)\n' "$(uname -srm)" "$(nproc)" \
  "$(date -u +%Y-%m-%dT%H:%MZ)" "$(git describe --always --dirty 2>/dev/null || printf unknown)"
printf 'load average before: %s; after: %s\n' "${load_before}" "$(cut -d' ' -f1-3 /proc/loadavg)"
printf '(a) median: true %.2f ms, recover %.2f ms, overhead %.2f ms (target <= 5 ms: %s)\n' \
  "${bare_median}" "${recover_median}" "${overhead_ms}" "$(verdict "${overhead_ms}" 5)"
printf '    min: true %.2f ms, recover %.2f ms; CPU (user+sys): true %.2f ms, recover %.2f ms\n' \
  "${bare_min}" "${recover_min}" "${bare_cpu}" "${recover_cpu}"
for output in pipe null; do
  extra="$(jq -n --argjson r "${cpu_recover[${output}]}" --argjson b "${cpu_bare[${output}]}" \
    '($r - $b) / $b * 100')"
  printf '(b) output to %s: CPU bare %.0f ms, through recover %.0f ms, %+.0f%% (target <= 15%%: %s)\n' \
    "${output}" "${cpu_bare[${output}]}" "${cpu_recover[${output}]}" "${extra}" \
    "$(verdict "${extra}" 15)"
done
