#!/usr/bin/env bash
# Benchmarks recover against the bare command, against the targets in docs/benchmarks.md:
#   (a) overhead: `recover run --max-attempts 1 -- true` against `true`, median wall time
#       (target: 5 ms or less);
#   (b) relay cost: 200 MB of output through recover against the bare command, median CPU time
#       (user + sys, recover and the command together; target: 15% or less over the bare
#       command), with the output going to a pipe and to /dev/null; and, for the rules, the same
#       attempt through examples/relay.rs with and without the built-in rules watching it
#       (target: the rules grow the overhead by 10 points of the bare command's CPU or less).
# Usage: scripts/bench.sh
# Environment: RUNS (runs for (a), default 300), BIG_RUNS (runs for (b), default 40),
#              CARGO_TARGET_DIR (where cargo builds, default ./target).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "${root}"

runs="${RUNS:-300}"
big_runs="${BIG_RUNS:-40}"
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

cargo build --release --quiet --bin recover --example relay
bin="${CARGO_TARGET_DIR:-${root}/target}/release/recover"
relay="${CARGO_TARGET_DIR:-${root}/target}/release/examples/relay"
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

# (b) CPU per run from wait4's rusage, the runs of all five commands interleaved so that a
# change in the machine's load hits each alike (hyperfine runs one command after the other, and
# on a shared machine that skews a comparison of means by more than the effect measured).
declare -A cpu_bare cpu_recover cpu_off cpu_on cpu_splice
for output in pipe null; do
  printf '\n== (b) %s bytes of output to %s, %s interleaved runs each\n' "${bytes}" "${output}" "${big_runs}"
  python3 scripts/cpu-bench.py --runs "${big_runs}" --output "${output}" \
    "bare=head -c ${bytes} /dev/zero" \
    "recover=${bin} run --max-attempts 1 -- head -c ${bytes} /dev/zero" \
    "rules-off=${relay} off -- head -c ${bytes} /dev/zero" \
    "rules-on=${relay} on -- head -c ${bytes} /dev/zero" \
    "splice=${relay} splice -- head -c ${bytes} /dev/zero" \
    2>/dev/null | tee "${work}/big-${output}.json"
  median() { jq -r --arg name "$1" '.[$name].median_ms' "${work}/big-${output}.json"; }
  cpu_bare["${output}"]="$(median bare)"
  cpu_recover["${output}"]="$(median recover)"
  cpu_off["${output}"]="$(median rules-off)"
  cpu_on["${output}"]="$(median rules-on)"
  cpu_splice["${output}"]="$(median splice)"
done

# (c) Peak memory while 1 GiB of binary output with log lines passes through, rules on.
printf '\n== (c) peak RSS with 1 GiB of output\n'
# shellcheck disable=SC2016 # The generator is a script for recover's shell, expanded there.
generator='for i in $(seq 1 5000); do echo "npm ERR! code ECONNRESET line ${i}"; done; head -c 1073741824 /dev/zero | tr "\\0" "\\377"'
/usr/bin/time -f '%M' -o "${work}/rss" "${bin}" run --max-attempts 1 --command "${generator}" > /dev/null
rss_kib="$(cat "${work}/rss")"

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
printf '(c) peak RSS with 1 GiB of output: %s KiB (target <= 16384 KiB: %s)\n' \
  "${rss_kib}" "$(verdict "${rss_kib}" 16384)"
for output in pipe null; do
  extra="$(jq -n --argjson r "${cpu_recover[${output}]}" --argjson b "${cpu_bare[${output}]}" \
    '($r - $b) / $b * 100')"
  if [[ "${output}" == pipe ]]; then
    verdict_text="target <= 15%: $(verdict "${extra}" 15)"
  else
    verdict_text="no target: the bare command's writes to /dev/null copy nothing"
  fi
  printf '(b) output to %s, median CPU: bare %.0f ms, through recover %.0f ms, %+.0f%% (%s)\n' \
    "${output}" "${cpu_bare[${output}]}" "${cpu_recover[${output}]}" "${extra}" "${verdict_text}"
  # The rules' cost in points of the bare command's CPU: the relay overhead is now close to
  # zero, so a ratio of overheads would say nothing.
  read -r off_pct on_pct growth < <(jq -rn --argjson on "${cpu_on[${output}]}" \
    --argjson off "${cpu_off[${output}]}" --argjson b "${cpu_bare[${output}]}" \
    '[($off - $b) / $b * 100, ($on - $b) / $b * 100, ($on - $off) / $b * 100] | @tsv')
  if [[ "${output}" == pipe ]]; then
    verdict_text="target <= 10: $(verdict "${growth}" 10)"
  else
    verdict_text="no target, as above"
  fi
  printf '    rules: one attempt without rules %.0f ms (%+.0f%%), with the built-in rules %.0f ms (%+.0f%%): the rules grow the overhead by %+.0f points (%s)\n' \
    "${cpu_off[${output}]}" "${off_pct}" "${cpu_on[${output}]}" "${on_pct}" "${growth}" \
    "${verdict_text}"
  reference="$(jq -n --argjson s "${cpu_splice[${output}]}" --argjson b "${cpu_bare[${output}]}" \
    '($s - $b) / $b * 100')"
  printf '    reference: a relay that only splices (no copy, nothing watching) %.0f ms, %+.0f%%\n' \
    "${cpu_splice[${output}]}" "${reference}"
done
