//! scripts/install.sh, run by bash as the action runs it: a release asset served from
//! 127.0.0.1, a tool cache in a temporary directory. The cache is checked on every use, the
//! install lock is only broken when its owner is really gone or the lock itself is old, and
//! nothing of the runner's shell start-up files runs before the script.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

const TAG: &str = "v9.9.9";
const ASSET: &str = "recover-v9.9.9-x86_64-unknown-linux-musl.tar.gz";

/// A fake action checkout with a pinned release, a server for its asset and a tool cache.
struct Setup {
    dir: tempfile::TempDir,
    url: String,
    requests: Arc<AtomicUsize>,
}

impl Setup {
    fn new() -> Setup {
        let dir = tempfile::Builder::new()
            .prefix("recover-install-")
            .tempdir()
            .unwrap();
        let root = dir.path();
        std::fs::set_permissions(root, std::fs::Permissions::from_mode(0o755)).unwrap();
        let action = root.join("action");
        std::fs::create_dir_all(action.join("scripts")).unwrap();
        std::fs::create_dir_all(action.join("dist/checksums")).unwrap();
        std::fs::copy(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/install.sh"),
            action.join("scripts/install.sh"),
        )
        .unwrap();
        let build = root.join("build");
        std::fs::create_dir(&build).unwrap();
        std::fs::write(build.join("recover"), "#!/bin/sh\necho good\n").unwrap();
        std::fs::set_permissions(
            build.join("recover"),
            std::fs::Permissions::from_mode(0o755),
        )
        .unwrap();
        let archive = root.join(ASSET);
        let status = Command::new("tar")
            .arg("-czf")
            .arg(&archive)
            .arg("-C")
            .arg(&build)
            .arg("recover")
            .status()
            .unwrap();
        assert!(status.success());
        let bytes = std::fs::read(&archive).unwrap();
        let sum = sha256_hex(&bytes);
        std::fs::write(
            action.join(format!("dist/checksums/{TAG}.sha256")),
            format!("{sum}  {ASSET}\n"),
        )
        .unwrap();
        let cache = root.join("cache");
        std::fs::create_dir(&cache).unwrap();
        std::fs::set_permissions(&cache, std::fs::Permissions::from_mode(0o777)).unwrap();
        let (url, requests) = serve(bytes);
        Setup { dir, url, requests }
    }

    fn cache(&self) -> PathBuf {
        self.dir.path().join("cache")
    }

    fn entry(&self) -> PathBuf {
        self.cache().join("recover/9.9.9")
    }

    fn binary(&self) -> PathBuf {
        self.entry().join("x64/recover")
    }

    /// install.sh as action.yml runs it, with `prefix` (e.g. `timeout 5`) before bash.
    fn command(&self, prefix: &[&str]) -> Command {
        let mut argv: Vec<String> = prefix.iter().map(|s| (*s).to_owned()).collect();
        argv.extend(
            ["env", "-u", "BASH_ENV", "bash", "--noprofile", "--norc"]
                .iter()
                .map(|s| (*s).to_owned()),
        );
        let mut command = Command::new(&argv[0]);
        command
            .args(&argv[1..])
            .arg(self.dir.path().join("action/scripts/install.sh"));
        self.action_env(&mut command);
        command
    }

    /// The environment the action gives the install step, and nothing else.
    fn action_env(&self, command: &mut Command) {
        command
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("GITHUB_ACTION_PATH", self.dir.path().join("action"))
            .env("INPUT_INSTALL", "download")
            .env("RECOVER_ACTION_REF", TAG)
            .env("RECOVER_ACTION_REPOSITORY", "owner/recover")
            .env("GITHUB_SERVER_URL", &self.url)
            .env("RUNNER_TOOL_CACHE", self.cache())
            .env("RUNNER_OS", "Linux")
            .env("RUNNER_ARCH", "X64");
    }

    fn install(&self) -> Output {
        let out = self.command(&[]).output().unwrap();
        assert!(out.status.success(), "{}", text(&out));
        out
    }
}

fn text(out: &Output) -> String {
    format!(
        "--- status {:?}\n--- stdout\n{}\n--- stderr\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest as _;
    use std::fmt::Write as _;
    sha2::Sha256::digest(bytes)
        .iter()
        .fold(String::new(), |mut hex, b| {
            let _ = write!(hex, "{b:02x}");
            hex
        })
}

/// Serves `body` for every request on 127.0.0.1; counts the requests.
fn serve(body: Vec<u8>) -> (String, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let count = Arc::new(AtomicUsize::new(0));
    let seen = Arc::clone(&count);
    std::thread::spawn(move || {
        for mut stream in listener.incoming().flatten() {
            let mut buffer = [0u8; 4096];
            let mut request = Vec::new();
            while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                match stream.read(&mut buffer) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => request.extend_from_slice(&buffer[..n]),
                }
            }
            seen.fetch_add(1, Ordering::SeqCst);
            let head = format!(
                "HTTP/1.1 200 OK\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                body.len()
            );
            let _ = stream.write_all(head.as_bytes());
            let _ = stream.write_all(&body);
        }
    });
    (url, count)
}

fn host() -> String {
    let out = Command::new("uname").arg("-n").output().unwrap();
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

fn is_root() -> bool {
    use std::os::unix::fs::MetadataExt as _;
    std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0)
}

#[test]
fn a_cached_binary_is_checked_against_the_pinned_sha256_on_every_use() {
    let setup = Setup::new();
    setup.install();
    assert_eq!(setup.requests.load(Ordering::SeqCst), 1);
    let out = setup.install();
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("found in the tool cache (sha256 verified)"),
        "{}",
        text(&out)
    );
    assert_eq!(
        setup.requests.load(Ordering::SeqCst),
        1,
        "used from the cache"
    );

    // A binary replaced in the cache, marker and all, is not run: the archive kept beside it no
    // longer holds it, so the release is fetched and checked again.
    let evil = "#!/bin/sh\necho evil\n";
    std::fs::write(setup.binary(), evil).unwrap();
    std::fs::write(
        setup.entry().join("x64.complete"),
        format!("{}\n", sha256_hex(evil.as_bytes())),
    )
    .unwrap();
    let out = setup.install();
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("does not match its checksum"),
        "{}",
        text(&out)
    );
    assert_eq!(setup.requests.load(Ordering::SeqCst), 2, "fetched again");
    assert_eq!(
        std::fs::read_to_string(setup.binary()).unwrap(),
        "#!/bin/sh\necho good\n"
    );

    // So is a cache whose kept archive was replaced as well.
    std::fs::write(setup.entry().join("x64").join(ASSET), "not the release").unwrap();
    let out = setup.install();
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("does not match its checksum"),
        "{}",
        text(&out)
    );
    assert_eq!(setup.requests.load(Ordering::SeqCst), 3);
}

#[test]
fn a_lock_held_by_a_live_process_of_another_user_is_not_broken() {
    if !is_root() {
        eprintln!("skipped: needs root to run the script as another user (setpriv)");
        return;
    }
    let setup = Setup::new();
    let lock = setup.entry().join("x64.lock");
    std::fs::create_dir_all(&lock).unwrap();
    // This test process (root) holds the lock; the script runs as nobody, so `kill -0` on the
    // owner gives EPERM, not ESRCH.
    std::fs::write(
        lock.join("owner"),
        format!("{} {}\n", std::process::id(), host()),
    )
    .unwrap();
    let out = setup
        .command(&[
            "timeout",
            "4",
            "setpriv",
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
            "--",
        ])
        .env("RECOVER_INSTALL_LOCK_TIMEOUT", "600")
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(124),
        "still waiting\n{}",
        text(&out)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(!stdout.contains("breaking"), "{}", text(&out));
    assert!(
        stdout.contains("waiting for another job to finish installing"),
        "{}",
        text(&out)
    );
    assert!(lock.join("owner").exists());
    assert_eq!(setup.requests.load(Ordering::SeqCst), 0);
}

#[test]
fn a_stale_locks_age_counts_from_the_lock_not_from_the_wait() {
    let setup = Setup::new();
    let lock = setup.entry().join("x64.lock");
    std::fs::create_dir_all(&lock).unwrap();
    // Another host's lock: its process cannot be checked, only its age.
    std::fs::write(lock.join("owner"), "1 some-other-host\n").unwrap();
    let touched = Command::new("touch")
        .args(["-d", "2 hours ago"])
        .arg(&lock)
        .status()
        .unwrap();
    assert!(touched.success());
    let started = Instant::now();
    let out = setup
        .command(&["timeout", "60"])
        .env("RECOVER_INSTALL_LOCK_TIMEOUT", "1800")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("held for more than 1800s"),
        "{}",
        text(&out)
    );
    assert!(started.elapsed() < Duration::from_secs(30));
    assert_eq!(setup.requests.load(Ordering::SeqCst), 1);
}

#[test]
fn the_action_runs_the_script_without_bash_start_up_files() {
    let action =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("action.yml")).unwrap();
    let line = action
        .lines()
        .find(|l| l.contains("scripts/install.sh\""))
        .expect("the install step's run line")
        .trim()
        .strip_prefix("run: ")
        .expect("a one-line run")
        .to_owned();
    let setup = Setup::new();
    let marker = setup.dir.path().join("bash_env_ran");
    let bash_env = setup.dir.path().join("bash_env.sh");
    std::fs::write(&bash_env, format!("touch '{}'\n", marker.display())).unwrap();
    // The runner's own bash has started by then; BASH_ENV is set for what the line starts.
    let script = format!("export BASH_ENV='{}'\n{line}", bash_env.display());
    let mut command = Command::new("bash");
    command.args(["--noprofile", "--norc", "-e", "-c", &script]);
    setup.action_env(&mut command);
    let out = command.output().unwrap();
    assert!(out.status.success(), "{}", text(&out));
    assert!(!marker.exists(), "BASH_ENV ran before the install script");
}
