#!/usr/bin/env bash
# Regenerates docs/insights.png and docs/insights-example.md: `recover insights --format markdown`
# against a fake GitHub API on 127.0.0.1 (the e2e tests' InsightsApi, tests/e2e/run.py) serving
# 14 days of a made-up repository, rendered as GitHub renders a job summary (GFM to HTML), then
# screenshotted by headless Chromium.
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

python3 - "${work}" <<'PYTHON'
"""Serves a made-up history until recover insights has read it; writes the report."""
import http.server, json, os, subprocess, sys, threading, time
sys.path.insert(0, "tests/e2e")
from run import InsightsApi  # noqa: E402

work = sys.argv[1]
now = time.time()
stamp = lambda ago: time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now - ago))  # noqa: E731


def result(command, outcome, attempts, category=None, rule=None, lost=0.0, recovery=None,
           permanent=False, wait=10):
    tail = json.dumps({"v": 1, "id": "", "command": command, "outcome": outcome,
                       "attempts": attempts, "category": category, "rule": rule, "lost_s": lost,
                       "wait_s": wait, "backoff": "fixed", "recovery_s": recovery,
                       "retried_permanent": permanent})
    return {"annotation_level": "notice", "message": f"Step result: `{command}`\nrecover-result {tail}"}


def warning(n, reason):
    return {"annotation_level": "warning", "message": f"Attempt {n} failed. Reason: {reason}"}


runs, jobs, notes = [], {}, {}
for i in range(84):
    run_id, ago = 9000 + i, i * 4 * 3600 + 900
    runs.append({"id": run_id, "name": "CI", "path": ".github/workflows/ci.yml",
                 "head_branch": "main", "status": "completed",
                 "conclusion": "cancelled" if i % 17 == 16 else "success",
                 "run_attempt": 2 if i % 9 == 4 else 1,
                 "created_at": stamp(ago), "updated_at": stamp(ago - 3600)})
    build, test, e2e, e2e2 = run_id * 10 + 1, run_id * 10 + 2, run_id * 10 + 3, run_id * 10 + 4
    job = lambda jid, name, attempt, conclusion, secs: {  # noqa: E731
        "id": jid, "name": name, "run_attempt": attempt, "status": "completed",
        "conclusion": conclusion, "started_at": stamp(ago), "completed_at": stamp(ago - secs)}
    jobs[run_id] = [job(build, "build", 1, "success", 240), job(test, "test", 1, "success", 600),
                    job(e2e, "e2e", 1, "failure" if i % 9 == 4 else "success", 420)]
    if i % 9 == 4:
        jobs[run_id].append(job(e2e2, "e2e", 2, "success", 400))
        notes[e2e2] = []
    if i % 3 == 0:
        notes[build] = [warning(1, "Child_process exited with error code 1"),
                        result("npm ci", "recovered", 2, "network", "npm-registry-503",
                               12 + i % 5, 30 + i % 40)]
    elif i % 11 == 5:
        notes[build] = [result("npm ci", "failure", 3, "permanent", "npm-404", 24.0, None, True)]
    else:
        notes[build] = [result("npm ci", "success", 1)]
    notes[test] = ([result("cargo test --locked", "failure", 3, "permanent", "cargo-test-failed",
                           180.0, None, True, 30)]
                   if i % 10 == 3 else [result("cargo test --locked", "success", 1)])
    notes[e2e] = ([warning(1, "Timeout of 300000ms hit"), warning(2, "Timeout of 300000ms hit")]
                  if i % 7 == 2 else [])

InsightsApi.history = {"runs": runs, "jobs": jobs, "annotations": notes}
server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), InsightsApi)
threading.Thread(target=server.serve_forever, daemon=True).start()
env = {**os.environ, "GITHUB_API_URL": f"http://127.0.0.1:{server.server_address[1]}/api/v3",
       "GITHUB_TOKEN": "render-token"}
with open(os.path.join(work, "insights.md"), "w") as out:
    subprocess.run(["target/release/recover", "insights", "--repo", "acme/shop", "--no-cache",
                    "--format", "markdown"], env=env, stdout=out, check=True)
server.shutdown()
PYTHON

target/release/examples/summary_html insights < "${work}/insights.md" > "${work}/insights.html"
"${browser}" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
  --disable-background-networking --disable-component-update --disable-sync \
  --user-data-dir="${work}/profile" --hide-scrollbars --force-device-scale-factor=1 \
  --window-size=1280,1180 --screenshot="${root}/docs/insights.png" \
  "file://${work}/insights.html" 2>/dev/null
cp "${work}/insights.md" "${root}/docs/insights-example.md"
printf 'wrote docs/insights.png and docs/insights-example.md\n'
