#!/usr/bin/env bash
# Regenerates docs/summary.png: a real run of recover (an "integration" command that cannot reach
# its service on 127.0.0.1, retried, then a fallback "unit" command) whose job summary is rendered
# as GitHub renders it (GFM to HTML), then screenshotted by headless Chromium.
#
# Needs Debian's chromium (apt-get install chromium fonts-noto-color-emoji).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "${root}"
browser="$(command -v chromium || command -v chromium-browser || true)"
if [[ -z "${browser}" ]]; then
  printf '::error::chromium is not installed: apt-get install chromium fonts-noto-color-emoji\n' >&2
  exit 1
fi

work="$(mktemp -d)"
trap 'rm -rf "${work}"' EXIT
cargo build --quiet --release
cargo build --quiet --release --example summary_html

# A port nothing listens on: bind it, note it, close it.
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')"
: > "${work}/summary.md"
set +e
GITHUB_ACTIONS=true GITHUB_STEP_SUMMARY="${work}/summary.md" GITHUB_OUTPUT="${work}/outputs" \
  target/release/recover \
  --max-attempts 3 --retry-wait-seconds 1 --backoff exponential \
  --command "curl -fsS --max-time 5 http://127.0.0.1:${port}/health && echo 'integration tests passed'" \
  --fallback-command "printf 'running unit tests\ntest result: ok. 43 passed; 0 failed\n'" \
  > "${work}/log.txt"
status=$?
set -e
printf 'recover exited %s\n' "${status}"

target/release/examples/summary_html < "${work}/summary.md" > "${work}/summary.html"
"${browser}" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
  --disable-background-networking --disable-component-update --disable-sync \
  --user-data-dir="${work}/profile" --hide-scrollbars --force-device-scale-factor=1 \
  --window-size=1000,720 --screenshot="${root}/docs/summary.png" \
  "file://${work}/summary.html" 2>/dev/null
cp "${work}/summary.md" "${root}/docs/summary-example.md"
printf 'wrote docs/summary.png and docs/summary-example.md\n'
