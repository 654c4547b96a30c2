#!/usr/bin/env python3
"""Regenerates tests/corpus/{train,heldout}/l1-*.yml: real failures of real tools against faults
on this machine, labelled by construction (the fault injected is the label).

It complements scripts/gen-fixtures.py with other tools (go, ruby/gem/bundler, php/composer,
redis-cli, nc, rsync, svn, hg, git-lfs, make, cmake, psql, mysql, sqlite3, terraform, aws,
openssl, java, uv, poetry, httpie, twine, tox, yarn, pnpm, jest, mocha, vitest, tsc, eslint,
linters...) and other faults (410, slow bodies, Retry-After, self-signed certificates, `.invalid`
names, fake database and redis servers that refuse logins or are starting up, held sqlite,
terraform and hg locks, memory killed by a watchdog, `timeout(1)`, recover-like time limits).

Nothing leaves the machine: after the tools are installed (PyPI and npm packages into a cache
directory), the script re-executes itself in a new network namespace (`unshare -n -m`) whose
only interface is loopback, and every server and client runs there. DNS lookups fail there too,
which is the DNS fault.

Every fifth case in the order below goes to the held-out file, decided by that order alone.
Each log keeps at most 40 lines of the output (the first 8 and the last 32 of a longer one) (stdout and stderr together), with run-specific
paths and ports replaced.

Usage: scripts/gen-local-corpus.py [--tools DIR] [--only SUBSTRING]   (as root: unshare, mount)
"""

import http.server
import json
import os
import shutil
import signal
import socket
import socketserver
import ssl
import struct
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TRAIN = ROOT / "tests" / "corpus" / "train" / "l1-train.yml"
HELDOUT = ROOT / "tests" / "corpus" / "heldout" / "l1-heldout.yml"
CASE_LIMIT = 90
MAX_LINES = 40
PIP_TOOLS = ["uv", "poetry", "httpie", "requests", "pytest", "tox", "twine", "flake8", "mypy", "black", "ruff", "pylint"]
NPM_TOOLS = ["yarn", "pnpm", "jest", "mocha", "vitest", "typescript", "eslint@8"]


class Handler(http.server.BaseHTTPRequestHandler):
    """Answers by the first path segment: /s503/... (status), /r429/... (with Retry-After),
    /hang/, /slow/ (a body one byte a second), /empty/, /trunc/, /ok/."""

    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_HEAD(self):
        self.do_GET()

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        while length > 0:
            chunk = self.rfile.read(min(length, 65536))
            if not chunk:
                break
            length -= len(chunk)
        self.do_GET()

    def do_PUT(self):
        self.do_POST()

    def do_GET(self):
        head = self.path.strip("/").split("/")[0]
        if head == "hang":
            time.sleep(60)
            return
        if head == "empty":
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        if head == "trunc":
            self.send_response(200)
            self.send_header("Content-Length", "100000")
            self.end_headers()
            self.wfile.write(b"only ten b")
            self.wfile.flush()
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        if head == "slow":
            self.send_response(200)
            self.send_header("Content-Length", "100000")
            self.end_headers()
            try:
                for _ in range(60):
                    self.wfile.write(b"x")
                    self.wfile.flush()
                    time.sleep(1)
            except OSError:
                pass
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
            extra["WWW-Authenticate"] = 'Basic realm="corpus"'
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


def pg_error(severity, code, message):
    fields = b"".join(
        k + v.encode() + b"\0" for k, v in ((b"S", severity), (b"V", severity), (b"C", code), (b"M", message))
    ) + b"\0"
    return b"E" + struct.pack("!I", len(fields) + 4) + fields


def raw_server(behaviour, tls_context=None):
    """A TCP server on 127.0.0.1 that resets, hangs, sends garbage, speaks TLS with a
    self-signed certificate, or plays a postgres/redis server that refuses with a message."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)

    def handle(conn):
        conn.settimeout(10)
        try:
            if behaviour == "reset":
                try:
                    conn.recv(1024)
                except OSError:
                    pass
                conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            elif behaviour == "garbage":
                conn.recv(1024)
                conn.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n" * 4)
            elif behaviour == "tls":
                tls = tls_context.wrap_socket(conn, server_side=True)
                tls.recv(4096)
                tls.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nConnection: close\r\n\r\nok\n")
                tls.close()
            elif behaviour.startswith("pg-"):
                first = conn.recv(8)
                if len(first) == 8 and first[4:] == struct.pack("!I", 80877103):
                    conn.sendall(b"N")  # no SSL; the startup message follows
                    conn.recv(4096)
                code, message = {
                    "pg-auth": ("28P01", 'password authentication failed for user "ci"'),
                    "pg-starting": ("57P03", "the database system is starting up"),
                    "pg-nodb": ("3D000", 'database "app_test" does not exist'),
                    "pg-clients": ("53300", "sorry, too many clients already"),
                }[behaviour]
                conn.sendall(pg_error("FATAL", code, message))
            elif behaviour.startswith("redis-"):
                reply = {
                    "redis-noauth": b"-NOAUTH Authentication required.\r\n",
                    "redis-loading": b"-LOADING Redis is loading the dataset in memory\r\n",
                    "redis-oom": b"-OOM command not allowed when used memory > 'maxmemory'.\r\n",
                    "redis-wrongpass": b"-WRONGPASS invalid username-password pair or user is disabled.\r\n",
                }[behaviour]
                for _ in range(4):
                    if not conn.recv(4096):
                        break
                    conn.sendall(reply)
            else:  # hang
                time.sleep(60)
        except OSError:
            pass
        finally:
            conn.close()

    def serve():
        while True:
            conn, _ = sock.accept()
            threading.Thread(target=handle, args=(conn,), daemon=True).start()

    threading.Thread(target=serve, daemon=True).start()
    return sock.getsockname()[1]


def dead_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def ensure_tools(tools):
    """PyPI and npm tools in a cache directory, installed before the network goes away."""
    venv = tools / "venv"
    if not (venv / "bin" / "twine").exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(venv / "bin" / "pip"), "install", "-q", *PIP_TOOLS], check=True, timeout=900)
    node = tools / "node"
    if not (node / "node_modules" / ".bin" / "vitest").exists():
        node.mkdir(parents=True, exist_ok=True)
        if not (node / "package.json").exists():
            (node / "package.json").write_text('{"name": "corpus-tools", "version": "1.0.0"}\n')
        subprocess.run(["npm", "install", "--no-audit", "--no-fund", *NPM_TOOLS], cwd=node, check=True, timeout=900)


def main():
    args = sys.argv[1:]
    only = args[args.index("--only") + 1] if "--only" in args else None
    tools = Path(args[args.index("--tools") + 1]) if "--tools" in args else Path.home() / ".cache" / "recover-local-corpus"
    if os.environ.get("RECOVER_CORPUS_NETNS") != "1":
        ensure_tools(tools)
        env = dict(os.environ, RECOVER_CORPUS_NETNS="1")
        os.execvpe("unshare", ["unshare", "-n", "-m", "--", sys.executable, __file__, "--tools", str(tools), *(["--only", only] if only else [])], env)
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
    run_all(tools, only)


def run_all(tools, only):
    W = Path(tempfile.mkdtemp(prefix="recover-corpus-"))
    httpd = Server(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    HP = httpd.server_address[1]
    H = f"http://127.0.0.1:{HP}"
    cert, key = W / "cert.pem", W / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    ports = {}
    for name in ("reset", "hang", "garbage", "tls", "pg-auth", "pg-starting", "pg-nodb", "pg-clients",
                 "redis-noauth", "redis-loading", "redis-oom", "redis-wrongpass"):
        ports[name] = raw_server(name, ctx if name == "tls" else None)
    ports["dead"] = dead_port()
    P = ports
    RESET, HANG, GARBAGE, TLS, DEAD = P["reset"], P["hang"], P["garbage"], P["tls"], P["dead"]
    venv = tools / "venv" / "bin"
    nbin = tools / "node" / "node_modules" / ".bin"

    env = dict(os.environ)
    for proxy in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "no_proxy", "NO_PROXY"):
        env.pop(proxy, None)
    env.update(
        {
            "PATH": f"{nbin}:{env['PATH']}:{venv}",
            "NO_COLOR": "1",
            "FORCE_COLOR": "0",
            "TERM": "dumb",
            "CI": "true",
            "GIT_TERMINAL_PROMPT": "0",
            "GIT_CONFIG_NOSYSTEM": "1",
            "HOME": str(W / "home"),
            "RUSTUP_HOME": os.environ.get("RUSTUP_HOME", str(Path.home() / ".rustup")),
            "npm_config_cache": str(W / "npm-cache"),
            "npm_config_update_notifier": "false",
            "npm_config_fund": "false",
            "npm_config_audit": "false",
            "YARN_CACHE_FOLDER": str(W / "yarn-cache"),
            "PIP_DISABLE_PIP_VERSION_CHECK": "1",
            "PIP_NO_CACHE_DIR": "1",
            "PIP_CONFIG_FILE": "/dev/null",
            "PYTHONDONTWRITEBYTECODE": "1",
            "UV_CACHE_DIR": str(W / "uv-cache"),
            "UV_NO_PROGRESS": "1",
            "POETRY_CACHE_DIR": str(W / "poetry-cache"),
            "KUBECONFIG": "/dev/null",
            "GOPATH": str(W / "gopath"),
            "GOCACHE": str(W / "gocache"),
            "GOFLAGS": "-mod=mod",
            "GOSUMDB": "off",
            "GOTOOLCHAIN": "local",
            "GOPROXY": "off",
            "GEM_HOME": str(W / "gems"),
            "BUNDLE_PATH": str(W / "bundle"),
            "COMPOSER_HOME": str(W / "composer"),
            "COMPOSER_NO_INTERACTION": "1",
            "COMPOSER_ALLOW_SUPERUSER": "1",
            "TF_IN_AUTOMATION": "1",
            "CHECKPOINT_DISABLE": "1",
            "TF_CLI_CONFIG_FILE": str(W / "tf" / "none.tfrc"),
            "AWS_EC2_METADATA_DISABLED": "true",
            "AWS_CONFIG_FILE": "/dev/null",
            "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
            "AWS_MAX_ATTEMPTS": "1",
            "AWS_DEFAULT_REGION": "us-east-1",
            "PGCONNECT_TIMEOUT": "3",
            "ANSIBLE_HOST_KEY_CHECKING": "False",
            "ANSIBLE_NOCOLOR": "1",
            "DOCKER_CONFIG": str(W / "docker"),
        }
    )
    (W / "home").mkdir()
    setup(W, H, env)
    py = f"{venv}/python"
    aws_keys = "AWS_ACCESS_KEY_ID=AKIAEXAMPLE AWS_SECRET_ACCESS_KEY=secret"
    ssh_opts = "-o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o ConnectTimeout=3"
    npm_flags = "--no-audit --no-fund --fetch-retries=0 --fetch-timeout=3000"
    yarn = f"cd {W}/yarnproj && yarn install --non-interactive --network-timeout 3000"
    pnpm = f"cd {W}/yarnproj && pnpm install --config.fetch-retries=0 --config.fetch-timeout=3000 --no-frozen-lockfile"
    uv = f"cd {W} && uv pip install --python {py} --no-cache"
    gem = "gem install --clear-sources --no-document"
    svn = "svn --non-interactive"
    hg = "hg --config ui.interactive=false"
    redis = "redis-cli -e -h 127.0.0.1"
    psql = "psql -h 127.0.0.1 -U ci -d app_test -w -c 'select 1'"
    tf = f"cd {W}/tf/{{d}} && TF_CLI_CONFIG_FILE={W}/tf/{{rc}}.tfrc terraform init -input=false -no-color"
    mvn = f"cd {W}/mvn && mvn -B -q -Dmaven.repo.local={W}/m2-{{n}} -s {W}/mvn/settings-{{n}}.xml -Daether.connector.http.retryHandler.count=0 org.apache.maven.plugins:maven-dependency-plugin:3.6.1:resolve"
    kubectl = "kubectl --request-timeout=5s"
    lfs = f"cd {W}/lfsrepo-{{n}} && git -c lfs.url={{url}} lfs pull"
    composer = f"cd {W}/composer-{{n}} && composer install --no-progress --no-ansi"
    twine = f"{venv}/twine upload --non-interactive -u u -p p --disable-progress-bar"
    write(W / "tf" / "none.tfrc", "")

    # name, tool, command, category, why, options (limit: a recover-like time limit in seconds,
    # after which the process group gets SIGTERM; mem: MiB of resident memory after which it gets
    # SIGKILL, as the kernel's out-of-memory killer does)
    cases = [
        # go
        ("go-build-undefined", "go", f"cd {W}/go/build && go build ./...", "permanent", "a Go source calls an undefined function", {}),
        ("go-vet-printf", "go", f"cd {W}/go/vet && go vet ./...", "permanent", "go vet finds a Printf format mismatch", {}),
        ("go-test-assert", "go", f"cd {W}/go/testfail && go test ./...", "permanent", "a Go test fails its assertion", {}),
        ("go-test-timeout", "go", f"cd {W}/go/testslow && go test -timeout 2s ./...", "timeout", "go test -timeout 2s on a test that sleeps 30 s", {}),
        ("go-mod-refused", "go", f"cd {W}/go/dep && GOPROXY=http://127.0.0.1:{DEAD} go mod download", "network", "GOPROXY is a loopback port with nothing listening", {}),
        ("go-mod-503", "go", f"cd {W}/go/dep && GOPROXY={H}/s503 go mod download", "transient", "the module proxy answers 503", {}),
        ("go-mod-429", "go", f"cd {W}/go/dep && GOPROXY={H}/r429 go mod download", "rate_limit", "the module proxy answers 429 with Retry-After", {}),
        ("go-mod-404", "go", f"cd {W}/go/dep && GOPROXY={H}/s404 go mod download", "permanent", "the module proxy answers 404", {}),
        ("go-mod-410", "go", f"cd {W}/go/dep && GOPROXY={H}/s410 go mod download", "permanent", "the module proxy answers 410 Gone", {}),
        ("go-mod-reset", "go", f"cd {W}/go/dep && GOPROXY=http://127.0.0.1:{RESET} go mod download", "network", "the module proxy resets the connection", {}),
        ("go-mod-dns", "go", f"cd {W}/go/dep && GOPROXY=http://proxy.corpus.invalid go mod download", "network", "the module proxy's name does not resolve", {}),
        ("go-mod-selfsigned", "go", f"cd {W}/go/dep && GOPROXY=https://127.0.0.1:{TLS} go mod download", "permanent", "the module proxy's certificate is self-signed and not trusted", {}),
        ("go-mod-hang", "go", f"cd {W}/go/dep && GOPROXY=http://127.0.0.1:{HANG} go mod download", "timeout", "the module proxy never answers; the time limit (4 s) stops the step", {"limit": 4}),
        ("go-missing-package", "go", f"cd {W}/go/missing && go build ./...", "permanent", "the source imports a module that no go.mod requires (GOPROXY=off)", {}),
        ("go-run-panic", "go", f"cd {W}/go/panic && go run .", "permanent", "the program indexes past the end of a slice", {}),
        ("go-http-refused", "go", f"cd {W}/go/client && go run . http://127.0.0.1:{DEAD}/", "network", "a Go client connects to a port with nothing listening", {}),
        # ruby, gem, bundler
        ("ruby-syntax", "ruby", f"ruby {W}/rb/broken.rb", "permanent", "a Ruby file with a syntax error", {}),
        ("ruby-load-error", "ruby", "ruby -e 'require \"nosuchgem_corpus\"'", "permanent", "requires a gem that is not installed", {}),
        ("ruby-nomethod", "ruby", "ruby -e 'nil.upcase'", "permanent", "calls a method on nil", {}),
        ("ruby-net-refused", "ruby", f"ruby -rnet/http -e 'Net::HTTP.get(URI(\"http://127.0.0.1:{DEAD}/\"))'", "network", "Net::HTTP to a port with nothing listening", {}),
        ("ruby-net-readtimeout", "ruby", f"ruby -rnet/http -e 'Net::HTTP.start(\"127.0.0.1\", {HANG}, read_timeout: 2) {{|h| h.get(\"/\") }}'", "network", "Net::HTTP read timeout of 2 s against a server that never answers", {}),
        ("ruby-http-503", "ruby", f"ruby -rnet/http -e 'Net::HTTP.get_response(URI(\"{H}/s503/x\")).value'", "transient", "the server answers 503", {}),
        ("ruby-http-429", "ruby", f"ruby -rnet/http -e 'Net::HTTP.get_response(URI(\"{H}/r429/x\")).value'", "rate_limit", "the server answers 429", {}),
        ("ruby-minitest-fail", "ruby", f"ruby {W}/rb/test_math.rb", "permanent", "a minitest assertion fails", {}),
        ("ruby-enospc", "ruby", f"ruby -e 'File.write(\"{W}/tiny-rb/blob\", \"x\" * (1 << 20))'", "resource", "writes 1 MiB to a 256 KiB tmpfs", {"tiny": "tiny-rb"}),
        ("ruby-emfile", "ruby", "ulimit -n 24; ruby -e 'a = []; loop { a << File.open(\"/dev/null\") }'", "resource", "ulimit -n 24", {}),
        ("gem-refused", "gem", f"{gem} --source http://127.0.0.1:{DEAD}/ rake", "network", "the gem source is a port with nothing listening", {}),
        ("gem-503", "gem", f"{gem} --source {H}/s503/ rake", "transient", "the gem source answers 503", {}),
        ("gem-404", "gem", f"{gem} --source {H}/s404/ rake", "permanent", "the gem source answers 404", {}),
        ("gem-429", "gem", f"{gem} --source {H}/r429/ rake", "rate_limit", "the gem source answers 429", {}),
        ("gem-local-missing", "gem", f"{gem} --local nosuchgem-corpus", "permanent", "installs a gem that is in no local source", {}),
        ("bundle-refused", "bundler", f"cd {W}/bundle-dead && bundle install", "network", "the Gemfile source is a port with nothing listening", {}),
        ("bundle-503", "bundler", f"cd {W}/bundle-503 && bundle install", "transient", "the Gemfile source answers 503", {}),
        ("bundle-no-gemfile", "bundler", f"cd {W}/plain && bundle install", "permanent", "no Gemfile in the directory", {}),
        # php, composer
        ("php-parse-error", "php", f"php {W}/php/broken.php", "permanent", "a PHP file with a syntax error", {}),
        ("php-undefined-function", "php", "php -r 'nosuch_function_corpus();'", "permanent", "calls an undefined function", {}),
        ("php-http-refused", "php", f"php -r 'if (file_get_contents(\"http://127.0.0.1:{DEAD}/\") === false) exit(1);'", "network", "file_get_contents to a port with nothing listening", {}),
        ("php-http-503", "php", f"php -r 'if (file_get_contents(\"{H}/s503/x\") === false) exit(1);'", "transient", "the server answers 503", {}),
        ("php-memory-limit", "php", "php -d memory_limit=16M -r '$a = str_repeat(\"x\", 64 * 1024 * 1024);'", "resource", "memory_limit=16M, allocates 64 MiB", {}),
        ("composer-refused", "composer", composer.format(n="dead"), "network", "the composer repository is a port with nothing listening", {}),
        ("composer-503", "composer", composer.format(n="503"), "transient", "the composer repository answers 503", {}),
        ("composer-404", "composer", composer.format(n="404"), "permanent", "the composer repository answers 404", {}),
        ("composer-429", "composer", composer.format(n="429"), "rate_limit", "the composer repository answers 429", {}),
        ("composer-bad-json", "composer", f"cd {W}/composer-badjson && composer validate --no-ansi", "permanent", "composer.json is not valid JSON", {}),
        ("composer-unresolvable", "composer", composer.format(n="none"), "permanent", "requires a package that no repository has (packagist disabled)", {}),
        # redis-cli
        ("redis-refused", "redis-cli", f"{redis} -p {DEAD} ping", "network", "no redis server on the port", {}),
        ("redis-reset", "redis-cli", f"{redis} -p {RESET} ping", "network", "the server resets the connection", {}),
        ("redis-noauth", "redis-cli", f"{redis} -p {P['redis-noauth']} set k v", "permanent", "the server requires a password that was not given", {}),
        ("redis-loading", "redis-cli", f"{redis} -p {P['redis-loading']} get k", "transient", "the server is still loading its dataset", {}),
        ("redis-oom", "redis-cli", f"{redis} -p {P['redis-oom']} set k v", "resource", "the server is at maxmemory", {}),
        ("redis-wrongpass", "redis-cli", f"{redis} -p {P['redis-wrongpass']} --user ci --pass wrong --no-auth-warning ping", "permanent", "wrong password", {}),
        # nc
        ("nc-refused", "nc", f"nc -zv -w 2 127.0.0.1 {DEAD}", "network", "no server on the port", {}),
        ("nc-unreachable", "nc", "nc -zv -w 2 192.0.2.1 80", "network", "no route out of a loopback-only network namespace", {}),
        # rsync
        ("rsync-daemon-refused", "rsync", f"rsync -a rsync://127.0.0.1:{DEAD}/mod/ {W}/rs-dst/", "network", "no rsync daemon on the port", {}),
        ("rsync-daemon-reset", "rsync", f"rsync -a rsync://127.0.0.1:{RESET}/mod/ {W}/rs-dst/", "network", "the daemon resets the connection", {}),
        ("rsync-missing-source", "rsync", f"rsync -a {W}/nosuch-dir/ {W}/rs-dst/", "permanent", "the source directory does not exist", {}),
        ("rsync-disk-full", "rsync", f"rsync -a {W}/bigdir/ {W}/tiny-rsync/", "resource", "copies 1 MiB to a 256 KiB tmpfs", {"tiny": "tiny-rsync"}),
        ("rsync-ssh-refused", "rsync", f"rsync -a -e 'ssh {ssh_opts} -p {DEAD}' ci@127.0.0.1:/src/ {W}/rs-dst/", "network", "ssh to a port with nothing listening", {}),
        ("rsync-bad-flag", "rsync", f"rsync --nosuch-flag {W}/bigdir/ {W}/rs-dst/", "permanent", "an unknown option", {}),
        # svn
        ("svn-refused", "svn", f"{svn} checkout http://127.0.0.1:{DEAD}/repo {W}/svn1", "network", "no server on the port", {}),
        ("svn-reset", "svn", f"{svn} checkout http://127.0.0.1:{RESET}/repo {W}/svn6", "network", "the server resets the connection", {}),
        ("svn-no-repo", "svn", f"{svn} checkout file://{W}/nosuch-svn {W}/svn7", "permanent", "a file:// repository that does not exist", {}),
        # hg
        ("hg-refused", "hg", f"{hg} clone http://127.0.0.1:{DEAD}/repo {W}/hg1", "network", "no server on the port", {}),
        ("hg-503", "hg", f"{hg} clone {H}/s503/repo {W}/hg2", "transient", "the server answers 503", {}),
        ("hg-404", "hg", f"{hg} clone {H}/s404/repo {W}/hg3", "permanent", "the server answers 404", {}),
        ("hg-401", "hg", f"{hg} clone {H}/s401/repo {W}/hg4", "permanent", "the server asks for credentials that were not given", {}),
        ("hg-not-a-repo", "hg", f"cd {W}/plain && {hg} log", "permanent", "not inside a repository", {}),
        ("hg-lock-held", "hg", f"cd {W}/hgrepo && {hg} --config ui.timeout=1 commit -A -m x", "transient", "another process holds the repository lock", {}),
        ("hg-tls-garbage", "hg", f"{hg} clone https://127.0.0.1:{GARBAGE}/repo {W}/hg5", "network", "the server answers plain HTTP on a TLS connection", {}),
        # git-lfs
        ("lfs-refused", "git-lfs", lfs.format(n=1, url=f"http://127.0.0.1:{DEAD}/info/lfs"), "network", "the LFS endpoint is a port with nothing listening", {}),
        ("lfs-503", "git-lfs", lfs.format(n=2, url=f"{H}/s503/info/lfs"), "transient", "the LFS endpoint answers 503", {}),
        ("lfs-429", "git-lfs", lfs.format(n=3, url=f"{H}/r429/info/lfs"), "rate_limit", "the LFS endpoint answers 429 with Retry-After", {}),
        ("lfs-404", "git-lfs", lfs.format(n=4, url=f"{H}/s404/info/lfs"), "permanent", "the LFS endpoint answers 404", {}),
        ("lfs-401", "git-lfs", lfs.format(n=5, url=f"{H}/s401/info/lfs"), "permanent", "the LFS endpoint asks for credentials that were not given", {}),
        # git, other faults than the fixtures'
        ("git-merge-conflict", "git", f"cd {W}/gitmerge && git merge -q other", "permanent", "both branches changed the same line", {}),
        ("git-push-non-ff", "git", f"cd {W}/gitpush && git push -q origin main", "transient", "the remote got a commit since the clone", {}),
        ("git-dns", "git", f"git clone http://git.corpus.invalid/r.git {W}/gd", "network", "the host name does not resolve", {}),
        ("git-unknown-revision", "git", f"cd {W}/repo && git log nosuch-rev-corpus", "permanent", "a revision that does not exist", {}),
        ("git-selfsigned", "git", f"git clone https://127.0.0.1:{TLS}/r.git {W}/gs", "permanent", "the server's certificate is self-signed and not trusted", {}),
        ("git-ref-lock", "git", f"cd {W}/repo && touch .git/refs/heads/main.lock && git commit -q --allow-empty -m x; rc=$?; rm -f .git/refs/heads/main.lock; exit $rc", "transient", "another process holds the branch's ref lock", {}),
        ("git-low-speed", "git", f"GIT_HTTP_LOW_SPEED_LIMIT=1000 GIT_HTTP_LOW_SPEED_TIME=2 git clone {H}/slow/r.git {W}/gl", "network", "the server sends one byte a second; git's low-speed limit stops the transfer", {}),
        ("git-clone-disk-full", "git", f"git clone -q file://{W}/bigrepo {W}/tiny-git/clone", "resource", "clones a 1 MiB repository onto a 256 KiB tmpfs", {"tiny": "tiny-git"}),
        # make, cmake, g++
        ("make-no-rule", "make", f"cd {W}/make && make nosuch-target", "permanent", "a target that the Makefile does not have", {}),
        ("make-no-makefile", "make", f"cd {W}/plain && make", "permanent", "no Makefile", {}),
        ("make-cc-error", "make", f"cd {W}/make && make broken", "permanent", "the recipe's C compile fails", {}),
        ("make-curl-refused", "make", f"cd {W}/make && make fetch URL=http://127.0.0.1:{DEAD}/dep.tgz", "network", "the recipe downloads from a port with nothing listening", {}),
        ("make-missing-command", "make", f"cd {W}/make && make gen", "permanent", "the recipe runs a command that is not installed", {}),
        ("make-timeout", "make", f"cd {W}/make && timeout 2 make slow", "timeout", "timeout 2 around a recipe that sleeps 30 s", {}),
        ("cmake-fatal", "cmake", f"cmake -S {W}/cmake/fatal -B {W}/cmake/b1", "permanent", "CMakeLists.txt stops with FATAL_ERROR", {}),
        ("cmake-find-package", "cmake", f"cmake -S {W}/cmake/pkg -B {W}/cmake/b2", "permanent", "find_package of a package that is not installed, REQUIRED", {}),
        ("cmake-build-error", "cmake", f"cmake -S {W}/cmake/cxx -B {W}/cmake/b3 >/dev/null && cmake --build {W}/cmake/b3", "permanent", "the C++ source does not compile", {}),
        ("cmake-no-source", "cmake", f"cmake -S {W}/nosuch-src -B {W}/cmake/b4", "permanent", "the source directory does not exist", {}),
        ("gxx-template", "g++", f"g++ -c {W}/cxx/broken.cpp -o {W}/cxx/broken.o", "permanent", "a C++ type error", {}),
        # psql, mysql, sqlite3
        ("psql-refused", "psql", f"{psql} -p {DEAD}", "network", "no server on the port", {}),
        ("psql-hang", "psql", f"{psql} -p {HANG}", "network", "the server accepts and never answers; PGCONNECT_TIMEOUT=3", {}),
        ("psql-reset", "psql", f"{psql} -p {RESET}", "network", "the server resets the connection", {}),
        ("psql-auth", "psql", f"{psql} -p {P['pg-auth']}", "permanent", "the server refuses the password", {}),
        ("psql-starting", "psql", f"{psql} -p {P['pg-starting']}", "transient", "the server is starting up", {}),
        ("psql-no-database", "psql", f"{psql} -p {P['pg-nodb']}", "permanent", "the database does not exist", {}),
        ("mysql-refused", "mysql", f"mysql -h 127.0.0.1 -P {DEAD} -u ci -e 'select 1'", "network", "no server on the port", {}),
        ("mysql-hang", "mysql", f"mysql -h 127.0.0.1 -P {HANG} --connect-timeout=2 -u ci -e 'select 1'", "network", "the server accepts and never answers", {}),
        ("mysql-reset", "mysql", f"mysql -h 127.0.0.1 -P {RESET} -u ci -e 'select 1'", "network", "the server resets the connection", {}),
        ("sqlite-locked", "sqlite3", f"sqlite3 -cmd '.timeout 300' {W}/locked.db 'insert into t values (2)'", "transient", "another process holds an exclusive lock on the database", {"sqlite_lock": True}),
        ("sqlite-syntax", "sqlite3", f"sqlite3 {W}/ok.db 'selec 1'", "permanent", "an SQL syntax error", {}),
        ("sqlite-no-table", "sqlite3", f"sqlite3 {W}/ok.db 'select * from nosuch'", "permanent", "the table does not exist", {}),
        ("sqlite-disk-full", "sqlite3", f"sqlite3 {W}/tiny-sqlite/db.sqlite 'create table t(x); insert into t select randomblob(1000) from generate_series(1, 2000)' || sqlite3 {W}/tiny-sqlite/db.sqlite 'with recursive c(i) as (select 1 union all select i+1 from c where i < 2000) insert into t select randomblob(1000) from c'", "resource", "fills a 256 KiB tmpfs", {"tiny": "tiny-sqlite"}),
        # terraform
        ("tf-unsupported-argument", "terraform", f"cd {W}/tf/bad && terraform validate -no-color", "permanent", "a resource block with an argument it does not have", {}),
        ("tf-hcl-syntax", "terraform", f"cd {W}/tf/syntax && terraform validate -no-color", "permanent", "an HCL syntax error", {}),
        ("tf-mirror-refused", "terraform", tf.format(d="prov", rc="dead"), "network", "the provider mirror is a port with nothing listening", {}),
        ("tf-mirror-503", "terraform", tf.format(d="prov", rc="503"), "transient", "the provider mirror answers 503", {}),
        ("tf-mirror-404", "terraform", tf.format(d="prov", rc="404"), "permanent", "the provider mirror answers 404", {}),
        ("tf-mirror-429", "terraform", tf.format(d="prov", rc="429"), "rate_limit", "the provider mirror answers 429", {}),
        ("tf-state-lock", "terraform", f"cd {W}/tf/lock && terraform apply -input=false -auto-approve -no-color -lock-timeout=1s", "transient", "another process holds the state lock", {"tf_lock": True}),
        ("tf-http-backend-refused", "terraform", tf.format(d="httpbackend", rc="none"), "network", "the http backend is a port with nothing listening", {}),
        # aws
        ("aws-s3-refused", "aws", f"{aws_keys} aws s3 ls --endpoint-url http://127.0.0.1:{DEAD}", "network", "the endpoint is a port with nothing listening", {}),
        ("aws-s3-503", "aws", f"{aws_keys} aws s3 ls --endpoint-url {H}/s503", "transient", "the endpoint answers 503", {}),
        ("aws-s3-403", "aws", f"{aws_keys} aws s3 ls --endpoint-url {H}/s403", "permanent", "the endpoint answers 403", {}),
        ("aws-s3-429", "aws", f"{aws_keys} aws s3 ls --endpoint-url {H}/r429", "rate_limit", "the endpoint answers 429", {}),
        ("aws-no-credentials", "aws", f"aws s3 ls --endpoint-url {H}/ok", "permanent", "no credentials anywhere", {}),
        ("aws-read-timeout", "aws", f"{aws_keys} aws s3 ls --cli-read-timeout 2 --endpoint-url http://127.0.0.1:{HANG}", "network", "the endpoint never answers; read timeout 2 s", {}),
        ("aws-s3-404", "aws", f"{aws_keys} aws s3 ls s3://corpus-bucket --endpoint-url {H}/s404", "permanent", "the endpoint answers 404", {}),
        ("aws-dns", "aws", f"{aws_keys} aws s3 ls --endpoint-url http://s3.corpus.invalid", "network", "the endpoint's name does not resolve", {}),
        # kubectl, other faults than the fixtures'
        ("kubectl-429", "kubectl", f"{kubectl} --server {H}/r429 get pods", "rate_limit", "the API server answers 429", {}),
        ("kubectl-500", "kubectl", f"{kubectl} --server {H}/s500 get pods", "transient", "the API server answers 500", {}),
        ("kubectl-no-config", "kubectl", "kubectl get pods", "permanent", "no kubeconfig: kubectl falls back to localhost:8080", {}),
        ("kubectl-hang", "kubectl", f"kubectl --request-timeout=2s --server http://127.0.0.1:{HANG} get pods", "network", "the API server never answers; request timeout 2 s", {}),
        # openssl
        ("openssl-refused", "openssl", f"openssl s_client -connect 127.0.0.1:{DEAD} </dev/null", "network", "no server on the port", {}),
        ("openssl-selfsigned", "openssl", f"openssl s_client -connect 127.0.0.1:{TLS} -verify_return_error -brief </dev/null", "permanent", "the certificate is self-signed and not trusted", {}),
        ("openssl-garbage", "openssl", f"openssl s_client -connect 127.0.0.1:{GARBAGE} -brief </dev/null", "network", "the server answers plain HTTP on a TLS connection", {}),
        ("openssl-missing-file", "openssl", f"openssl x509 -in {W}/nosuch.pem -noout", "permanent", "the certificate file does not exist", {}),
        # java, maven, gradle
        ("java-heap", "java", f"java -Xmx16m {W}/java/Hog.java", "resource", "-Xmx16m and a program that keeps allocating", {}),
        ("java-refused", "java", f"java {W}/java/Get.java http://127.0.0.1:{DEAD}/", "network", "HttpURLConnection to a port with nothing listening", {}),
        ("java-no-main-class", "java", f"cd {W} && java -cp . NoSuchMainCorpus", "permanent", "the main class does not exist", {}),
        ("java-read-timeout", "java", f"java {W}/java/Get.java http://127.0.0.1:{HANG}/", "network", "the server never answers; read timeout 2 s", {}),
        ("mvn-401", "maven", mvn.format(n="401"), "permanent", "the repository mirror asks for credentials that were not given", {}),
        ("gradle-script-error", "gradle", f"cd {W}/gradle/bad && gradle --offline --no-daemon -q help", "permanent", "build.gradle calls a method that does not exist", {}),
        ("gradle-dep-refused", "gradle", f"cd {W}/gradle/dead && gradle --no-daemon -q dependencies --configuration compile", "network", "the maven repository is a port with nothing listening", {}),
        ("gradle-dep-503", "gradle", f"cd {W}/gradle/s503 && gradle --no-daemon -q dependencies --configuration compile", "transient", "the maven repository answers 503", {}),
        # uv, poetry, httpie, twine, tox
        ("uv-refused", "uv", f"{uv} --index-url http://127.0.0.1:{DEAD}/simple six", "network", "the index is a port with nothing listening", {}),
        ("uv-503", "uv", f"{uv} --index-url {H}/s503/simple six", "transient", "the index answers 503", {}),
        ("uv-429", "uv", f"{uv} --index-url {H}/r429/simple six", "rate_limit", "the index answers 429", {}),
        ("uv-404", "uv", f"{uv} --index-url {H}/s404/simple nosuchpkg-corpus", "permanent", "the index answers 404: no such package", {}),
        ("uv-hang", "uv", f"{uv} --index-url http://127.0.0.1:{HANG}/simple six", "timeout", "the index never answers; the time limit (4 s) stops the step", {"limit": 4}),
        ("uv-run-missing-module", "uv", f"cd {W}/py && uv run --no-project --python {py} python -c 'import nosuchmodule_corpus'", "permanent", "imports a module that is not installed", {}),
        ("poetry-check-invalid", "poetry", f"cd {W}/poetry-bad && poetry check --no-ansi", "permanent", "pyproject.toml lacks required fields", {}),
        ("poetry-lock-refused", "poetry", f"cd {W}/poetry-dead && poetry lock --no-ansi", "network", "the package source is a port with nothing listening", {}),
        ("poetry-lock-503", "poetry", f"cd {W}/poetry-503 && poetry lock --no-ansi", "transient", "the package source answers 503", {}),
        ("httpie-refused", "httpie", f"http --ignore-stdin GET http://127.0.0.1:{DEAD}/", "network", "no server on the port", {}),
        ("httpie-503", "httpie", f"http --ignore-stdin --check-status GET {H}/s503/x", "transient", "the server answers 503", {}),
        ("httpie-429", "httpie", f"http --ignore-stdin --check-status GET {H}/r429/x", "rate_limit", "the server answers 429 with Retry-After", {}),
        ("httpie-404", "httpie", f"http --ignore-stdin --check-status GET {H}/s404/x", "permanent", "the server answers 404", {}),
        ("httpie-timeout", "httpie", f"http --ignore-stdin --timeout 2 GET http://127.0.0.1:{HANG}/", "network", "the server never answers; --timeout 2", {}),
        ("httpie-401", "httpie", f"http --ignore-stdin --check-status GET {H}/s401/x", "permanent", "the server asks for credentials that were not given", {}),
        ("twine-refused", "twine", f"{twine} --repository-url http://127.0.0.1:{DEAD}/legacy/ {W}/wheels/*.whl", "network", "the upload URL is a port with nothing listening", {}),
        ("twine-403", "twine", f"{twine} --repository-url {H}/s403/legacy/ {W}/wheels/*.whl", "permanent", "the repository answers 403", {}),
        ("twine-503", "twine", f"{twine} --repository-url {H}/s503/legacy/ {W}/wheels/*.whl", "transient", "the repository answers 503", {}),
        ("twine-check-missing", "twine", f"{venv}/twine check {W}/nosuch-*.whl", "permanent", "no distribution matches the pattern", {}),
        ("tox-command-fails", "tox", f"cd {W}/toxproj && tox -q -e check", "permanent", "the environment's command fails its check", {}),
        ("tox-deps-refused", "tox", f"cd {W}/toxproj && PIP_INDEX_URL=http://127.0.0.1:{DEAD}/simple tox -q -e deps", "network", "the index for the environment's deps is a port with nothing listening", {}),
        # pytest, other faults than the fixtures'
        ("pytest-refused-in-test", "pytest", f"cd {W}/py && {py} -m pytest -q -p no:cacheprovider test_net.py --url http://127.0.0.1:{DEAD}/", "network", "the test calls a service that is not running", {}),
        ("pytest-503-in-test", "pytest", f"cd {W}/py && {py} -m pytest -q -p no:cacheprovider test_net.py --url {H}/s503/x", "transient", "the service the test calls answers 503", {}),
        ("pytest-collect-import", "pytest", f"cd {W}/py && {py} -m pytest -q -p no:cacheprovider test_import.py", "permanent", "a test module imports a module that does not exist", {}),
        ("pytest-missing-fixture", "pytest", f"cd {W}/py && {py} -m pytest -q -p no:cacheprovider test_fixture.py", "permanent", "a test asks for a fixture that does not exist", {}),
        ("pytest-time-limit", "pytest", f"cd {W}/py && {py} -m pytest -q -p no:cacheprovider test_slow.py", "timeout", "a test sleeps 60 s; the time limit (4 s) stops the step", {"limit": 4}),
        # python linters and type checkers
        ("flake8-fail", "flake8", f"cd {W}/lint && flake8 bad.py", "permanent", "unused import and undefined name", {}),
        ("ruff-fail", "ruff", f"cd {W}/lint && ruff check --no-cache bad.py", "permanent", "unused import and undefined name", {}),
        ("mypy-fail", "mypy", f"cd {W}/lint && mypy --no-incremental typed.py", "permanent", "a type error", {}),
        ("black-check-fail", "black", f"cd {W}/lint && black --check ugly.py", "permanent", "a file that black would reformat", {}),
        ("pylint-fail", "pylint", f"cd {W}/lint && pylint --disable=C bad.py", "permanent", "unused import and undefined name", {}),
        ("shellcheck-fail", "shellcheck", f"shellcheck {W}/lint/bad.sh", "permanent", "an unquoted variable and a useless cat", {}),
        ("jq-parse-error", "jq", f"jq . {W}/lint/bad.json", "permanent", "the JSON file is not valid", {}),
        ("yq-bad-yaml", "yq", f"yq . {W}/lint/bad.yml", "permanent", "the YAML file is not valid", {}),
        # yarn, pnpm, jest, mocha, vitest, tsc, eslint
        ("yarn-refused", "yarn", f"{yarn} --registry http://127.0.0.1:{DEAD}/", "network", "the registry is a port with nothing listening", {}),
        ("yarn-503", "yarn", f"{yarn} --registry {H}/s503/", "transient", "the registry answers 503", {}),
        ("yarn-404", "yarn", f"{yarn} --registry {H}/s404/", "permanent", "the registry answers 404", {}),
        ("yarn-429", "yarn", f"{yarn} --registry {H}/r429/", "rate_limit", "the registry answers 429", {}),
        ("yarn-test-script", "yarn", f"cd {W}/jsproj && yarn run --silent test:jest", "permanent", "the test script's jest test fails", {}),
        ("pnpm-refused", "pnpm", f"{pnpm} --registry http://127.0.0.1:{DEAD}/", "network", "the registry is a port with nothing listening", {}),
        ("pnpm-503", "pnpm", f"{pnpm} --registry {H}/s503/", "transient", "the registry answers 503", {}),
        ("pnpm-404", "pnpm", f"{pnpm} --registry {H}/s404/", "permanent", "the registry answers 404", {}),
        ("pnpm-429", "pnpm", f"{pnpm} --registry {H}/r429/", "rate_limit", "the registry answers 429", {}),
        ("pnpm-hang", "pnpm", f"{pnpm} --registry http://127.0.0.1:{HANG}/", "network", "the registry never answers; fetch timeout 3 s", {}),
        ("jest-assert", "jest", f"cd {W}/jsproj && jest --ci sum.test.js", "permanent", "a jest assertion fails", {}),
        ("jest-test-timeout", "jest", f"cd {W}/jsproj && jest --ci --testTimeout=1000 slow.test.js", "timeout", "a test waits 10 s; jest's test timeout is 1 s", {}),
        ("jest-fetch-refused", "jest", f"cd {W}/jsproj && URL=http://127.0.0.1:{DEAD}/ jest --ci fetch.test.js", "network", "the test fetches from a service that is not running", {}),
        ("mocha-assert", "mocha", f"cd {W}/jsproj && mocha sum.spec.js", "permanent", "a mocha assertion fails", {}),
        ("mocha-timeout", "mocha", f"cd {W}/jsproj && mocha --timeout 1000 slow.spec.js", "timeout", "a test waits 10 s; mocha's timeout is 1 s", {}),
        ("vitest-assert", "vitest", f"cd {W}/jsproj && vitest run --reporter=default sum.vitest.test.js", "permanent", "a vitest assertion fails", {}),
        ("tsc-error", "tsc", f"cd {W}/jsproj && tsc --noEmit --pretty false bad.ts", "permanent", "a TypeScript type error", {}),
        ("eslint-error", "eslint", f"cd {W}/jsproj && eslint --no-eslintrc --env es2022 --rule 'no-unused-vars: error' --rule 'no-undef: error' lintme.js", "permanent", "an unused variable and an undefined name", {}),
        ("npm-ci-no-lockfile", "npm", f"cd {W}/yarnproj && npm ci {npm_flags} --registry http://127.0.0.1:{DEAD}/", "permanent", "npm ci without a package-lock.json", {}),
        ("npm-install-disk-full", "npm", f"cd {W}/tiny-npm && npm install {npm_flags} --offline --cache {W}/npmcache-full {W}/pkgs/big-1.0.0.tgz", "resource", "installs a 1 MiB package into a 256 KiB tmpfs", {"tiny": "tiny-npm", "tiny_pkg": True}),
        # time limits: timeout(1) and a recover-like limit
        ("timeout-curl-slow", "curl", f"timeout 2 curl -sS {H}/slow/x -o /dev/null", "timeout", "timeout 2 around a download of one byte a second", {}),
        ("timeout-psql-hang", "psql", f"PGCONNECT_TIMEOUT=0 timeout 2 {psql} -p {HANG}", "timeout", "timeout 2 around a connect to a server that never answers", {}),
        ("timeout-nc-hang", "nc", f"timeout 2 nc 127.0.0.1 {HANG}", "timeout", "timeout 2 around a connection that stays silent", {}),
        ("timeout-preserve-status", "python", "timeout --preserve-status 2 python3 -c 'while True: pass'", "timeout", "timeout --preserve-status 2 around a busy loop: exit 143", {}),
        ("timeout-kill", "ruby", "timeout -s KILL 2 ruby -e 'sleep 30'", "timeout", "timeout -s KILL 2 around a sleep: exit 137", {}),
        ("timeout-ssh-hang", "ssh", f"timeout 2 ssh -o BatchMode=yes -o ConnectTimeout=30 -p {HANG} ci@127.0.0.1 true", "timeout", "timeout 2 around ssh to a server that never sends its banner", {}),
        ("timeout-go-test", "go", f"cd {W}/go/testslow && timeout 3 go test -timeout 1h ./...", "timeout", "timeout 3 around go test of a test that sleeps", {}),
        ("limit-npm-hang", "npm", f"cd {W}/yarnproj && npm install {npm_flags.replace('3000', '600000')} --registry http://127.0.0.1:{HANG}/", "timeout", "the registry never answers; the time limit (5 s) stops the step", {"limit": 5}),
        ("limit-curl-slow", "curl", f"curl -sS {H}/slow/x -o {W}/slow.out", "timeout", "a download of one byte a second; the time limit (3 s) stops the step", {"limit": 3}),
        ("limit-mysql-hang", "mysql", f"mysql -h 127.0.0.1 -P {HANG} --connect-timeout=600 -u ci -e 'select 1'", "timeout", "a server that never answers; the time limit (3 s) stops the step", {"limit": 3}),
        # memory: killed by a watchdog as the out-of-memory killer does
        ("memkill-python", "python", "python3 -c 'a = []\nwhile True: a.append(bytearray(1 << 20))'", "resource", "allocates without end; SIGKILL at 200 MiB resident", {"mem": 200}),
        ("memkill-node", "node", "node -e 'const a = []; for (;;) a.push(Buffer.alloc(1 << 20, 1))'", "resource", "allocates without end; SIGKILL at 200 MiB resident", {"mem": 200}),
        ("memkill-ruby", "ruby", "ruby -e 'a = []; loop { a << (\"x\" * (1 << 20)) }'", "resource", "allocates without end; SIGKILL at 200 MiB resident", {"mem": 200}),
        ("memkill-perl", "perl", "perl -e 'my @a; while (1) { push @a, \"x\" x (1 << 20) }'", "resource", "allocates without end; SIGKILL at 200 MiB resident", {"mem": 200}),
        ("ulimit-v-java", "java", "ulimit -v 300000; java -version", "resource", "ulimit -v 300000: the JVM cannot reserve its heap", {}),
        ("ulimit-v-node", "node", "ulimit -v 200000; node -e 'const a = []; for (;;) a.push(new Array(1e6).fill(1))'", "resource", "ulimit -v 200000", {}),
        ("ulimit-n-go", "go", f"cd {W}/go/files && go build -o {W}/go/files/bin . && ulimit -n 20 && {W}/go/files/bin", "resource", "ulimit -n 20 and a program that opens files without end", {}),
        # other tools
        ("perl-syntax", "perl", "perl -e 'my $x = ;'", "permanent", "a Perl syntax error", {}),
        ("perl-missing-module", "perl", "perl -MNoSuch::CorpusModule -e 1", "permanent", "uses a module that is not installed", {}),
        ("lua-error", "lua", "lua5.4 -e 'error(\"config key missing\")'", "permanent", "a Lua script raises an error", {}),
        ("bash-unbound-variable", "bash", "set -u; echo \"$CORPUS_UNSET_VAR\"", "permanent", "set -u and an unset variable", {}),
        ("bash-missing-file", "bash", f"source {W}/nosuch-env.sh", "permanent", "sources a file that does not exist", {}),
        ("unzip-missing", "unzip", f"unzip -q {W}/nosuch.zip", "permanent", "the archive does not exist", {}),
        ("tar-truncated", "tar", f"head -c 2000 {W}/big.tgz > {W}/cut.tgz && tar xzf {W}/cut.tgz -C {W}/plain", "network", "a tarball cut short as by a broken download", {}),
        ("gpg-bad-signature", "gpg", f"gpg --homedir {W}/gnupg --batch --verify {W}/gpg/data.sig {W}/gpg/data.txt", "permanent", "the signature is over other data", {}),
        ("scp-refused", "scp", f"scp {ssh_opts} -P {DEAD} ci@127.0.0.1:/etc/hostname {W}/plain/", "network", "no server on the port", {}),
        ("sftp-hang", "sftp", f"sftp {ssh_opts.replace('ConnectTimeout=3', 'ConnectTimeout=2')} -P {HANG} ci@127.0.0.1", "network", "the server never sends its banner; ConnectTimeout=2", {}),
        ("ansible-unreachable", "ansible", f"ansible all -i 127.0.0.1:{DEAD}, -m ping -u ci -T 3", "network", "ssh to a port with nothing listening", {}),
        ("ansible-syntax", "ansible", f"ansible-playbook --syntax-check -i localhost, {W}/ansible/bad.yml", "permanent", "a playbook with an unknown module", {}),
        ("docker-login-refused", "docker", f"DOCKER_HOST=tcp://127.0.0.1:{DEAD} docker build -t x {W}/dockerctx", "permanent", "no Docker daemon", {}),
        ("curl-410", "curl", f"curl -sS -f {H}/s410/x", "permanent", "the server answers 410 Gone", {}),
        ("curl-selfsigned", "curl", f"curl -sS https://127.0.0.1:{TLS}/", "permanent", "the server's certificate is self-signed and not trusted", {}),
        ("wget-dns", "wget", "wget -t 1 -O /dev/null http://files.corpus.invalid/x.tgz", "network", "the host name does not resolve", {}),
        ("pip-410", "pip", f"{py} -m pip download --no-deps -d {W}/dl --retries 0 --index-url {H}/s410/simple six", "permanent", "the index answers 410 Gone", {}),
        ("pip-selfsigned", "pip", f"{py} -m pip download --no-deps -d {W}/dl --retries 0 --index-url https://127.0.0.1:{TLS}/simple six", "permanent", "the index's certificate is self-signed and not trusted", {}),
        # ---- second batch, appended after the first had been scored: the kinds of failure the
        # first batch lacked (tool exit codes, certificates and CA bundles, busy executables,
        # read-only disks, parse errors, conflicts, 4xx answers, more time limits). Appending keeps
        # every earlier case's place, so the held-out fifth of the first batch stays as it was.
        ("curl-cacert-missing", "curl", f"curl -sS --cacert {W}/nosuch-ca.pem https://127.0.0.1:{TLS}/", "permanent", "--cacert names a CA bundle that does not exist", {}),
        ("curl-empty-52", "curl", f"curl -sS {H}/empty/x", "network", "the server closes without an answer", {}),
        ("curl-partial-18", "curl", f"curl -sS {H}/trunc/x -o {W}/partial.bin", "network", "the server sends 10 of 100000 bytes and closes", {}),
        ("curl-dns-6", "curl", "curl -sS http://cdn.corpus.invalid/x.tgz", "network", "the host name does not resolve", {}),
        ("curl-tls-garbage-35", "curl", f"curl -sS https://127.0.0.1:{GARBAGE}/x", "network", "plain HTTP on a TLS connection", {}),
        ("curl-400", "curl", f"curl -sS -f -X POST -d x=1 {H}/s400/api", "permanent", "the server answers 400", {}),
        ("curl-422", "curl", f"curl -sS -f -X POST -d x=1 {H}/s422/api", "permanent", "the server answers 422", {}),
        ("curl-409", "curl", f"curl -sS -f -X PUT -d x=1 {H}/s409/api", "permanent", "the server answers 409", {}),
        ("curl-max-time", "curl", f"curl -sS -m 2 {H}/slow/x -o /dev/null", "timeout", "curl -m 2 on a download of one byte a second", {}),
        ("curl-write-disk-full", "curl", f"curl -sS {H}/slow/x -o /dev/full", "resource", "the output is /dev/full", {}),
        ("wget-410", "wget", f"wget -t 1 -O /dev/null {H}/s410/x", "permanent", "the server answers 410", {}),
        ("wget-500", "wget", f"wget -t 1 -O /dev/null {H}/s500/x", "transient", "the server answers 500", {}),
        ("wget-selfsigned", "wget", f"wget -t 1 -O /dev/null https://127.0.0.1:{TLS}/x", "permanent", "the certificate is self-signed and not trusted", {}),
        ("sha256-truncated", "sha256sum", f"cd {W} && sha256sum bigdir/blob > blob.sha256 && curl -s {H}/trunc/blob -o bigdir/blob; sha256sum -c blob.sha256", "network", "the download was cut short; the checksum does not match", {}),
        ("python-requests-selfsigned", "python", f"{py} -c 'import requests; requests.get(\"https://127.0.0.1:{TLS}/\")'", "permanent", "the certificate is self-signed and not trusted", {}),
        ("python-requests-422", "python", f"{py} -c 'import requests; requests.post(\"{H}/s422/api\", data=b\"x\").raise_for_status()'", "permanent", "the server answers 422", {}),
        ("python-requests-readtimeout", "python", f"{py} -c 'import requests; requests.get(\"{H}/hang/x\", timeout=2)'", "network", "the server never answers; read timeout 2 s", {}),
        ("python-incomplete-read", "python", f"{py} -c 'import http.client as h; c = h.HTTPConnection(\"127.0.0.1\", {HP}); c.request(\"GET\", \"/trunc/x\"); c.getresponse().read()'", "network", "the server sends 10 of 100000 bytes and closes", {}),
        ("python-json-error", "python", f"python3 -c 'import json; json.load(open(\"{W}/lint/bad.json\"))'", "permanent", "the JSON file is not valid", {}),
        ("python-file-missing", "python", f"python3 -c 'open(\"{W}/config/settings.ini\")'", "permanent", "the file does not exist", {}),
        ("python-readonly-fs", "python", f"python3 -c 'open(\"{W}/ro/out.txt\", \"w\")'", "permanent", "the directory is a read-only mount", {"ro": True}),
        ("python-module-missing-m", "python", "python3 -m corpus_nosuch_tool --check", "permanent", "runs a module that is not installed", {}),
        ("node-fetch-503", "node", f"node -e 'fetch(\"{H}/s503/x\").then(r => {{ if (!r.ok) throw new Error(`HTTP ${{r.status}} ${{r.statusText}}`) }})'", "transient", "the server answers 503", {}),
        ("node-fetch-selfsigned", "node", f"node -e 'fetch(\"https://127.0.0.1:{TLS}/\").catch(e => {{ console.error(e.cause); process.exit(1) }})'", "permanent", "the certificate is self-signed and not trusted", {}),
        ("node-json-parse", "node", f"node -e 'JSON.parse(require(\"fs\").readFileSync(\"{W}/lint/bad.json\", \"utf8\"))'", "permanent", "the JSON file is not valid", {}),
        ("node-esm-missing", "node", f"cd {W}/jsproj && node --input-type=module -e 'import \"corpus-nosuch-pkg\"'", "permanent", "imports a package that is not installed", {}),
        ("node-enoent", "node", f"node -e 'require(\"fs\").readFileSync(\"{W}/config/app.json\")'", "permanent", "the file does not exist", {}),
        ("npm-missing-script", "npm", f"cd {W}/jsproj && npm run build", "permanent", "package.json has no build script", {}),
        ("npm-whoami-401", "npm", f"cd {W}/jsproj && npm whoami --registry {H}/s401/", "permanent", "the registry asks for credentials that were not given", {}),
        ("npm-500", "npm", f"cd {W}/yarnproj && npm install {npm_flags} --registry {H}/s500/", "transient", "the registry answers 500", {}),
        ("npm-selfsigned", "npm", f"cd {W}/yarnproj && npm install {npm_flags} --registry https://127.0.0.1:{TLS}/", "permanent", "the registry's certificate is self-signed and not trusted", {}),
        ("cargo-test-panic", "cargo", f"cd {W}/crate-test && cargo test --offline -q", "permanent", "an assert_eq! fails", {}),
        ("cargo-missing-crate", "cargo", f"cd {W}/crate-dep && cargo build --offline", "permanent", "a dependency that is not in the offline registry", {}),
        ("cargo-registry-410", "cargo", f"cd {W}/crate-dep && cargo generate-lockfile --config 'source.crates-io.replace-with=\"m\"' --config 'source.m.registry=\"sparse+{H}/s410/\"' --config net.retry=0", "permanent", "the registry answers 410", {}),
        ("cargo-test-timeout", "cargo", f"cd {W}/crate-slow && timeout 20 cargo test --offline -q", "timeout", "timeout 20 around a test that sleeps 60 s", {}),
        ("busy-executable", "bash", f"cp /bin/true {W}/busy && exec 3>>{W}/busy && {W}/busy", "resource", "the executable is open for writing (ETXTBSY)", {}),
        ("bash-directory", "bash", f"{W}/plain", "permanent", "runs a directory", {}),
        ("bash-required-var", "bash", ": \"${CORPUS_DEPLOY_TOKEN:?must be set}\"", "permanent", "a required variable is unset", {}),
        ("bash-readonly-fs", "bash", f"echo x > {W}/ro/out.txt", "permanent", "the directory is a read-only mount", {"ro": True}),
        ("cp-disk-full", "cp", f"cp {W}/bigdir/blob {W}/tiny-cp/", "resource", "copies 1 MiB to a 256 KiB tmpfs", {"tiny": "tiny-cp"}),
        ("tar-missing", "tar", f"tar xzf {W}/nosuch.tgz", "permanent", "the archive does not exist", {}),
        ("git-rebase-conflict", "git", f"cd {W}/gitrebase && git rebase -q other", "permanent", "both branches changed the same line", {}),
        ("git-local-changes", "git", f"cd {W}/gitdirty && git checkout -q other", "permanent", "local changes would be overwritten", {}),
        ("git-http-410", "git", f"git clone {H}/s410/r.git {W}/g410", "permanent", "the server answers 410", {}),
        ("git-tls-garbage", "git", f"git clone https://127.0.0.1:{GARBAGE}/r.git {W}/gtg", "network", "plain HTTP on a TLS connection", {}),
        ("git-clone-time-limit", "git", f"git clone {H}/slow/r.git {W}/gtl", "timeout", "a server that sends one byte a second; the time limit (4 s) stops the step", {"limit": 4}),
        ("ssh-garbage-banner", "ssh", f"ssh {ssh_opts} -p {GARBAGE} ci@127.0.0.1 true", "network", "the server sends HTTP instead of an SSH banner", {}),
        ("go-test-refused", "go", f"cd {W}/go/nettest && go test ./...", "network", "the test dials a service that is not running", {}),
        ("go-test-time-limit", "go", f"cd {W}/go/testslow && go test ./...", "timeout", "a test sleeps 30 s; the time limit (6 s) stops the step", {"limit": 6}),
        ("pytest-read-timeout-in-test", "pytest", f"cd {W}/py && {py} -m pytest -q -p no:cacheprovider test_net.py --url {H}/hang/x", "network", "the service the test calls never answers (5 s read timeout)", {}),
        ("pytest-assert-quotes-network", "pytest", f"cd {W}/py && {py} -m pytest -q -p no:cacheprovider test_words.py", "permanent", "an assertion on an error message fails; the message names a refused connection", {}),
        ("pytest-timeout-1", "pytest", f"cd {W}/py && timeout 3 {py} -m pytest -q -p no:cacheprovider test_slow.py", "timeout", "timeout 3 around a test that sleeps 60 s", {}),
        ("vitest-timeout", "vitest", f"cd {W}/jsproj && vitest run --testTimeout=1000 slow.vitest.test.js", "timeout", "a test waits 10 s; vitest's test timeout is 1 s", {}),
        ("jest-module-missing", "jest", f"cd {W}/jsproj && jest --ci import.test.js", "permanent", "the test imports a module that does not exist", {}),
        ("tsc-missing-module", "tsc", f"cd {W}/jsproj && tsc --noEmit --pretty false imports.ts", "permanent", "imports a module that has no types or source", {}),
        ("kubectl-bad-yaml", "kubectl", f"kubectl apply --dry-run=client --validate=false -f {W}/lint/bad.yml", "permanent", "the manifest is not valid YAML", {}),
        ("kubectl-403-forbidden", "kubectl", f"{kubectl} --server {H}/s403 --token x get secrets", "permanent", "the API server answers 403", {}),
        ("terraform-fmt-check", "terraform", f"cd {W}/tf/fmt && terraform fmt -check -no-color", "permanent", "a file that terraform fmt would rewrite", {}),
        ("gcloud-no-account", "gcloud", "CLOUDSDK_CONFIG=/tmp/corpus-gcloud CLOUDSDK_CORE_DISABLE_PROMPTS=1 gcloud auth print-access-token", "permanent", "no account is logged in", {}),
        ("ruby-yaml-error", "ruby", f"ruby -ryaml -e 'YAML.load_file(\"{W}/lint/bad.yml\")'", "permanent", "the YAML file is not valid", {}),
        ("php-fatal-class", "php", "php -r 'new CorpusNoSuchClient();'", "permanent", "instantiates a class that does not exist", {}),
        ("composer-unreachable-dns", "composer", f"cd {W}/composer-dns && composer install --no-progress --no-ansi", "network", "the repository's host name does not resolve", {}),
        ("mysql-auth", "mysql", f"mysql -h 127.0.0.1 -P {P['pg-auth']} --connect-timeout=3 -u ci -e 'select 1'", "network", "the server speaks another protocol (a postgres server)", {}),
        ("psql-too-many-clients", "psql", f"{psql} -p {P['pg-clients']}", "transient", "the server has no free connection slot", {}),
        ("memkill-make", "make", f"cd {W}/make && make hog", "resource", "a recipe allocates without end; SIGKILL at 200 MiB resident", {"mem": 200}),
        ("memkill-java", "java", f"java -Xmx2g {W}/java/Hog.java", "resource", "allocates without end; SIGKILL at 250 MiB resident", {"mem": 250}),
        ("ulimit-n-python", "python", "ulimit -n 16; python3 -c 'import socket; s = [socket.socket() for _ in range(100)]'", "resource", "ulimit -n 16", {}),
        ("ulimit-v-ruby", "ruby", "ulimit -v 100000; ruby -e 'x = \"a\" * (400 * 1024 * 1024)'", "resource", "ulimit -v 100000", {}),
    ]

    names = [c[0] for c in cases]
    assert len(names) == len(set(names)), "case names must be unique"
    selected = [c for c in cases if not only or only in c[0]]
    lock_holders = start_locks(W)
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda c: run_case(c, W, env), selected))
    for holder in lock_holders:
        holder.kill() if isinstance(holder, subprocess.Popen) else holder.close()
    redactions = [(str(W), "/tmp/corpus"), (str(tools), "/opt/corpus-tools")]
    port_names = {HP: 40000}
    for i, (name, port) in enumerate(sorted(P.items())):
        port_names[port] = 40001 + i
    train, heldout = [], []
    for index, (case, (code, sig, timed_out, output, took)) in enumerate(zip(selected, results)):
        name, tool, _, category, why, _ = case
        log = tail(redact(output, redactions, port_names))
        position = names.index(name)
        target = heldout if position % 5 == 4 else train
        if code == 0:
            # A step that did not fail is no sample (gradle's `dependencies` reports FAILED
            # and exits 0), nor one the generator had to stop; it keeps its place in the order,
            # so the held-out fifth stays put.
            print(f"{name:28} exit   0: not a failure, left out", flush=True)
            continue
        target.append(
            {"id": f"l1-{tool}-{name}", "tool": tool, "source": f"local: scripts/gen-local-corpus.py case {name}",
             "category": category, "exit_code": code, "signal": sig, "timed_out": timed_out, "why": why, "log": log}
        )
        flag = "" if code != 0 else "  NO FAILURE"
        if code == 127 and "command not found" in log and category != "permanent":
            flag = "  TOOL MISSING"
        print(f"{name:28} exit {code:3} signal {sig} timed_out {timed_out!s:5} {took:5.1f}s{flag}", flush=True)
        if only:
            print(log)
    if not only:
        write_yaml(TRAIN, train, "training")
        write_yaml(HELDOUT, heldout, "held-out")
    subprocess.run(f"umount {W}/tiny-* {W}/ro {W}/ro 2>/dev/null", shell=True)
    shutil.rmtree(W, ignore_errors=True)


def run_case(case, w, env):
    name, tool, command, category, why, opts = case
    if "tiny" in opts:
        d = w / opts["tiny"]
        d.mkdir(exist_ok=True)
        subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(d)], check=True)
    if opts.get("ro"):
        d = w / "ro"
        d.mkdir(exist_ok=True)
        subprocess.run(["mount", "-t", "tmpfs", "-o", "ro,size=64k", "tmpfs", str(d)])
    started = time.monotonic()
    proc = subprocess.Popen(
        ["bash", "-c", command], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env, cwd=w,
        start_new_session=True,
    )
    chunks = []
    reader = threading.Thread(target=lambda: chunks.append(proc.stdout.read()), daemon=True)
    reader.start()
    limit = opts.get("limit", CASE_LIMIT)
    timed_out = False
    runaway = False
    while proc.poll() is None:
        if time.monotonic() - started > limit:
            timed_out = "limit" in opts
            runaway = not timed_out
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
            break
        if "mem" in opts:
            total, biggest = group_rss(proc.pid)
            if total > opts["mem"] << 20:
                # As the out-of-memory killer does: the biggest process only.
                os.kill(biggest, signal.SIGKILL)
        time.sleep(0.05)
    proc.wait()
    reader.join(10)
    try:
        os.killpg(proc.pid, signal.SIGKILL)  # nothing of the case outlives it
    except ProcessLookupError:
        pass
    output = b"".join(c for c in chunks if c)
    rc = proc.returncode
    sig = -rc if rc < 0 else None
    code = 0 if runaway else 128 + sig if sig else rc  # a runaway case is no sample
    return (code, sig, timed_out, output, time.monotonic() - started)


def group_rss(pgid):
    """The resident bytes of a process group, and its biggest process."""
    total, biggest, most = 0, pgid, -1
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[2]) == pgid:
                rss = int(fields[21]) * 4096
                total += rss
                if rss > most:
                    biggest, most = int(stat.parent.name), rss
        except (OSError, IndexError, ValueError):
            continue
    return total, biggest


def start_locks(w):
    import fcntl

    holders = []
    # sqlite: an exclusive transaction held open by another process.
    holders.append(subprocess.Popen(
        ["python3", "-c", f"import sqlite3, time\nc = sqlite3.connect('{w}/locked.db', isolation_level=None)\n"
         "c.execute('begin exclusive'); time.sleep(600)"]))
    # terraform: the local backend's lock is a POSIX lock on the state file.
    state = w / "tf" / "lock" / "terraform.tfstate"
    f = open(state, "a+")
    try:
        fcntl.lockf(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        pass
    holders.append(f)
    time.sleep(0.5)
    return holders


def tail(data):
    text = data.decode("utf-8", "replace").replace("\r\n", "\n")
    lines = [line.rstrip() for line in text.split("\n")]
    while lines and not lines[-1]:
        lines.pop()
    if len(lines) > MAX_LINES:
        # The first lines of a failure often name it (npm ci, go test's panic) and the last ones
        # sum it up: keep both ends.
        lines = lines[:8] + lines[-(MAX_LINES - 8):]
    while lines and not lines[0]:
        lines.pop(0)
    return "\n".join(lines) + "\n" if lines else "\n"


def redact(data, pairs, ports):
    for old, new in pairs:
        data = data.replace(old.encode(), new.encode())
    for port, fake in ports.items():
        for fmt in ("127.0.0.1:{}", "127.0.0.1]:{}", "port {}", "localhost:{}", "127.0.0.1', {}", "127.0.0.1\", {}", ":{}/"):
            data = data.replace(fmt.format(port).encode(), fmt.format(fake).encode())
    return data


def write_yaml(path, samples, what):
    path.parent.mkdir(parents=True, exist_ok=True)
    out = [
        f"# {what.capitalize()} samples made by scripts/gen-local-corpus.py: real tools failing against faults",
        "# on 127.0.0.1 in a loopback-only network namespace, labelled by the fault injected. Regenerate, do",
        "# not edit.",
    ]
    for s in samples:
        out.append(f"- id: {s['id']}")
        for key in ("tool", "source", "category", "exit_code", "signal", "timed_out", "why"):
            v = s[key]
            if v is None:
                v = "null"
            elif isinstance(v, bool):
                v = "true" if v else "false"
            elif isinstance(v, str):
                v = json.dumps(v)
            out.append(f"  {key}: {v}")
        log = s["log"]
        if any(ch < " " and ch not in "\t\n" for ch in log) or log.strip() == "":
            # Control bytes (ANSI colours) cannot stand in a block scalar: a JSON string is YAML.
            out.append(f"  log: {json.dumps(log)}")
            continue
        out.append("  log: |2")  # the indentation is explicit: a log's first line may be indented
        for line in log.rstrip("\n").split("\n"):
            out.append(f"    {line}" if line else "")
    path.write_text("\n".join(out) + "\n")


def write(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def sh(command, env=None):
    subprocess.run(command, shell=True, check=True, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def setup(w, h, env):
    dead = f"http://127.0.0.1:{dead_port()}"
    (w / "plain").mkdir()
    sh(f"git init -q {w}/repo && cd {w}/repo && git -c user.name=f -c user.email=f@f commit -q --allow-empty -m init")
    # go projects
    write(w / "go" / "build" / "go.mod", "module example.com/build\n\ngo 1.19\n")
    write(w / "go" / "build" / "main.go", 'package main\n\nimport "fmt"\n\nfunc main() {\n\tfmt.Printn("hi")\n}\n')
    write(w / "go" / "build2" / "go.mod", "module example.com/build2\n\ngo 1.19\n")
    write(w / "go" / "build2" / "main.go", 'package main\n\nimport (\n\t"fmt"\n\t"net/http"\n)\n\nfunc main() {\n\tfmt.Println(http.StatusOK)\n}\n')
    write(w / "go" / "vet" / "go.mod", "module example.com/vet\n\ngo 1.19\n")
    write(w / "go" / "vet" / "main.go", 'package main\n\nimport "fmt"\n\nfunc main() {\n\tfmt.Printf("%d\\n", "x")\n}\n')
    write(w / "go" / "testfail" / "go.mod", "module example.com/testfail\n\ngo 1.19\n")
    write(w / "go" / "testfail" / "sum_test.go", 'package sum\n\nimport "testing"\n\nfunc TestSum(t *testing.T) {\n\tif got := 1 + 1; got != 3 {\n\t\tt.Fatalf("sum = %d, want 3", got)\n\t}\n}\n')
    write(w / "go" / "testslow" / "go.mod", "module example.com/testslow\n\ngo 1.19\n")
    write(w / "go" / "testslow" / "slow_test.go", 'package slow\n\nimport (\n\t"testing"\n\t"time"\n)\n\nfunc TestSlow(t *testing.T) {\n\ttime.Sleep(30 * time.Second)\n}\n')
    write(w / "go" / "dep" / "go.mod", "module example.com/dep\n\ngo 1.19\n\nrequire github.com/pkg/errors v0.9.1\n")
    write(w / "go" / "missing" / "go.mod", "module example.com/missing\n\ngo 1.19\n")
    write(w / "go" / "missing" / "main.go", 'package main\n\nimport "github.com/corpus/nosuch"\n\nfunc main() { nosuch.Do() }\n')
    write(w / "go" / "panic" / "go.mod", "module example.com/panic\n\ngo 1.19\n")
    write(w / "go" / "panic" / "main.go", 'package main\n\nimport "os"\n\nfunc main() {\n\ta := os.Args\n\t_ = a[5]\n}\n')
    write(w / "go" / "client" / "go.mod", "module example.com/client\n\ngo 1.19\n")
    write(w / "go" / "client" / "main.go", 'package main\n\nimport (\n\t"log"\n\t"net/http"\n\t"os"\n)\n\nfunc main() {\n\tresp, err := http.Get(os.Args[1])\n\tif err != nil {\n\t\tlog.Fatal(err)\n\t}\n\tresp.Body.Close()\n}\n')
    write(w / "go" / "files" / "go.mod", "module example.com/files\n\ngo 1.19\n")
    write(w / "go" / "files" / "main.go", 'package main\n\nimport (\n\t"log"\n\t"os"\n)\n\nfunc main() {\n\tvar fs []*os.File\n\tfor {\n\t\tf, err := os.Open("/dev/null")\n\t\tif err != nil {\n\t\t\tlog.Fatal(err)\n\t\t}\n\t\tfs = append(fs, f)\n\t}\n}\n')
    # ruby
    write(w / "rb" / "broken.rb", "def retry_network(\n  puts 'connection refused'\nend\n")
    write(w / "rb" / "test_math.rb", 'require "minitest/autorun"\n\nclass TestMath < Minitest::Test\n  def test_add\n    assert_equal 3, 1 + 1\n  end\nend\n')
    for n, url in (("dead", dead), ("503", f"{h}/s503")):
        write(w / f"bundle-{n}" / "Gemfile", f'source "{url}/"\ngem "rake"\n')
    # php, composer
    write(w / "php" / "broken.php", "<?php\nfunction f( {\n  return 'timeout';\n}\n")
    for n, url in (("dead", dead), ("503", f"{h}/s503"), ("404", f"{h}/s404"), ("429", f"{h}/r429")):
        write(w / f"composer-{n}" / "composer.json", json.dumps({
            "name": "corpus/app", "repositories": [{"type": "composer", "url": f"{url}/repo"}, {"packagist.org": False}],
            "config": {"secure-http": False},
            "require": {"monolog/monolog": "^3.0"}}))
    write(w / "composer-none" / "composer.json", json.dumps({
        "name": "corpus/app", "repositories": [{"packagist.org": False}], "require": {"corpus/nosuch": "^1.0"}}))
    write(w / "composer-badjson" / "composer.json", '{"name": "corpus/app", "require": {"a/b": "^1.0",}}\n')
    # hg
    sh(f"hg init {w}/hgrepo && echo x > {w}/hgrepo/f && ln -s 'otherhost:99999' {w}/hgrepo/.hg/store/lock")
    # git-lfs repositories
    for n in range(1, 6):
        r = w / f"lfsrepo-{n}"
        sh(f"git init -q {r} && cd {r} && git lfs install --local >/dev/null && printf '*.bin filter=lfs diff=lfs merge=lfs -text\\n' > .gitattributes && "
           "printf 'version https://git-lfs.github.com/spec/v1\\noid sha256:4d7a214614ab2935c943f9e0ff69d22eadbb8f32b1258daaa5e2ca24d17e2393\\nsize 12345\\n' > data.bin && "
           "git -c user.name=f -c user.email=f@f -c filter.lfs.clean=cat -c filter.lfs.smudge=cat -c filter.lfs.required=false add . && "
           "git -c user.name=f -c user.email=f@f commit -q -m lfs")
    # git merge conflict and push race
    m = w / "gitmerge"
    sh(f"git init -q -b main {m} && cd {m} && echo a > f && git add f && git -c user.name=f -c user.email=f@f commit -q -m a && "
       "git checkout -q -b other && echo b > f && git -c user.name=f -c user.email=f@f commit -q -am b && git checkout -q main && "
       "echo c > f && git -c user.name=f -c user.email=f@f commit -q -am c && git config user.name f && git config user.email f@f")
    sh(f"git init -q --bare -b main {w}/bare.git && git clone -q {w}/bare.git {w}/gitpush && cd {w}/gitpush && "
       "git -c user.name=f -c user.email=f@f commit -q --allow-empty -m a && git push -q origin HEAD:main && "
       f"git clone -q {w}/bare.git {w}/gitother && cd {w}/gitother && git -c user.name=f -c user.email=f@f commit -q --allow-empty -m b && git push -q origin HEAD:main && "
       f"cd {w}/gitpush && git -c user.name=f -c user.email=f@f commit -q --allow-empty -m c")
    (w / "bigdir").mkdir()
    (w / "bigdir" / "blob").write_bytes(os.urandom(1 << 20))
    sh(f"git init -q {w}/bigrepo && cp {w}/bigdir/blob {w}/bigrepo/ && cd {w}/bigrepo && git add blob && git -c user.name=f -c user.email=f@f commit -q -m big")
    sh(f"tar czf {w}/big.tgz -C {w} bigdir")
    # make, cmake, c++
    write(w / "make" / "Makefile",
          "broken:\n\tcc -c broken.c -o broken.o\n\nfetch:\n\tcurl -sSf -o dep.tgz $(URL)\n\ngen:\n\tprotoc-corpus --go_out=. api.proto\n\nslow:\n\tsleep 30\n")
    write(w / "make" / "broken.c", "int main(void) {\n    return undeclared_thing;\n}\n")
    write(w / "cmake" / "fatal" / "CMakeLists.txt", 'cmake_minimum_required(VERSION 3.10)\nproject(demo C)\nmessage(FATAL_ERROR "CORPUS_SDK_ROOT is not set")\n')
    write(w / "cmake" / "pkg" / "CMakeLists.txt", "cmake_minimum_required(VERSION 3.10)\nproject(demo C)\nfind_package(CorpusNoSuchLib 2.0 REQUIRED)\n")
    write(w / "cmake" / "cxx" / "CMakeLists.txt", "cmake_minimum_required(VERSION 3.10)\nproject(demo CXX)\nadd_executable(demo main.cpp)\n")
    write(w / "cmake" / "cxx" / "main.cpp", "#include <vector>\nint main() {\n    std::vector<int> v;\n    v.push_back(\"retry later\");\n    return 0;\n}\n")
    write(w / "cxx" / "broken.cpp", "#include <string>\nstruct Client { int retries; };\nint main() {\n    Client c;\n    std::string s = c.retries;\n    return c.timeout;\n}\n")
    # sqlite
    sh(f"sqlite3 {w}/locked.db 'create table t(x)' && sqlite3 {w}/ok.db 'create table t(x)'")
    # terraform
    write(w / "tf" / "bad" / "main.tf", 'resource "terraform_data" "x" {\n  input = 1\n  retries = 3\n}\n')
    write(w / "tf" / "syntax" / "main.tf", 'resource "terraform_data" "x" {\n  input = \n}\n')
    write(w / "tf" / "prov" / "main.tf", 'terraform {\n  required_providers {\n    random = {\n      source = "hashicorp/random"\n      version = "3.6.0"\n    }\n  }\n}\n')
    for n, url in (("dead", dead), ("503", f"{h}/s503"), ("404", f"{h}/s404"), ("429", f"{h}/r429")):
        write(w / "tf" / f"{n}.tfrc", f'provider_installation {{\n  network_mirror {{\n    url = "{url}/providers/"\n  }}\n}}\n')
    write(w / "tf" / "lock" / "main.tf", 'resource "terraform_data" "x" {\n  input = 1\n}\n')
    write(w / "tf" / "lock" / "terraform.tfstate", "")
    write(w / "tf" / "httpbackend" / "main.tf", f'terraform {{\n  backend "http" {{\n    address = "{dead}/state"\n    retry_max = 1\n    retry_wait_min = 1\n    retry_wait_max = 1\n  }}\n}}\n')
    # java, maven, gradle
    write(w / "java" / "Hog.java", "import java.util.*;\npublic class Hog {\n  public static void main(String[] a) {\n    List<long[]> l = new ArrayList<>();\n    while (true) l.add(new long[1 << 16]);\n  }\n}\n")
    write(w / "java" / "Get.java",
          "import java.net.*;\nimport java.io.*;\npublic class Get {\n  public static void main(String[] a) throws Exception {\n"
          "    HttpURLConnection c = (HttpURLConnection) new URL(a[0]).openConnection();\n    c.setConnectTimeout(2000);\n    c.setReadTimeout(2000);\n"
          "    try (InputStream in = c.getInputStream()) { in.readAllBytes(); }\n  }\n}\n")
    write(w / "mvn" / "pom.xml",
          '<project xmlns="http://maven.apache.org/POM/4.0.0"><modelVersion>4.0.0</modelVersion>'
          "<groupId>c</groupId><artifactId>c</artifactId><version>1</version>"
          "<dependencies><dependency><groupId>junit</groupId><artifactId>junit</artifactId>"
          "<version>4.13.2</version></dependency></dependencies></project>\n")
    for n in ("401",):
        url = f"{h}/s{n}/m2"
        write(w / "mvn" / f"settings-{n}.xml",
              f"<settings><mirrors><mirror><id>corpus</id><mirrorOf>*</mirrorOf><url>{url}</url></mirror></mirrors></settings>\n")
    write(w / "gradle" / "bad" / "build.gradle", "plugins { id 'java' }\nretryPolicy { attempts = 3 }\n")
    write(w / "gradle" / "bad" / "settings.gradle", "rootProject.name = 'bad'\n")
    for n, url in (("dead", dead), ("s503", f"{h}/s503")):
        write(w / "gradle" / n / "settings.gradle", f"rootProject.name = '{n}'\n")
        write(w / "gradle" / n / "build.gradle",
              f"apply plugin: 'java'\nrepositories {{ maven {{ url '{url}/m2' }} }}\n"
              "dependencies { compile 'com.google.guava:guava:33.0.0-jre' }\n")
    # python: uv, poetry, twine, tox, pytest, linters
    write(w / "py" / "conftest.py", "def pytest_addoption(parser):\n    parser.addoption('--url')\n")
    write(w / "py" / "test_net.py",
          "import requests\n\ndef test_health(request):\n    r = requests.get(request.config.getoption('--url'), timeout=5)\n    r.raise_for_status()\n")
    write(w / "py" / "test_import.py", "import corpus_nosuch_helpers\n\ndef test_x():\n    assert corpus_nosuch_helpers.ok()\n")
    write(w / "py" / "test_fixture.py", "def test_db(database_url):\n    assert database_url\n")
    write(w / "py" / "test_slow.py", "import time\n\ndef test_slow():\n    time.sleep(60)\n")
    write(w / "poetry-bad" / "pyproject.toml", '[tool.poetry]\nname = "corpus"\n\n[tool.poetry.dependencies]\npython = "^3.8"\nrequests = { vresion = "^2" }\n')
    for n, url in (("dead", dead), ("503", f"{h}/s503")):
        write(w / f"poetry-{n}" / "pyproject.toml",
              '[tool.poetry]\nname = "corpus"\nversion = "0.1.0"\ndescription = ""\nauthors = ["c <c@c.c>"]\npackage-mode = false\n\n'
              '[tool.poetry.dependencies]\npython = "^3.8"\nsix = "*"\n\n'
              f'[[tool.poetry.source]]\nname = "mirror"\nurl = "{url}/simple/"\npriority = "primary"\n')
    write(w / "toxproj" / "tox.ini",
          "[tox]\nskipsdist = true\n\n[testenv:check]\nskip_install = true\ncommands = python -c \"import sys; sys.exit('version mismatch: 1.2 != 1.3')\"\n\n"
          "[testenv:deps]\nskip_install = true\ndeps = six\ncommands = python -c 'import six'\n")
    (w / "wheels").mkdir()
    make_wheel(w / "wheels")
    write(w / "lint" / "bad.py", "import os\n\n\ndef f():\n    return undefined_name\n")
    write(w / "lint" / "typed.py", "def f(x: int) -> str:\n    return x\n")
    write(w / "lint" / "ugly.py", "x = {  'a':1,\n'b' :2}\n")
    write(w / "lint" / "bad.sh", "#!/bin/sh\ncat $1 | grep x\n")
    write(w / "lint" / "bad.json", '{"a": 1,, "b": 2}\n')
    write(w / "lint" / "bad.yml", "a: 1\n b: 2\n- c\n")
    # js projects
    write(w / "yarnproj" / "package.json", '{"name": "corpus-yarn", "version": "1.0.0", "dependencies": {"left-pad": "1.3.0"}}\n')
    write(w / "jsproj" / "package.json", '{"name": "corpus-js", "version": "1.0.0", "scripts": {"test:jest": "jest --ci sum.test.js"}}\n')
    write(w / "jsproj" / "sum.test.js", "test('adds numbers', () => {\n  expect(1 + 1).toBe(3);\n});\n")
    write(w / "jsproj" / "slow.test.js", "test('waits for the server', async () => {\n  await new Promise((r) => setTimeout(r, 10000));\n});\n")
    write(w / "jsproj" / "fetch.test.js", "test('health', async () => {\n  const r = await fetch(process.env.URL);\n  expect(r.ok).toBe(true);\n});\n")
    write(w / "jsproj" / "sum.spec.js", "const assert = require('assert');\ndescribe('sum', () => {\n  it('adds', () => {\n    assert.strictEqual(1 + 1, 3);\n  });\n});\n")
    write(w / "jsproj" / "slow.spec.js", "describe('server', () => {\n  it('answers', (done) => {\n    setTimeout(done, 10000);\n  });\n});\n")
    write(w / "jsproj" / "sum.vitest.test.js", "import { test, expect } from 'vitest';\ntest('adds', () => {\n  expect(1 + 1).toBe(3);\n});\n")
    write(w / "jsproj" / "bad.ts", "const retries: number = 'three';\nexport { retries };\n")
    write(w / "jsproj" / "lintme.js", "const unused = 1;\nconsole.log(notDefined);\n")
    pkg = w / "pkgs" / "big"
    write(pkg / "package.json", '{"name": "big", "version": "1.0.0"}\n')
    (pkg / "blob.bin").write_bytes(os.urandom(1 << 20))
    sh(f"cd {w}/pkgs && tar czf big-1.0.0.tgz --transform 's,^big,package,' big")
    # gpg: a key, data, and a signature over other data
    sh(f"mkdir -p -m 700 {w}/gnupg {w}/gpg && gpg --homedir {w}/gnupg --batch --passphrase '' --quick-gen-key 'Corpus <c@c.c>' ed25519 sign never && "
       f"echo release > {w}/gpg/other.txt && echo tampered > {w}/gpg/data.txt && "
       f"gpg --homedir {w}/gnupg --batch --output {w}/gpg/data.sig --detach-sign {w}/gpg/other.txt")
    # second batch
    for name, body in (
        ("crate-test", "fn main() {}\n#[test]\nfn adds() { assert_eq!(1 + 1, 3); }\n"),
        ("crate-dep", "fn main() {}\n"),
        ("crate-slow", "fn main() {}\n#[test]\nfn waits() { std::thread::sleep(std::time::Duration::from_secs(60)); }\n"),
    ):
        deps = 'serde = "1"\n' if name == "crate-dep" else ""
        write(w / name / "Cargo.toml", f'[package]\nname = "{name.replace("-", "_")}"\nversion = "0.1.0"\nedition = "2021"\n\n[dependencies]\n{deps}')
        write(w / name / "src" / "main.rs", body)
    sh(f"cd {w}/crate-test && cargo build --offline --tests -q", env)
    sh(f"cd {w}/crate-slow && cargo build --offline --tests -q", env)
    for name, first in (("gitrebase", True), ("gitdirty", False)):
        r = w / name
        sh(f"git init -q -b main {r} && cd {r} && git config user.name f && git config user.email f@f && echo a > f && git add f && git commit -q -m a && "
           "git checkout -q -b other && echo b > f && git commit -q -am b && git checkout -q main && echo c > f && "
           + ("git commit -q -am c" if first else "true"))
    write(w / "go" / "nettest" / "go.mod", "module example.com/nettest\n\ngo 1.19\n")
    write(w / "go" / "nettest" / "api_test.go", f'package api\n\nimport (\n\t"net/http"\n\t"testing"\n)\n\nfunc TestHealth(t *testing.T) {{\n\tif _, err := http.Get("{dead}/health"); err != nil {{\n\t\tt.Fatal(err)\n\t}}\n}}\n')
    write(w / "py" / "test_words.py", "def message():\n    return 'connection refused'\n\ndef test_message():\n    assert message() == 'Connection refused by peer'\n")
    write(w / "jsproj" / "slow.vitest.test.js", "import { test } from 'vitest';\ntest('waits for the server', async () => {\n  await new Promise((r) => setTimeout(r, 10000));\n});\n")
    write(w / "jsproj" / "import.test.js", "const api = require('./src/corpus-api');\ntest('api', () => { expect(api).toBeDefined(); });\n")
    write(w / "jsproj" / "imports.ts", "import { retry } from 'corpus-nosuch-retry';\nexport const r = retry;\n")
    write(w / "tf" / "fmt" / "main.tf", 'resource "terraform_data" "x" {\ninput=1\n}\n')
    write(w / "composer-dns" / "composer.json", json.dumps({
        "name": "corpus/app", "repositories": [{"type": "composer", "url": "http://packages.corpus.invalid/repo"}, {"packagist.org": False}],
        "config": {"secure-http": False}, "require": {"monolog/monolog": "^3.0"}}))
    with open(w / "make" / "Makefile", "a") as f:
        f.write("\nhog:\n\tpython3 -c 'a = [bytearray(1 << 20) for _ in range(1 << 20)]'\n")
    write(w / "dockerctx" / "Dockerfile", "FROM alpine:3\nRUN true\n")
    write(w / "ansible" / "bad.yml", "- hosts: all\n  tasks:\n    - corpus_nosuch_module:\n        name: x\n")


def make_wheel(directory):
    """A valid wheel built by hand, so no build backend is needed."""
    import base64
    import hashlib
    import zipfile

    name = "corpuspkg-1.0-py3-none-any.whl"
    files = {
        "corpuspkg/__init__.py": b"X = 1\n",
        "corpuspkg-1.0.dist-info/METADATA": b"Metadata-Version: 2.1\nName: corpuspkg\nVersion: 1.0\n",
        "corpuspkg-1.0.dist-info/WHEEL": b"Wheel-Version: 1.0\nGenerator: corpus\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    }
    record = []
    for path, data in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        record.append(f"{path},sha256={digest},{len(data)}")
    record.append("corpuspkg-1.0.dist-info/RECORD,,")
    files["corpuspkg-1.0.dist-info/RECORD"] = ("\n".join(record) + "\n").encode()
    with zipfile.ZipFile(directory / name, "w") as z:
        for path, data in files.items():
            z.writestr(path, data)


if __name__ == "__main__":
    main()
