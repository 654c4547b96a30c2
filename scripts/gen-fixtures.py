#!/usr/bin/env python3
"""Regenerates tests/fixtures/logs/: real output of real tools failing against faults.

Every fault lives on this machine: HTTP and raw TCP servers on 127.0.0.1 (refused port, reset,
hang, 429 with and without Retry-After, 5xx, 401/403/404, TLS garbage, truncated and empty
replies), a 64 KiB tmpfs (or /dev/full) for disk full, ulimits, held locks, and real compile and
test failures. Nothing contacts a non-loopback address: every URL is http://127.0.0.1:PORT, and
tools that might reach a default registry get an explicit loopback one. Each command is bounded
by `timeout`.

Output: one `<name>.log` per case (stdout and stderr together, as a CI log shows them) and
`manifest.json` with the tool, the exit code and the expected category and rule (null for green
logs, which must match no rule).

Usage: scripts/gen-fixtures.py [--only SUBSTRING]
"""

import http.server
import json
import os
import shutil
import socket
import socketserver
import struct
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "tests" / "fixtures" / "logs"
WORK = Path(tempfile.mkdtemp(prefix="recover-fixtures-"))
CASE_TIMEOUT = 60


class Handler(http.server.BaseHTTPRequestHandler):
    """Answers by the first path segment: /s503/..., /r429/... (with Retry-After), /ok/..."""

    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_HEAD(self):
        self.do_GET()

    def do_POST(self):
        self.do_GET()

    def do_GET(self):
        head = self.path.strip("/").split("/")[0]
        if head == "hang":
            time.sleep(30)
            return
        if head == "empty":
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        if head == "trunc":
            self.send_response(200)
            self.send_header("Content-Length", "1000")
            self.end_headers()
            self.wfile.write(b"only ten b")
            self.wfile.flush()
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        if head == "ok":
            body = b"hello\n"
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        status = 500
        extra = {}
        if head.startswith(("s", "r")) and head[1:].isdigit():
            status = int(head[1:])
            if head.startswith("r"):
                extra["Retry-After"] = "2"
        if status == 401:
            extra["WWW-Authenticate"] = 'Basic realm="fixtures"'
        body = json.dumps({"error": self.responses.get(status, ("?",))[0]}).encode()
        self.send_response(status)
        for k, v in extra.items():
            self.send_header(k, v)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def raw_server(behaviour):
    """A TCP server on 127.0.0.1 that resets, hangs or sends garbage to every connection."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)

    def serve():
        held = []
        while True:
            conn, _ = sock.accept()
            if behaviour == "reset":
                # Read the request first, so that the reset comes mid-exchange, not at connect.
                conn.settimeout(2)
                try:
                    conn.recv(1024)
                except OSError:
                    pass
                conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                conn.close()
            elif behaviour == "garbage":
                try:
                    conn.recv(1024)
                    conn.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n" * 4)
                finally:
                    conn.close()
            else:
                held.append(conn)

    threading.Thread(target=serve, daemon=True).start()
    return sock.getsockname()[1]


def dead_port():
    """A loopback port with nothing listening."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def hold_posix_lock(path):
    """Holds a POSIX (fcntl) lock on path, as apt and dpkg take theirs, until the process ends."""
    import fcntl

    path.parent.mkdir(parents=True, exist_ok=True)
    f = open(path, "a+")
    fcntl.lockf(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
    return f


def main():
    only = sys.argv[2] if len(sys.argv) > 2 and sys.argv[1] == "--only" else None
    httpd = Server(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    H = f"http://127.0.0.1:{httpd.server_address[1]}"
    RESET = raw_server("reset")
    HANG = raw_server("hang")
    GARBAGE = raw_server("garbage")
    DEAD = dead_port()
    W = WORK

    env = dict(os.environ)
    for proxy in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"):
        env.pop(proxy, None)
    env.update(
        {
            "NO_COLOR": "1",
            "TERM": "dumb",
            "GIT_TERMINAL_PROMPT": "0",
            "GIT_CONFIG_NOSYSTEM": "1",
            "HOME": str(W / "home"),
            "RUSTUP_HOME": os.environ.get("RUSTUP_HOME", str(Path.home() / ".rustup")),
            "CARGO_HOME": str(W / "cargo-home"),
            "npm_config_cache": str(W / "npm-cache"),
            "npm_config_update_notifier": "false",
            "npm_config_fund": "false",
            "npm_config_audit": "false",
            "PIP_DISABLE_PIP_VERSION_CHECK": "1",
            "PIP_NO_CACHE_DIR": "1",
            "PIP_CONFIG_FILE": "/dev/null",
            "PYTHONDONTWRITEBYTECODE": "1",
            "KUBECONFIG": "/dev/null",
            "DOCKER_CONFIG": str(W / "docker"),
            "CARGO_TARGET_DIR": str(W / "cargo-target"),
        }
    )
    (W / "home").mkdir()
    ssh_opts = (
        "-o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null "
        "-o ConnectTimeout=3"
    )
    # Projects and files the cases use.
    setup(W, H)
    venv_py = make_venv(W, env)

    pip = f"{venv_py} -m pip"
    npm = "npm install left-pad --no-audit --no-fund --fetch-retries=0 --fetch-timeout=3000 --prefer-online"
    cargo_reg = (
        "cd {w}/crate-dep && cargo generate-lockfile "
        "--config 'source.crates-io.replace-with=\"dead\"' "
        "--config 'source.dead.registry=\"sparse+{url}/\"' "
        "--config 'net.retry=1'"
    )
    apt = (
        f"apt-get -o Dir::Etc::SourceList={W}/apt/sources.list -o Dir::Etc::SourceParts=- "
        f"-o Dir::State::Lists={W}/apt/lists -o Dir::Cache={W}/apt/cache "
        f"-o Dir::State::status={W}/apt/status -o Debug::NoLocking=0 "
        f"-o Acquire::Retries=0 -o Acquire::http::Timeout=3 -o APT::Sandbox::User=root"
    )
    kubectl = "kubectl --request-timeout=5s --insecure-skip-tls-verify"

    # name, tool, command, category, rule (category None: a green log that must match nothing)
    cases = [
        # curl
        ("curl-refused", "curl", f"curl -sS -f http://127.0.0.1:{DEAD}/", "network", "connection-refused"),
        ("curl-429", "curl", f"curl -sS -f {H}/s429/x", "rate_limit", "http-429"),
        ("curl-429-retry-after", "curl", f"curl -sS -i -f {H}/r429/x", "rate_limit", "http-429"),
        ("curl-503", "curl", f"curl -sS -f {H}/s503/x", "transient", "http-5xx"),
        ("curl-500", "curl", f"curl -sS -f {H}/s500/x", "transient", "http-5xx"),
        ("curl-502-verbose", "curl", f"curl -sS -v -f {H}/s502/x", "network", "gateway-5xx"),
        ("curl-404", "curl", f"curl -sS -f {H}/s404/x", "permanent", "not-found"),
        ("curl-401", "curl", f"curl -sS -f {H}/s401/x", "permanent", "auth-failed"),
        ("curl-403", "curl", f"curl -sS -f {H}/s403/x", "permanent", "auth-failed"),
        ("curl-hang", "curl", f"curl -sS -m 2 http://127.0.0.1:{HANG}/", "timeout", "tool-timeout"),
        ("curl-reset", "curl", f"curl -sS http://127.0.0.1:{RESET}/", "network", "connection-reset"),
        ("curl-empty-reply", "curl", f"curl -sS {H}/empty/x", "network", "connection-reset"),
        ("curl-truncated", "curl", f"curl -sS {H}/trunc/x -o /dev/null", "network", "network-unreachable"),
        ("curl-tls-garbage", "curl", f"curl -sS https://127.0.0.1:{GARBAGE}/", "network", "tls"),
        ("curl-bad-flag", "curl", "curl --nosuch-flag http://127.0.0.1/", "permanent", "bad-flag"),
        ("curl-ok", "curl", f"curl -sS -f {H}/ok/x", None, None),
        # wget
        ("wget-refused", "wget", f"wget -t 1 -O /dev/null http://127.0.0.1:{DEAD}/", "network", "connection-refused"),
        ("wget-503", "wget", f"wget -t 1 -O /dev/null {H}/s503/x", "transient", "http-5xx"),
        ("wget-429", "wget", f"wget -t 1 -O /dev/null {H}/r429/x", "rate_limit", "http-429"),
        ("wget-404", "wget", f"wget -t 1 -O /dev/null {H}/s404/x", "permanent", "not-found"),
        ("wget-403", "wget", f"wget -t 1 -O /dev/null {H}/s403/x", "permanent", "auth-failed"),
        ("wget-hang", "wget", f"wget -t 1 -T 2 -O /dev/null http://127.0.0.1:{HANG}/", "network", "connection-timeout"),
        ("wget-reset", "wget", f"wget -t 1 -O /dev/null http://127.0.0.1:{RESET}/", "network", "connection-reset"),
        ("wget-tls-garbage", "wget", f"wget -t 1 -O /dev/null https://127.0.0.1:{GARBAGE}/", "network", "tls"),
        ("wget-bad-flag", "wget", "wget --nosuch-flag http://127.0.0.1/", "permanent", "bad-flag"),
        ("wget-ok", "wget", f"wget -t 1 -O /dev/null {H}/ok/x", None, None),
        # git over http and ssh, and locks
        ("git-http-refused", "git", f"git clone http://127.0.0.1:{DEAD}/r.git {W}/clone1", "network", "connection-refused"),
        ("git-http-503", "git", f"git clone {H}/s503/r.git {W}/clone2", "transient", "http-5xx"),
        ("git-http-404", "git", f"git clone {H}/s404/r.git {W}/clone3", "permanent", "not-found"),
        ("git-http-401", "git", f"git clone {H}/s401/r.git {W}/clone4", "permanent", "auth-failed"),
        ("git-http-reset", "git", f"git clone http://127.0.0.1:{RESET}/r.git {W}/clone5", "network", "connection-reset"),
        ("git-http-429", "git", f"git clone {H}/s429/r.git {W}/clone6", "rate_limit", "http-429"),
        ("git-ssh-refused", "git", f"GIT_SSH_COMMAND='ssh {ssh_opts}' git clone ssh://git@127.0.0.1:{DEAD}/r.git {W}/clone7", "network", "connection-refused"),
        ("git-ssh-reset", "git", f"GIT_SSH_COMMAND='ssh {ssh_opts}' git clone ssh://git@127.0.0.1:{RESET}/r.git {W}/clone8", "network", "connection-reset"),
        ("git-index-lock", "git", f"cd {W}/repo && touch .git/index.lock && git commit --allow-empty -m x; rc=$?; rm -f .git/index.lock; exit $rc", "transient", "git-lock"),
        ("git-not-a-repo", "git", f"cd {W}/plain && git log", "permanent", "permanent-misc"),
        ("git-bad-pathspec", "git", f"cd {W}/repo && git checkout nosuch-branch", "permanent", "permanent-misc"),
        ("git-clone-ok", "git", f"git clone file://{W}/repo {W}/clone-ok", None, None),
        # ssh
        ("ssh-refused", "ssh", f"ssh {ssh_opts} -p {DEAD} git@127.0.0.1 true", "network", "connection-refused"),
        ("ssh-reset", "ssh", f"ssh {ssh_opts} -p {RESET} git@127.0.0.1 true", "network", "connection-reset"),
        ("ssh-hang", "ssh", f"ssh {ssh_opts} -p {HANG} git@127.0.0.1 true", "network", "connection-timeout"),
        ("ssh-garbage", "ssh", f"ssh {ssh_opts} -p {GARBAGE} git@127.0.0.1 true", "network", "connection-reset"),
        # pip
        ("pip-refused", "pip", f"{pip} download --no-deps -d {W}/dl --retries 1 --timeout 3 --index-url http://127.0.0.1:{DEAD}/simple six", "network", "pip-connection"),
        ("pip-hang", "pip", f"{pip} download --no-deps -d {W}/dl --retries 1 --timeout 2 --index-url http://127.0.0.1:{HANG}/simple six", "network", "pip-connection"),
        ("pip-404", "pip", f"{pip} download --no-deps -d {W}/dl --retries 0 --index-url {H}/s404/simple nosuchpkg", "permanent", "package-not-found"),
        ("pip-bad-flag", "pip", f"{pip} install --nosuch-flag six", "permanent", "bad-flag"),
        ("pip-disk-full", "pip", f"{pip} download --no-deps -d {W}/tiny --no-index --find-links {W}/wheels fixturepkg", "resource", "disk-full"),
        ("pip-list-ok", "pip", f"{pip} list", None, None),
        # npm
        ("npm-refused", "npm", f"cd {W}/npm && {npm} --registry http://127.0.0.1:{DEAD}/", "network", "connection-refused"),
        ("npm-503", "npm", f"cd {W}/npm && {npm} --registry {H}/s503/", "transient", "http-5xx"),
        ("npm-429", "npm", f"cd {W}/npm && {npm} --registry {H}/s429/", "rate_limit", "http-429"),
        ("npm-404", "npm", f"cd {W}/npm && {npm} --registry {H}/s404/", "permanent", "not-found"),
        ("npm-401", "npm", f"cd {W}/npm && {npm} --registry {H}/s401/", "permanent", "auth-failed"),
        ("npm-hang", "npm", f"cd {W}/npm && {npm} --registry http://127.0.0.1:{HANG}/", "network", "connection-timeout"),
        ("npm-reset", "npm", f"cd {W}/npm && {npm} --registry http://127.0.0.1:{RESET}/", "network", "connection-reset"),
        ("npm-test-script", "npm", f"cd {W}/nodeproj && npm test", "permanent", "node-test-failed"),
        ("npm-version-ok", "npm", "npm --version", None, None),
        # node
        ("node-fetch-refused", "node", f"node -e 'fetch(\"http://127.0.0.1:{DEAD}/\").then(r=>r.text())'", "network", "connection-refused"),
        ("node-http-reset", "node", f"node -e 'require(\"http\").get(\"http://127.0.0.1:{RESET}/\")'", "network", "connection-reset"),
        ("node-test-fail", "node", f"node --test {W}/nodeproj/fail.test.js", "permanent", "node-test-failed"),
        ("node-syntax-error", "node", f"node {W}/nodeproj/broken.js", "permanent", "syntax-error"),
        ("node-heap-oom", "node", "node --max-old-space-size=16 -e 'const a=[]; for(;;) a.push(new Array(1e5).fill(1))'", "resource", "out-of-memory"),
        ("node-emfile", "node", "ulimit -n 32; node -e 'const fs=require(\"fs\"); const a=[]; for(;;) a.push(fs.openSync(\"/dev/null\",\"r\"))'", "resource", "file-descriptors"),
        ("node-enospc", "node", "node -e 'require(\"fs\").writeFileSync(\"/dev/full\", \"x\".repeat(100000))'", "resource", "disk-full"),
        ("node-test-ok", "node", f"node --test {W}/nodeproj/pass.test.js", None, None),
        # python: urllib, requests, pytest, syntax, resources
        ("python-urllib-refused", "python", f"python3 -c 'import urllib.request as u; u.urlopen(\"http://127.0.0.1:{DEAD}/\")'", "network", "connection-refused"),
        ("python-urllib-429", "python", f"python3 -c 'import urllib.request as u; u.urlopen(\"{H}/r429/x\")'", "rate_limit", "http-429"),
        ("python-urllib-503", "python", f"python3 -c 'import urllib.request as u; u.urlopen(\"{H}/s503/x\")'", "transient", "http-5xx"),
        ("python-urllib-404", "python", f"python3 -c 'import urllib.request as u; u.urlopen(\"{H}/s404/x\")'", "permanent", "not-found"),
        ("python-urllib-timeout", "python", f"python3 -c 'import urllib.request as u; u.urlopen(\"http://127.0.0.1:{HANG}/\", timeout=2)'", "network", "connection-timeout"),
        ("python-urllib-truncated", "python", f"python3 -c 'import urllib.request as u; u.urlopen(\"{H}/trunc/x\").read()'", "network", "network-unreachable"),
        ("python-requests-refused", "python", f"python3 -c 'import requests; requests.get(\"http://127.0.0.1:{DEAD}/\")'", "network", "connection-refused"),
        ("python-requests-timeout", "python", f"python3 -c 'import requests; requests.get(\"http://127.0.0.1:{HANG}/\", timeout=2)'", "network", "connection-timeout"),
        ("python-requests-429", "python", f"python3 -c 'import requests; requests.get(\"{H}/s429/x\").raise_for_status()'", "rate_limit", "http-429"),
        ("python-requests-502", "python", f"python3 -c 'import requests; requests.get(\"{H}/s502/x\").raise_for_status()'", "network", "gateway-5xx"),
        ("python-requests-tls", "python", f"python3 -c 'import requests; requests.get(\"https://127.0.0.1:{GARBAGE}/\")'", "network", "tls"),
        ("python-requests-reset", "python", f"python3 -c 'import requests; requests.get(\"http://127.0.0.1:{RESET}/\")'", "network", "connection-reset"),
        ("syntax-error", "python", f"python3 {W}/py/broken.py", "permanent", "syntax-error"),
        ("python-missing-module", "python", "python3 -c 'import nosuchmodule_fixture'", "permanent", "syntax-error"),
        ("python-memory-error", "python", "ulimit -v 200000; python3 -c 'x = bytearray(1 << 30)'", "resource", "out-of-memory"),
        ("python-emfile", "python", "ulimit -n 32; python3 -c 'fs=[open(\"/dev/null\") for _ in range(100)]'", "resource", "file-descriptors"),
        ("python-disk-full", "python", f"python3 -c 'open(\"{W}/tiny/blob\", \"wb\").write(bytes(1 << 20))'", "resource", "disk-full"),
        ("pytest-fail", "pytest", f"cd {W}/py && {venv_py} -m pytest -q -p no:cacheprovider test_fail.py", "permanent", "pytest-failed"),
        ("pytest-ok", "pytest", f"cd {W}/py && {venv_py} -m pytest -q -p no:cacheprovider test_ok.py", None, None),
        # rust
        ("rustc-error", "rustc", f"rustc --edition 2021 -o {W}/rs/bin {W}/rs/broken.rs", "permanent", "rustc-error"),
        ("cargo-build-error", "cargo", f"cd {W}/crate-broken && cargo build --offline", "permanent", "rustc-error"),
        ("cargo-test-fail", "cargo", f"cd {W}/crate-test && cargo test --offline", "permanent", "cargo-test-failed"),
        ("cargo-registry-refused", "cargo", cargo_reg.format(w=W, url=f"http://127.0.0.1:{DEAD}"), "network", "cargo-network"),
        ("cargo-registry-503", "cargo", cargo_reg.format(w=W, url=f"{H}/s503"), "transient", "cargo-http-status"),
        ("cargo-registry-429", "cargo", cargo_reg.format(w=W, url=f"{H}/s429"), "rate_limit", "cargo-rate-limited"),
        ("cargo-bad-flag", "cargo", "cargo build --nosuch-flag", "permanent", "bad-flag"),
        ("cargo-test-ok", "cargo", f"cd {W}/crate-ok && cargo test --offline", None, None),
        # gcc, javac, maven
        ("gcc-error", "gcc", f"gcc -c {W}/c/broken.c -o {W}/c/broken.o", "permanent", "c-compile-error"),
        ("gcc-link-error", "gcc", f"gcc {W}/c/link.c -o {W}/c/link", "permanent", "c-compile-error"),
        ("gcc-missing-header", "gcc", f"gcc -c {W}/c/header.c -o {W}/c/header.o", "permanent", "c-compile-error"),
        ("gcc-ok", "gcc", f"gcc {W}/c/ok.c -o {W}/c/ok && {W}/c/ok", None, None),
        ("javac-error", "javac", f"javac -d {W}/java/out {W}/java/Broken.java", "permanent", "javac-error"),
        ("javac-ok", "javac", f"javac -d {W}/java/out {W}/java/Ok.java", None, None),
        ("maven-refused", "maven", f"cd {W}/mvn && mvn -B -s {W}/mvn/settings-dead.xml -Dmaven.repo.local={W}/m2 org.apache.maven.plugins:maven-dependency-plugin:3.6.1:resolve", "network", "connection-refused"),
        ("maven-503", "maven", f"cd {W}/mvn && mvn -B -s {W}/mvn/settings-503.xml -Dmaven.repo.local={W}/m2b org.apache.maven.plugins:maven-dependency-plugin:3.6.1:resolve", "transient", "http-5xx"),
        # apt and dpkg
        ("apt-update-refused", "apt", f"{apt.replace('sources.list', 'sources-dead.list')} update --error-on=any", "network", "connection-refused"),
        ("apt-update-503", "apt", f"{apt.replace('sources.list', 'sources-503.list')} update --error-on=any", "transient", "http-5xx"),
        ("apt-unknown-package", "apt", f"{apt} install -y nosuchpkg-fixture", "permanent", "package-not-found"),
        ("apt-lock", "apt", f"{apt} update", "transient", "apt-dpkg-lock"),
        ("apt-bad-flag", "apt", "apt-get --nosuch-flag update", "permanent", "bad-flag"),
        ("dpkg-lock", "dpkg", f"dpkg --admindir={W}/dpkg-admin --configure -a", "transient", "apt-dpkg-lock"),
        # docker and kubectl
        ("docker-no-daemon", "docker", f"DOCKER_HOST=tcp://127.0.0.1:{DEAD} docker pull alpine:3", "permanent", "not-configured"),
        ("docker-bad-flag", "docker", "docker pull --nosuch-flag alpine", "permanent", "bad-flag"),
        ("kubectl-refused", "kubectl", f"{kubectl} --server http://127.0.0.1:{DEAD} get pods", "network", "connection-refused"),
        ("kubectl-503", "kubectl", f"{kubectl} --server {H}/s503 get pods", "transient", "http-5xx"),
        ("kubectl-401", "kubectl", f"{kubectl} --server {H}/s401 get pods", "permanent", "auth-failed"),
        ("kubectl-403", "kubectl", f"{kubectl} --server {H}/s403 get pods", "permanent", "auth-failed"),
        ("kubectl-bad-flag", "kubectl", "kubectl get pods --nosuch-flag", "permanent", "bad-flag"),
        ("kubectl-client-ok", "kubectl", "kubectl version --client", None, None),
        # the shell and the machine
        ("bash-not-found", "bash", "nosuchcmd-fixture --version", "permanent", "command-not-found"),
        ("bash-not-executable", "bash", f"{W}/noexec.sh", "permanent", "command-not-found"),
        ("dd-disk-full", "dd", f"dd if=/dev/zero of={W}/tiny/blob bs=64k count=4", "resource", "disk-full"),
        ("dd-file-size-limit", "bash", f"ulimit -f 8; dd if=/dev/zero of={W}/big bs=64k count=4; exit $?", "resource", "disk-full"),
        ("flock-held", "flock", f"flock --verbose -w 1 {W}/held.lock true", "transient", "other-lock"),
        ("bash-ok", "bash", "echo building; echo done", None, None),
    ]

    OUT.mkdir(parents=True, exist_ok=True)
    manifest_path = OUT / "manifest.json"
    manifest = json.loads(manifest_path.read_text()) if only and manifest_path.exists() else []
    manifest = [m for m in manifest if not (only and only in m["log"])]
    lock_holders = []
    for name, tool, command, category, rule in cases:
        if only and only not in name:
            continue
        if name == "apt-lock":
            lock_holders.append(hold_posix_lock(W / "apt" / "lists" / "lock"))
        if name == "dpkg-lock":
            lock_holders.append(hold_posix_lock(W / "dpkg-admin" / "lock-frontend"))
        if name == "flock-held":
            lock_holders.append(subprocess.Popen(["flock", str(W / "held.lock"), "sleep", "20"]))
            time.sleep(0.3)
        if name in ("dd-disk-full", "python-disk-full", "pip-disk-full"):
            for f in (W / "tiny").glob("*"):
                f.unlink()
        started = time.monotonic()
        proc = subprocess.run(
            ["timeout", "-k", "5", str(CASE_TIMEOUT), "bash", "-c", command],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=W,
        )
        text = redact(proc.stdout, W, httpd.server_address[1], [RESET, HANG, GARBAGE, DEAD])
        (OUT / f"{name}.log").write_bytes(text)
        green = category is None
        status = "ok" if (proc.returncode == 0) == green else "UNEXPECTED EXIT"
        print(f"{name:28} exit {proc.returncode:3} {time.monotonic() - started:5.1f}s {status}")
        # A signal death reads as the shell reports it: 128 + n.
        signal = -proc.returncode if proc.returncode < 0 else None
        manifest.append(
            {
                "log": f"{name}.log",
                "tool": tool,
                "exit_code": 128 + signal if signal else proc.returncode,
                "signal": signal,
                "category": category,
                "rule": rule,
            }
        )
    for holder in lock_holders:
        if isinstance(holder, subprocess.Popen):
            holder.kill()
        else:
            holder.close()
    manifest.sort(key=lambda m: m["log"])
    manifest_path.write_text(json.dumps(manifest, indent=1) + "\n")
    subprocess.run(["umount", str(W / "tiny")], stderr=subprocess.DEVNULL)
    shutil.rmtree(W, ignore_errors=True)


def redact(data, work, http_port, ports):
    """Replaces run-specific paths and ports so that regenerated logs diff cleanly."""
    data = data.replace(str(work).encode(), b"/tmp/fixtures")
    for i, port in enumerate([http_port, *ports]):
        data = data.replace(f"127.0.0.1:{port}".encode(), f"127.0.0.1:{40000 + i}".encode())
        data = data.replace(f"port {port}".encode(), f"port {40000 + i}".encode())
    return data


def make_venv(w, env):
    """A virtualenv with pytest, installed from the default index (PyPI) when missing."""
    venv = w / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    py = venv / "bin" / "python"
    subprocess.run(
        [str(py), "-m", "pip", "install", "-q", "pytest"],
        check=True,
        env={k: v for k, v in env.items() if k != "PIP_CONFIG_FILE"},
        timeout=300,
    )
    return py


def write(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def setup(w, h):
    # A git repository with one commit, and a plain directory.
    (w / "plain").mkdir()
    subprocess.run(
        f"git init -q {w}/repo && cd {w}/repo && git -c user.name=f -c user.email=f@f "
        "commit -q --allow-empty -m init",
        shell=True,
        check=True,
    )
    # A 64 KiB tmpfs for disk full (falls back to a directory whose files are /dev/full).
    (w / "tiny").mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(w / "tiny")]).returncode:
        print("warning: cannot mount a tmpfs; disk-full cases write to /dev/full", file=sys.stderr)
    # A wheel too big for the tmpfs, for pip.
    wheels = w / "wheels"
    wheels.mkdir()
    make_wheel(wheels)
    write(w / "noexec.sh", "#!/bin/sh\necho hi\n")
    write(w / "npm" / "package.json", '{"name": "fixture", "version": "1.0.0"}\n')
    write(w / "nodeproj" / "package.json", '{"name": "p", "version": "1.0.0", "scripts": {"test": "node --test fail.test.js"}}\n')
    write(
        w / "nodeproj" / "fail.test.js",
        "const test = require('node:test');\nconst assert = require('node:assert');\n"
        "test('adds numbers', () => { assert.strictEqual(1 + 1, 3); });\n",
    )
    write(
        w / "nodeproj" / "pass.test.js",
        "const test = require('node:test');\nconst assert = require('node:assert');\n"
        "test('adds numbers', () => { assert.strictEqual(1 + 1, 2); });\n",
    )
    write(w / "nodeproj" / "broken.js", "function f( {\n  return 1;\n}\n")
    write(w / "py" / "broken.py", "def f(:\n    return 'connection refused'\n")
    write(w / "py" / "test_fail.py", "def test_add():\n    assert 1 + 1 == 3\n\ndef test_ok():\n    assert True\n")
    write(w / "py" / "test_ok.py", "def test_add():\n    assert 1 + 1 == 2\n")
    write(w / "rs" / "broken.rs", 'fn main() {\n    let x: u8 = "connection refused";\n}\n')
    for name, body in (
        ("crate-broken", 'fn main() {\n    let s: u32 = "Could not resolve host";\n}\n'),
        ("crate-ok", "fn main() {}\n#[test]\nfn adds() { assert_eq!(1 + 1, 2); }\n"),
        ("crate-test", "fn main() {}\n#[test]\nfn adds() { assert_eq!(1 + 1, 3); }\n"),
        ("crate-dep", "fn main() {}\n"),
    ):
        deps = 'serde = "1"\n' if name == "crate-dep" else ""
        write(w / name / "Cargo.toml", f'[package]\nname = "{name.replace("-", "_")}"\nversion = "0.1.0"\nedition = "2021"\n\n[dependencies]\n{deps}')
        write(w / name / "src" / "main.rs", body)
    write(w / "c" / "broken.c", "int main(void) {\n    strng s = \"connection refused\";\n    return 0;\n}\n")
    write(w / "c" / "link.c", "int missing(void);\nint main(void) { return missing(); }\n")
    write(w / "c" / "header.c", "#include <nosuch/header.h>\nint main(void) { return 0; }\n")
    write(w / "c" / "ok.c", "#include <stdio.h>\nint main(void) { puts(\"ok\"); return 0; }\n")
    write(w / "java" / "Broken.java", "public class Broken {\n    public static void main(String[] a) {\n        Strin s = \"x\";\n    }\n}\n")
    write(w / "java" / "Ok.java", "public class Ok {\n    public static void main(String[] a) {}\n}\n")
    write(
        w / "mvn" / "pom.xml",
        "<project xmlns=\"http://maven.apache.org/POM/4.0.0\"><modelVersion>4.0.0</modelVersion>"
        "<groupId>f</groupId><artifactId>f</artifactId><version>1</version>"
        "<dependencies><dependency><groupId>junit</groupId><artifactId>junit</artifactId>"
        "<version>4.13.2</version></dependency></dependencies></project>\n",
    )
    for name, url in (("dead", f"http://127.0.0.1:{dead_port()}/m2"), ("503", f"{h}/s503/m2")):
        write(
            w / "mvn" / f"settings-{name}.xml",
            "<settings><mirrors><mirror><id>fixture</id><mirrorOf>*</mirrorOf>"
            f"<url>{url}</url></mirror></mirrors></settings>\n",
        )
    write(w / "apt" / "sources.list", "")
    write(w / "apt" / "sources-dead.list", f"deb [trusted=yes] http://127.0.0.1:{dead_port()}/debian bookworm main\n")
    write(w / "apt" / "sources-503.list", f"deb [trusted=yes] {h}/s503/debian bookworm main\n")
    write(w / "apt" / "status", "")
    (w / "apt" / "lists" / "partial").mkdir(parents=True)
    (w / "apt" / "cache" / "archives" / "partial").mkdir(parents=True)
    (w / "dpkg-admin" / "updates").mkdir(parents=True)
    write(w / "dpkg-admin" / "status", "")


def make_wheel(directory):
    """A valid wheel of 1 MiB, built by hand so no build backend is needed."""
    import base64
    import hashlib
    import zipfile

    name = "fixturepkg-1.0-py3-none-any.whl"
    files = {
        "fixturepkg/__init__.py": b"DATA = " + repr(os.urandom(1 << 20).hex()).encode() + b"\n",
        "fixturepkg-1.0.dist-info/METADATA": b"Metadata-Version: 2.1\nName: fixturepkg\nVersion: 1.0\n",
        "fixturepkg-1.0.dist-info/WHEEL": b"Wheel-Version: 1.0\nGenerator: fixtures\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    }
    record = []
    for path, data in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        record.append(f"{path},sha256={digest},{len(data)}")
    record.append("fixturepkg-1.0.dist-info/RECORD,,")
    files["fixturepkg-1.0.dist-info/RECORD"] = ("\n".join(record) + "\n").encode()
    with zipfile.ZipFile(directory / name, "w", zipfile.ZIP_STORED) as z:
        for path, data in files.items():
            z.writestr(path, data)


if __name__ == "__main__":
    main()
