#!/usr/bin/env python3
"""The retry-storm experiment: many steps retrying against one service that is down.

A local HTTP server on 127.0.0.1 answers 503 for the first OUTAGE seconds, then 200. PROCS
recover processes start together (a barrier holds every first attempt until all have started,
and the outage begins when it opens), each running `curl -f` against it, under one of three
policies:

  a  fixed 10 s wait (nick-fields/retry's default)
  b  exponential backoff (1 s base, factor 2, 60 s cap) with full jitter
  c  (b) plus a shared circuit (threshold 5, cooldown 5 s) in a fresh state directory

For each it reports the requests the server received during the outage, the peak requests per
second after it ended, how many processes succeeded, and the time until every process had
succeeded (or finished, when some failed).

Bounded: every scenario is stopped after LIMIT seconds (the processes still running get SIGTERM,
then SIGKILL), and nothing talks to anything but 127.0.0.1.

Usage: scripts/retry-storm.py [--recover PATH] [--procs 100] [--outage 20] [--limit 150]
                              [--scenarios abc] [--json]
"""

from __future__ import annotations

import argparse
import http.server
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

SCENARIOS = {
    "a": ("fixed 10 s wait (nick's default)", ["--retry-wait-seconds", "10"]),
    "b": (
        "exponential backoff, full jitter",
        [
            "--retry-wait-seconds", "1",
            "--backoff", "exponential",
            "--max-wait-seconds", "60",
            "--jitter", "full",
        ],
    ),
    "c": (
        "(b) plus a shared circuit",
        [
            "--retry-wait-seconds", "1",
            "--backoff", "exponential",
            "--max-wait-seconds", "60",
            "--jitter", "full",
            "--circuit", "storm",
            "--circuit-threshold", "5",
            "--circuit-cooldown-seconds", "5",
        ],
    ),
}


class Service:
    """A server that is down (503) until `up_at`, then up (200); it records every request."""

    def __init__(self, outage: float) -> None:
        self.outage = outage
        self.start = time.monotonic()
        self.times: list[float] = []
        self.lock = threading.Lock()
        service = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (the name http.server wants)
                now = time.monotonic()
                with service.lock:
                    service.times.append(now - service.start)
                down = now - service.start < service.outage
                body = b"down\n" if down else b"ok\n"
                self.send_response(503 if down else 200)
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Connection", "close")
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        class Server(http.server.ThreadingHTTPServer):
            daemon_threads = True
            request_queue_size = 1024

        self.server = Server(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def restart_clock(self) -> None:
        with self.lock:
            self.start = time.monotonic()
            self.times.clear()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def run_scenario(key: str, recover: str, procs: int, outage: float, limit: float) -> dict:
    name, policy = SCENARIOS[key]
    service = Service(outage)
    url = f"http://127.0.0.1:{service.port}/"
    curl = f"curl -fsS -o /dev/null --noproxy '*' --max-time 5 {url}"
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": os.environ.get("HOME", "/")}
    ends: list[tuple[float, int]] = []
    ends_lock = threading.Lock()
    with tempfile.TemporaryDirectory(prefix="retry-storm-") as work:
        state_dir = os.path.join(work, "state")
        ready = os.path.join(work, "ready")
        go = os.path.join(work, "go")
        os.mkdir(ready)
        # A barrier: starting 100 recover processes takes seconds on 2 cores, so each attempt
        # first checks in and waits for `go`; the outage clock starts when every process has
        # checked in, and the first requests then come together, as in a real storm.
        command = (
            f"touch '{ready}'/$$; while [ ! -e '{go}' ]; do sleep 0.1; done; {curl}"
        )
        argv = [
            recover, "run",
            "--max-attempts", "10",
            "--summary", "never",
            "--state-dir", state_dir,
            *policy,
            "--command", command,
        ]
        children = [
            subprocess.Popen(
                argv,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,
            )
            for _ in range(procs)
        ]

        def wait(child: subprocess.Popen) -> None:
            code = child.wait()
            with ends_lock:
                ends.append((time.monotonic() - service.start, code))

        waiters = [threading.Thread(target=wait, args=(c,), daemon=True) for c in children]
        for w in waiters:
            w.start()
        arrival_limit = time.monotonic() + limit
        while len(os.listdir(ready)) < procs and time.monotonic() < arrival_limit:
            time.sleep(0.05)
        service.restart_clock()
        Path(go).touch()
        deadline = service.start + limit
        for w in waiters:
            w.join(max(0.0, deadline - time.monotonic()))
        stopped = 0
        for child in children:
            if child.poll() is None:
                stopped += 1
                os.killpg(child.pid, signal.SIGTERM)
        for child in children:
            try:
                child.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(child.pid, signal.SIGKILL)
                child.wait()
        for w in waiters:
            w.join(1)
    service.stop()
    times = sorted(service.times)
    during = sum(1 for t in times if t < outage)
    after = [t - outage for t in times if t >= outage]
    per_second: dict[int, int] = {}
    for t in after:
        per_second[int(t)] = per_second.get(int(t), 0) + 1
    succeeded = sorted(t for t, code in ends if code == 0)
    finished = max((t for t, _ in ends), default=None)
    return {
        "scenario": key,
        "policy": name,
        "processes": procs,
        "requests_total": len(times),
        "requests_during_outage": during,
        "peak_rps_after_outage": max(per_second.values(), default=0),
        "succeeded": len(succeeded),
        "failed": len([1 for _, code in ends if code != 0]),
        "stopped_at_limit": stopped,
        "all_succeeded_after_s": round(succeeded[-1], 1) if len(succeeded) == procs else None,
        "all_finished_after_s": round(finished, 1) if finished is not None else None,
    }


def table(rows: list[dict]) -> str:
    head = (
        "| policy | requests during the outage | peak requests/s after it | succeeded "
        "| all succeeded after | all finished after |\n|---|---|---|---|---|---|\n"
    )
    lines = []
    for r in rows:
        done = f"{r['all_succeeded_after_s']} s" if r["all_succeeded_after_s"] is not None else "never"
        lines.append(
            f"| ({r['scenario']}) {r['policy']} | {r['requests_during_outage']} "
            f"| {r['peak_rps_after_outage']} | {r['succeeded']} of {r['processes']} "
            f"| {done} | {r['all_finished_after_s']} s |"
        )
    return head + "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--recover", default=None, help="the recover binary (default: the release build)")
    parser.add_argument("--procs", type=int, default=100)
    parser.add_argument("--outage", type=float, default=20.0)
    parser.add_argument("--limit", type=float, default=150.0, help="seconds before a scenario is stopped")
    parser.add_argument("--scenarios", default="abc")
    parser.add_argument("--json", action="store_true", help="print JSON rows instead of a table")
    args = parser.parse_args()
    recover = args.recover
    if recover is None:
        target = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
        recover = str(target / "release" / "recover")
    if not os.access(recover, os.X_OK):
        print(f"retry-storm: {recover} is not an executable; build it with cargo build --release", file=sys.stderr)
        return 2
    rows = []
    for key in args.scenarios:
        print(f"retry-storm: scenario ({key}) {SCENARIOS[key][0]} ...", file=sys.stderr, flush=True)
        rows.append(run_scenario(key, recover, args.procs, args.outage, args.limit))
        print(json.dumps(rows[-1]), file=sys.stderr, flush=True)
    print(json.dumps(rows, indent=2) if args.json else table(rows), end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
