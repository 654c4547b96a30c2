#!/usr/bin/env bash
# The insights action's report step: runs `recover insights --format markdown`, appends the
# report to the job summary within GitHub's limit (1 MiB per step; recover keeps its markdown
# under 512 KiB, this cut is a second guard) and names the file in the output report_file.
# The token comes in RECOVER_INSIGHTS_TOKEN and is read by recover only; it is never printed.
set -euo pipefail

report="${RUNNER_TEMP:-${TMPDIR:-/tmp}}/recover-insights.md"
limit=$((1024 * 1024 - 4096))

"${RECOVER_BIN:?}" insights --format markdown --token-env RECOVER_INSIGHTS_TOKEN > "${report}"

size="$(wc -c < "${report}")"
if (( size > limit )); then
  cut="${report}.cut"
  head -c "${limit}" "${report}" > "${cut}"
  printf '\n\n_The report was cut to fit the job summary limit._\n' >> "${cut}"
  mv "${cut}" "${report}"
fi

if [[ -z "${GITHUB_STEP_SUMMARY:-}" ]] || ! cat "${report}" >> "${GITHUB_STEP_SUMMARY}"; then
  printf '::warning::cannot write the insights report to the job summary; it is in %s\n' "${report}"
fi
if [[ -n "${GITHUB_OUTPUT:-}" ]]; then
  printf 'report_file=%s\n' "${report}" >> "${GITHUB_OUTPUT}" ||
    printf '::warning::cannot write the output report_file\n'
fi
