#!/usr/bin/env python3
"""End-to-end tests of the action under act, the GitHub Actions runner emulator, in host mode.

Each case runs one workflow of tests/e2e/workflows with `act --json` and asserts on the job and
step results, the annotations, the job summary and the `E2E key=value` lines that the workflows
print from the action's outputs.

The setup, all local:
- a copy of the repository (tracked and untracked files, not ignored ones) in a temporary git
  repository, with pins for two test releases: v9.9.9 (moving tag v9) whose committed checksum
  matches the served archive, and v9.9.8 whose archive does not match;
- an HTTP server on 127.0.0.1 that serves the release archives as GitHub does
  (<server>/<repository>/releases/download/<tag>/<asset>), pointed at by GITHUB_SERVER_URL;
- `--local-repository` maps `uses: recover-dev/recover@<tag>` and `nick-fields/retry@v3` to the
  copy, so the workflows use the action as a user would;
- one act cache directory (and so one tool cache) for the whole run, so the cases after the first
  reuse the binary that the first one built.

Usage: run.py [--binary PATH] [--act PATH] [--keep] [CASE...]
--binary is a built recover for this machine (default: cargo build --release --locked).
"""

from __future__ import annotations

import argparse
import hashlib
import http.server
import io
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = Path("tests/e2e/workflows")
REPOSITORY = "recover-dev/recover"
TARGET = "x86_64-unknown-linux-musl"
GOOD_TAG = "v9.9.9"
BAD_TAG = "v9.9.8"
PINNED_SHA = "0123456789abcdef0123456789abcdef01234567"
ACT_TIMEOUT = 900


def asset_name(tag: str) -> str:
    return f"recover-{tag}-{TARGET}.tar.gz"


def tar_gz(member: str, data: bytes) -> bytes:
    """A release archive: one executable member at the top, as the release workflow packs it."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        info = tarfile.TarInfo(member)
        info.size = len(data)
        info.mode = 0o755
        info.mtime = 0
        archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


class Releases(http.server.SimpleHTTPRequestHandler):
    """Serves the release directory and counts requests per path."""

    hits: dict[str, int] = {}
    lock = threading.Lock()

    def do_GET(self) -> None:  # noqa: N802 (the name http.server calls)
        with self.lock:
            self.hits[self.path] = self.hits.get(self.path, 0) + 1
        super().do_GET()

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass


def insights_history() -> dict[str, object]:
    """Three runs for the insights action: `npm ci` recovered on attempt 2 (network, 50 s lost),
    then passed; a nick-fields/retry step recovered on attempt 2 in the second run."""

    def result(outcome: str, attempts: int, lost: float) -> dict:
        tail = json.dumps({
            "v": 1, "id": "1:1:build:npm", "command": "npm ci", "outcome": outcome,
            "attempts": attempts, "category": "network" if attempts > 1 else None,
            "rule": "npm-registry-503" if attempts > 1 else None, "lost_s": lost,
            "wait_s": 10, "backoff": "fixed", "recovery_s": 40 if attempts > 1 else None,
            "retried_permanent": False,
        })
        return {"annotation_level": "notice", "title": "", "path": ".github",
                "message": f"Step result: `npm ci` {outcome}\nrecover-result {tail}"}

    now = time.time()
    stamp = lambda ago: time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now - ago))  # noqa: E731
    runs, jobs, notes = [], {}, {}
    for n, (outcome, attempts, lost) in enumerate(
        [("recovered", 2, 50.0), ("success", 1, 0.0), ("recovered", 2, 50.0)], start=1
    ):
        run_id = 700 + n
        runs.append({"id": run_id, "name": "CI", "path": ".github/workflows/ci.yml",
                     "head_branch": "main", "status": "completed", "conclusion": "success",
                     "run_attempt": 1, "created_at": stamp(n * 3600),
                     "updated_at": stamp(n * 3600 - 600)})
        jobs[run_id] = [
            {"id": run_id * 10 + 1, "name": "build", "run_attempt": 1, "status": "completed",
             "conclusion": "success", "started_at": stamp(n * 3600),
             "completed_at": stamp(n * 3600 - 120)},
            {"id": run_id * 10 + 2, "name": "test", "run_attempt": 1, "status": "completed",
             "conclusion": "success", "started_at": stamp(n * 3600),
             "completed_at": stamp(n * 3600 - 60)},
        ]
        notes[run_id * 10 + 1] = [result(outcome, attempts, lost)]
        notes[run_id * 10 + 2] = [] if n != 2 else [
            {"annotation_level": "warning", "title": "", "path": ".github",
             "message": "Attempt 1 failed. Reason: Child_process exited with error code 1"}]
    return {"runs": runs, "jobs": jobs, "annotations": notes}


class InsightsApi(http.server.BaseHTTPRequestHandler):
    """A fake GitHub REST API under /api/v3 for the insights action: runs, jobs, annotations."""

    history: dict = {}
    requests: list[tuple[str, str]] = []

    def do_GET(self) -> None:  # noqa: N802 (the name http.server calls)
        path = self.path.split("?", 1)[0]
        self.requests.append((path, self.headers.get("authorization", "")))
        parts = path.split("/")
        body: object = None
        # /api/v3/repos/{owner}/{name}/...: any repository has the history.
        rest = parts[6:] if parts[1:3] == ["api", "v3"] and parts[3:4] == ["repos"] else []
        if rest == ["actions", "runs"]:
            runs = self.history["runs"]
            body = {"total_count": len(runs), "workflow_runs": runs}
        elif len(rest) == 4 and rest[:2] == ["actions", "runs"] and rest[3] == "jobs":
            jobs = self.history["jobs"].get(int(rest[2]), [])
            body = {"total_count": len(jobs), "jobs": jobs}
        elif len(rest) == 3 and rest[0] == "check-runs" and rest[2] == "annotations":
            body = self.history["annotations"].get(int(rest[1]), [])
        data = json.dumps(body if body is not None else {"message": "Not Found"}).encode()
        self.send_response(200 if body is not None else 404)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.send_header("x-ratelimit-remaining", "4999")
        self.send_header("x-ratelimit-reset", str(int(time.time()) + 3600))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass


@dataclass
class Run:
    """What one act run reported."""

    returncode: int
    events: list[dict]
    raw: str
    job_results: dict[str, str] = field(default_factory=dict)
    values: dict[str, str] = field(default_factory=dict)
    log: str = ""
    output: str = ""

    @classmethod
    def parse(cls, returncode: int, raw: str) -> "Run":
        events = []
        for line in raw.splitlines():
            if line.startswith("{"):
                try:
                    events.append(json.loads(line))
                except json.JSONDecodeError:
                    pass
        run = cls(returncode, events, raw)
        lines = []
        for event in events:
            if "jobResult" in event:
                run.job_results[event.get("job", "")] = event["jobResult"]
            if event.get("raw_output"):
                text = event.get("msg", "")
                lines.append(text)
                for part in text.splitlines():
                    if part.startswith("E2E ") and "=" in part:
                        key, _, value = part[4:].partition("=")
                        run.values[key.strip()] = value
            elif "msg" in event:
                lines.append(event["msg"] + "\n")
        run.log = "".join(lines)
        run.output = "".join(e.get("msg", "") for e in events if e.get("raw_output"))
        return run

    def annotations(self, kind: str) -> list[str]:
        return [e.get("arg", "") for e in self.events if e.get("command") == kind]

    def summaries(self) -> str:
        return "".join(e.get("content", "") for e in self.events if e.get("command") == "summary")


class Failure(Exception):
    pass


class Skipped(Exception):
    """A case that this build of recover cannot run yet; the reason is printed."""


class Check:
    """Collects the failed expectations of one case."""

    def __init__(self, run: Run) -> None:
        self.run = run
        self.failures: list[str] = []

    def that(self, condition: bool, what: str) -> None:
        if not condition:
            self.failures.append(what)

    def value(self, key: str, expected: str) -> None:
        actual = self.run.values.get(key)
        self.that(actual == expected, f"{key}: expected {expected!r}, got {actual!r}")

    def value_contains(self, key: str, part: str) -> None:
        actual = self.run.values.get(key) or ""
        self.that(part in actual, f"{key}: expected it to contain {part!r}, got {actual!r}")

    def in_log(self, text: str) -> None:
        self.that(text in self.run.log, f"log: expected {text!r}")

    def not_in_log(self, text: str) -> None:
        self.that(text not in self.run.log, f"log: did not expect {text!r}")

    def jobs(self, expected: str, count: int = 1) -> None:
        results = list(self.run.job_results.values())
        self.that(
            results == [expected] * count,
            f"job results: expected {count} x {expected!r}, got {results!r}",
        )

    def done(self) -> None:
        if self.failures:
            raise Failure("\n".join(self.failures))


class Suite:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.tmp = Path(tempfile.mkdtemp(prefix="recover-e2e."))
        self.src = self.tmp / "src"
        self.src_pinned = self.tmp / "src-pinned"
        self.cache = self.tmp / "act-cache"
        self.marker = self.tmp / "tampered-binary-ran"
        self.serve = self.tmp / "releases"
        self.server: http.server.ThreadingHTTPServer | None = None
        self._retry_run: Run | None = None
        self.has_classification = False

    # --- setup ----------------------------------------------------------------------------------

    def binary(self) -> Path:
        if self.args.binary:
            return Path(self.args.binary).resolve()
        target_dir = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
        subprocess.run(
            ["cargo", "build", "--release", "--locked", "--bin", "recover"],
            cwd=ROOT,
            check=True,
        )
        return target_dir / "release" / "recover"

    def copy_repository(self) -> None:
        listed = subprocess.run(
            ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
            cwd=ROOT,
            check=True,
            capture_output=True,
        ).stdout.decode()
        for name in filter(None, listed.split("\0")):
            source = ROOT / name
            if not source.is_file():
                continue  # Deleted in the work tree but still in the index.
            destination = self.src / name
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, destination)

    def pin_releases(self, binary: Path) -> None:
        good = tar_gz("recover", binary.read_bytes())
        # The tampered archive's binary leaves a marker if anything ever runs it.
        tampered = tar_gz(
            "recover",
            f"#!/bin/sh\ntouch '{self.marker}'\nexit 0\n".encode(),
        )
        for tag, data in ((GOOD_TAG, good), (BAD_TAG, tampered)):
            folder = self.serve / REPOSITORY / "releases" / "download" / tag
            folder.mkdir(parents=True)
            (folder / asset_name(tag)).write_bytes(data)
        good_sum = hashlib.sha256(good).hexdigest()
        checksums = self.src / "dist" / "checksums"
        checksums.mkdir(parents=True, exist_ok=True)
        (checksums / f"{GOOD_TAG}.sha256").write_text(f"{good_sum}  {asset_name(GOOD_TAG)}\n")
        # v9.9.8 pins the sha256 of the good archive; the server hands out the tampered one.
        (checksums / f"{BAD_TAG}.sha256").write_text(f"{good_sum}  {asset_name(BAD_TAG)}\n")
        versions = self.src / "dist" / "versions.txt"
        with versions.open("a") as out:
            out.write(f"v9 {GOOD_TAG}\n")

    def init_git(self) -> None:
        env = {**os.environ, "GIT_AUTHOR_NAME": "e2e", "GIT_AUTHOR_EMAIL": "e2e@localhost",
               "GIT_COMMITTER_NAME": "e2e", "GIT_COMMITTER_EMAIL": "e2e@localhost"}
        for command in (
            ["git", "init", "-q", "-b", "main"],
            ["git", "add", "-A"],
            ["git", "commit", "-q", "--no-gpg-sign", "-m", "e2e"],
        ):
            subprocess.run(command, cwd=self.src, check=True, env=env)

    def pin_source(self) -> None:
        """A second copy whose dist/sources.txt names its source as v9.9.9's."""
        shutil.copytree(self.src, self.src_pinned, symlinks=True)
        source_hash = subprocess.run(
            ["bash", "scripts/install.sh", "--source-hash"],
            cwd=self.src_pinned, check=True, capture_output=True, text=True,
        ).stdout.strip()
        with (self.src_pinned / "dist" / "sources.txt").open("a") as out:
            out.write(f"{source_hash} {GOOD_TAG}\n")

    def start_server(self) -> str:
        directory = str(self.serve)

        class Handler(Releases):
            def __init__(self, *args: object, **kwargs: object) -> None:
                super().__init__(*args, directory=directory, **kwargs)  # type: ignore[misc]

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def setup(self) -> None:
        binary = self.binary()
        print(f"e2e: binary {binary}")
        usage = subprocess.run(
            [str(binary), "--help"], capture_output=True, stdin=subprocess.DEVNULL, text=True,
        ).stdout
        self.has_classification = any(
            line.strip().startswith("classify ") for line in usage.splitlines()
        )
        print(f"e2e: work directory {self.tmp}")
        self.copy_repository()
        self.pin_releases(binary)
        self.init_git()
        self.pin_source()
        self.server_url = self.start_server()

    def close(self) -> None:
        if self.server:
            self.server.shutdown()
        if self.args.keep:
            print(f"e2e: kept {self.tmp}")
        else:
            shutil.rmtree(self.tmp, ignore_errors=True)

    # --- running act ----------------------------------------------------------------------------

    def act(self, workflow: str, env: dict[str, str] | None = None) -> Run:
        command = [
            self.args.act, "push",
            "-W", str(WORKFLOWS / workflow),
            "-P", "ubuntu-latest=-self-hosted",
            "--action-offline-mode", "--no-cache-server", "--json",
            "--action-cache-path", str(self.cache),
            "--env", f"REPO_SRC={self.src}",
            "--env", f"GITHUB_SERVER_URL={self.server_url}",
            "--env", f"CARGO_TARGET_DIR={self.args.cargo_target_dir}",
            *(
                ["--env", f"CARGO_BUILD_TARGET={self.args.cargo_build_target}"]
                if self.args.cargo_build_target
                else []
            ),
            "--local-repository", f"{REPOSITORY}@v9={self.src}",
            "--local-repository", f"{REPOSITORY}@{BAD_TAG}={self.src}",
            "--local-repository", f"nick-fields/retry@v3={self.src}",
            "--local-repository", f"{REPOSITORY}@{PINNED_SHA}={self.src_pinned}",
            *(arg for name, value in (env or {}).items() for arg in ("--env", f"{name}={value}")),
        ]
        started = time.monotonic()
        try:
            completed = subprocess.run(
                command, cwd=self.src, stdin=subprocess.DEVNULL, capture_output=True,
                timeout=ACT_TIMEOUT,
            )
        except subprocess.TimeoutExpired as error:
            raise Failure(f"act did not finish within {ACT_TIMEOUT}s") from error
        raw = completed.stdout.decode(errors="replace") + completed.stderr.decode(errors="replace")
        name = workflow.removesuffix(".yml")
        log = self.tmp / f"{name}.{time.time_ns()}.jsonl"
        log.write_text(raw)
        print(f"      act ran {workflow} in {time.monotonic() - started:.1f}s (log: {log})")
        return Run.parse(completed.returncode, raw)

    def asset_hits(self, tag: str) -> int:
        path = f"/{REPOSITORY}/releases/download/{tag}/{asset_name(tag)}"
        return Releases.hits.get(path, 0)

    # --- cases ------------------------------------------------------------------------------------

    def case_build_from_source(self) -> None:
        """uses: ./ with no release for the ref: cargo builds the action's source into the cache."""
        run = self.act("self.yml")
        check = Check(run)
        check.jobs("success")
        check.in_log("building recover from")
        check.in_log("E2E self ran")
        check.value("outcome", "success")
        check.value("exit_code", "0")
        entries = list((self.cache / "tool_cache" / "recover").glob("0.0.0-src.*/x64.complete"))
        check.that(len(entries) == 1, f"tool cache: expected one built entry, got {entries}")
        check.done()

    def case_cache_reused(self) -> None:
        """A second run of the same source takes the binary from the tool cache, no cargo."""
        run = self.act("self.yml")
        check = Check(run)
        check.jobs("success")
        check.in_log("found in the tool cache")
        check.not_in_log("building recover from")
        check.not_in_log("Compiling")
        check.in_log("E2E self ran")
        check.done()

    def case_download_and_verify(self) -> None:
        """uses: owner/recover@v9: v9 resolves to v9.9.9, downloaded once for two parallel jobs."""
        run = self.act("download.yml")
        check = Check(run)
        check.jobs("success", count=2)
        check.in_log(f"/releases/download/{GOOD_TAG}/{asset_name(GOOD_TAG)}")
        check.in_log("verified")
        check.not_in_log("building recover from")
        check.that(run.output.count("E2E released binary ran") == 2, "both jobs ran the command")
        check.that(
            self.asset_hits(GOOD_TAG) == 1,
            f"server: expected one download for two jobs, got {self.asset_hits(GOOD_TAG)}",
        )
        complete = self.cache / "tool_cache" / "recover" / GOOD_TAG[1:] / "x64.complete"
        check.that(complete.is_file(), f"tool cache: expected {complete}")
        check.done()

    def case_download_cached(self) -> None:
        """The release is not downloaded again once it is in the tool cache."""
        before = self.asset_hits(GOOD_TAG)
        run = self.act("download.yml")
        check = Check(run)
        check.jobs("success", count=2)
        check.in_log("found in the tool cache")
        check.that(self.asset_hits(GOOD_TAG) == before, "server: the cached release was fetched")
        check.done()

    def case_sha_pinned_release(self) -> None:
        """A ref pinned by SHA to a released source uses the release, not a build."""
        run = self.act("sha.yml")
        check = Check(run)
        check.jobs("success")
        check.in_log(f"recover {GOOD_TAG} found in the tool cache")
        check.not_in_log("building recover from")
        check.in_log("E2E pinned release ran")
        check.done()

    def case_checksum_mismatch(self) -> None:
        """An archive that does not match its pinned sha256 is refused and never run."""
        run = self.act("mismatch.yml")
        check = Check(run)
        check.jobs("failure")
        errors = run.annotations("error")
        check.that(
            any("checksum mismatch" in e and asset_name(BAD_TAG) in e for e in errors),
            f"annotations: expected a checksum mismatch error, got {errors}",
        )
        check.that(self.asset_hits(BAD_TAG) >= 1, "server: the tampered archive was not fetched")
        check.that(not self.marker.exists(), "the tampered binary ran")
        check.not_in_log("E2E must not run")
        check.value("step", "failure")
        entry = self.cache / "tool_cache" / "recover" / BAD_TAG[1:]
        check.that(
            not (entry / "x64.complete").exists() and not (entry / "x64" / "recover").exists(),
            "tool cache: the tampered binary was installed",
        )
        check.done()

    def retry_run(self) -> Run:
        """retry.yml runs once; two cases assert on it."""
        if self._retry_run is None:
            self._retry_run = self.act("retry.yml")
        return self._retry_run

    def case_install_input_errors(self) -> None:
        """A bad install mode, or download with no release, fails the step with an ::error::."""
        run = self.act("install-input.yml")
        check = Check(run)
        check.jobs("success")
        check.value("unknown", "failure")
        check.value("no-release", "failure")
        errors = run.annotations("error")
        check.that(
            any('input install: expected auto, download or build, got "sometimes"' in e
                for e in errors),
            f"annotations: expected the unknown mode named, got {errors}",
        )
        check.that(
            any("input install: download needs a release tag" in e for e in errors),
            f"annotations: expected the missing release named, got {errors}",
        )
        check.not_in_log("E2E must not run")
        check.done()

    def case_retries_outputs_annotations(self) -> None:
        """A flaky command recovers; exhausted ones fail with their code; outputs, annotations."""
        run = self.retry_run()
        check = Check(run)
        check.jobs("success")
        check.value("flaky.total_attempts", "2")
        check.value("flaky.exit_code", "0")
        check.value("flaky.outcome", "recovered")
        check.value("exhausted.total_attempts", "2")
        check.value("exhausted.exit_code", "3")
        check.value("exhausted.outcome", "failure")
        check.value("exhausted.result", "failure")
        check.in_log("flaky: run 2 succeeds")
        check.in_log("flaky: run 2 of 9 fails")
        check.not_in_log("flaky: run 3 of 9 fails")
        warnings = run.annotations("warning")
        # One warning per retried attempt: 1 (flaky) + 1 (exhausted) + 1 (network) + 1 (fallback).
        check.that(len(warnings) == 4, f"annotations: expected 4 retry warnings, got {warnings}")
        errors = run.annotations("error")
        check.that(
            len(errors) == 2 and all("Final attempt failed" in e for e in errors),
            f"annotations: expected one final error per exhausted step, got {errors}",
        )
        summary = run.summaries()
        for part in (
            "Recovered",
            "Attempt 1 output",
            "flaky: run 1 of 2 fails",
            "Failed",
            "flaky: run 2 of 9 fails",
        ):
            check.that(part in summary, f"summary: expected {part!r}")
        check.that("flaky: run 2 succeeds" not in summary, "summary: a passed attempt's output")
        check.done()

    def case_fallback(self) -> None:
        """When the attempts run out, the fallback command runs and rescues the step."""
        run = self.retry_run()
        check = Check(run)
        check.value("fallback.outcome", "fallback")
        check.value("fallback.fallback_exit_code", "0")
        check.value("fallback.result", "success")
        check.that(run.output.count("E2E fallback ran") == 1, "the fallback command ran once")
        notices = [n for n in run.annotations("notice") if not n.startswith("Step result: ")]
        check.that(len(notices) == 1, f"annotations: expected one notice of the rescue, got {notices}")
        check.done()

    def case_classification(self) -> None:
        """Failures get a category and a rule from the built-in rules."""
        if not self.has_classification:
            raise Skipped("this recover has no classification yet (no `recover classify`)")
        run = self.retry_run()
        check = Check(run)
        check.value("exhausted.category", "unknown")
        check.value("network.category", "network")
        check.that(bool(run.values.get("network.rule")), "network.rule: expected a rule name")
        errors = run.annotations("error")
        check.that(
            any("network" in e for e in errors),
            f"annotations: expected the final error to name its category, got {errors}",
        )
        check.that("network" in run.summaries(), "summary: expected the network category")
        check.done()

    def case_drop_in_nick_fields_retry(self) -> None:
        """A workflow for nick-fields/retry@v3 (its inputs only) gets nick's outcome and outputs."""
        run = self.act("dropin.yml")
        check = Check(run)
        check.jobs("success")
        check.value("passes.total_attempts", "3")
        check.value("passes.exit_code", "0")
        check.value("passes.exit_error", "")
        check.value("fails.total_attempts", "2")
        check.value("fails.exit_code", "3")
        check.value("fails.result", "failure")
        check.value_contains("fails.exit_error", "Final attempt failed")
        check.value("slow.total_attempts", "2")
        check.value("slow.exit_code", "1")
        check.value("slow.result", "failure")
        check.value_contains("slow.exit_error", "Final attempt failed")
        # Outputs the command set reach later steps through the declared command_outputs
        # (act would also leak them undeclared; GitHub does not), and on_retry_command's
        # GITHUB_ENV write is kept, as nick keeps it.
        check.value("sets.version", "1.2")
        check.value("sets.notes", "line one|line two")
        check.value("sets.total_attempts", "2")
        check.value("sets.retried", "true")
        notices = run.annotations("notice")
        check.that(
            any("command_outputs" in n for n in notices),
            f"annotations: expected the notice on reading command_outputs, got {notices}",
        )
        errors = run.annotations("error")
        # nick's exact words first, recover's facts after.
        check.that(
            any(e.startswith("Final attempt failed. Child_process exited with error code 3 (")
                for e in errors),
            f"annotations: expected nick's words first in the final error, got {errors}",
        )
        warnings = run.annotations("warning")
        # nick warns once per retried attempt: 2 (passes) + 1 (fails) + 1 (slow) + 1 (sets).
        check.that(len(warnings) == 5, f"annotations: expected 5 retry warnings, got {warnings}")
        check.that(
            all(w.startswith("Attempt ") for w in warnings),
            f"annotations: expected nick's 'Attempt N failed' warnings, got {warnings}",
        )
        check.done()

    def case_insights_action(self) -> None:
        """uses: owner/recover/insights@v9 reads a fake API and writes the report to the summary."""
        InsightsApi.history = insights_history()
        InsightsApi.requests = []
        api = http.server.ThreadingHTTPServer(("127.0.0.1", 0), InsightsApi)
        threading.Thread(target=api.serve_forever, daemon=True).start()
        try:
            url = f"http://127.0.0.1:{api.server_address[1]}/api/v3"
            run = self.act("insights.yml", {"GITHUB_API_URL": url})
        finally:
            api.shutdown()
        check = Check(run)
        check.jobs("success")
        summary = run.summaries()
        for part in (
            "## recover insights: o/r, last 14 days",
            "3 runs (0 cancelled)",
            "| CI | build | ` npm ci ` | 3 | 1 | 2 | 0 | 0 | 2 | 1m 40s | network 2 (rule npm-registry-503 2) |",
            "` npm ci ` in job build recovered 2 times after a median 1 retry and 50s",
        ):
            check.that(part in summary, f"summary: expected {part!r} in {summary!r}")
        check.value("lines", "1")
        paths = [p for p, _ in InsightsApi.requests]
        check.that(len(paths) == 1 + 3 + 6, f"API: expected 10 requests, got {paths}")
        check.that(
            all(auth == "Bearer e2e-insights-token" for _, auth in InsightsApi.requests),
            "API: every request carries the token",
        )
        check.not_in_log("e2e-insights-token")
        check.done()


# Order matters: the first case builds the binary the later `uses: ./` cases take from the cache.
CASES = [
    "build_from_source",
    "cache_reused",
    "download_and_verify",
    "download_cached",
    "sha_pinned_release",
    "checksum_mismatch",
    "install_input_errors",
    "retries_outputs_annotations",
    "fallback",
    "classification",
    "drop_in_nick_fields_retry",
    "insights_action",
]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--binary", help="a built recover for this machine")
    venv_act = ROOT / ".venv" / "bin" / "act"
    parser.add_argument(
        "--act", default=str(venv_act) if venv_act.exists() else (shutil.which("act") or "act"),
    )
    parser.add_argument(
        "--cargo-target-dir",
        default=os.environ.get("CARGO_TARGET_DIR", str(ROOT / "target")),
        help="the cargo target directory the build-from-source cases reuse",
    )
    parser.add_argument(
        "--cargo-build-target",
        help="CARGO_BUILD_TARGET for the build-from-source cases (to reuse a build for it)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the work directory")
    parser.add_argument("cases", nargs="*", metavar="CASE", help=f"one of: {', '.join(CASES)}")
    args = parser.parse_args()
    args.act = str(Path(shutil.which(args.act) or args.act).resolve())
    unknown = [name for name in args.cases if name not in CASES]
    if unknown:
        parser.error(f"unknown cases: {', '.join(unknown)}")
    selected = args.cases or CASES
    if "build_from_source" not in selected:
        # The other cases rely on its cache entry.
        selected = ["build_from_source", *selected]

    suite = Suite(args)
    failed = []
    skipped = []
    try:
        suite.setup()
        for name in CASES:
            if name not in selected:
                continue
            print(f"e2e: {name}")
            try:
                getattr(suite, f"case_{name}")()
            except Skipped as reason:
                skipped.append(name)
                print(f"  SKIPPED {name}: {reason}")
            except Failure as failure:
                failed.append(name)
                print(f"  FAIL {name}\n" + "".join(f"    {line}\n" for line in str(failure).splitlines()))
            else:
                print(f"  ok   {name}")
    finally:
        if failed:
            args.keep = True
        suite.close()
    passed = len(selected) - len(failed) - len(skipped)
    print(f"e2e: {passed} passed, {len(failed)} failed, {len(skipped)} skipped")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
