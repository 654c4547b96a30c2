//! A small builder for end-to-end tests: a temporary directory with files, the arguments and
//! environment recover gets, and what it must print and exit with.
//!
//! recover runs as a real process (`CARGO_BIN_EXE_recover`) in the temporary directory, with an
//! environment cleared down to `PATH` and `HOME`, so no `GITHUB_*` or `INPUT_*` variable of the
//! machine running the tests leaks in.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use tempfile::TempDir;

/// The recover binary under test.
pub const RECOVER: &str = env!("CARGO_BIN_EXE_recover");

/// The name of the file recover writes its outputs to (`GITHUB_OUTPUT`), in the test directory.
pub const OUTPUT_FILE: &str = "github_output";

/// The name of the step summary file (`GITHUB_STEP_SUMMARY`) of [`Test::actions`].
pub const SUMMARY_FILE: &str = "step_summary.md";

/// Makes this test process the reaper of every orphan its recovers leave, and never reaps them,
/// as PID 1 of a job container (`tail -f /dev/null`) does: an orphan that exits stays a zombie
/// in its attempt's process group. recover must not mistake such zombies for live processes.
#[cfg(target_os = "linux")]
pub fn orphans_are_never_reaped() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        nix::sys::prctl::set_child_subreaper(true).expect("become a child subreaper");
    });
}

/// The variables of the machine that recover gets: what finds programs, and on Windows what
/// cmd and the system need to run at all.
const KEPT_VARIABLES: &[&str] = if cfg!(windows) {
    &[
        "PATH",
        "PATHEXT",
        "SystemRoot",
        "windir",
        "ComSpec",
        "TEMP",
        "TMP",
        "USERPROFILE",
    ]
} else {
    &["PATH", "HOME"]
};

/// One run of recover and what is expected of it.
#[must_use]
pub struct Test {
    dir: TempDir,
    args: Vec<OsString>,
    env: Vec<(OsString, OsString)>,
    stdin: Option<Vec<u8>>,
    status: Option<i32>,
    stdout: Option<String>,
    stderr: Option<String>,
    stdout_contains: Vec<String>,
    stderr_contains: Vec<String>,
}

impl Default for Test {
    fn default() -> Self {
        Test::new()
    }
}

impl Test {
    /// A test in a fresh temporary directory, with `GITHUB_OUTPUT` pointing at [`OUTPUT_FILE`].
    pub fn new() -> Test {
        #[cfg(target_os = "linux")]
        orphans_are_never_reaped();
        let dir = tempfile::Builder::new()
            .prefix("recover-it-")
            .tempdir()
            .expect("create a temporary directory");
        let output = dir.path().join(OUTPUT_FILE);
        Test {
            dir,
            args: Vec::new(),
            env: vec![("GITHUB_OUTPUT".into(), output.into())],
            stdin: None,
            status: Some(0),
            stdout: None,
            stderr: None,
            stdout_contains: Vec::new(),
            stderr_contains: Vec::new(),
        }
    }

    /// The test's directory (recover's working directory).
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// The test's directory, for a test that runs recover its own way.
    pub fn into_dir(self) -> TempDir {
        self.dir
    }

    /// Adds one argument.
    pub fn arg(mut self, arg: impl Into<OsString>) -> Test {
        self.args.push(arg.into());
        self
    }

    /// Adds arguments.
    pub fn args<I, S>(mut self, args: I) -> Test
    where
        I: IntoIterator<Item = S>,
        S: Into<OsString>,
    {
        self.args.extend(args.into_iter().map(Into::into));
        self
    }

    /// Sets an environment variable for recover.
    pub fn env(mut self, name: impl Into<OsString>, value: impl Into<OsString>) -> Test {
        let name = name.into();
        self.env.retain(|(k, _)| *k != name);
        self.env.push((name, value.into()));
        self
    }

    /// Runs as on a GitHub runner: `GITHUB_ACTIONS=true`, so the log uses workflow commands,
    /// and `GITHUB_STEP_SUMMARY` names a file, as the runner always sets it.
    pub fn actions(self) -> Test {
        let summary = self.dir.path().join(SUMMARY_FILE);
        self.env("GITHUB_ACTIONS", "true")
            .env("GITHUB_STEP_SUMMARY", summary)
    }

    /// Writes a file in the test directory.
    pub fn file(self, name: &str, contents: impl AsRef<[u8]>) -> Test {
        let path = self.dir.path().join(name);
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent).expect("create the file's directory");
        }
        fs::write(&path, contents).expect("write a test file");
        self
    }

    /// What recover reads on its standard input.
    pub fn stdin(mut self, bytes: impl Into<Vec<u8>>) -> Test {
        self.stdin = Some(bytes.into());
        self
    }

    /// The exit status recover must end with (0 unless told).
    pub fn status(mut self, code: i32) -> Test {
        self.status = Some(code);
        self
    }

    /// recover's whole standard output.
    pub fn stdout(mut self, text: &str) -> Test {
        self.stdout = Some(text.to_owned());
        self
    }

    /// recover's whole standard error.
    pub fn stderr(mut self, text: &str) -> Test {
        self.stderr = Some(text.to_owned());
        self
    }

    /// A piece standard output must contain.
    pub fn stdout_contains(mut self, text: &str) -> Test {
        self.stdout_contains.push(text.to_owned());
        self
    }

    /// A piece standard error must contain.
    pub fn stderr_contains(mut self, text: &str) -> Test {
        self.stderr_contains.push(text.to_owned());
        self
    }

    /// The command recover will be started with, without the expectations.
    pub fn command(&self) -> Command {
        let mut command = Command::new(RECOVER);
        command.args(&self.args).current_dir(self.dir.path());
        command.env_clear();
        for name in KEPT_VARIABLES {
            if let Some(value) = std::env::var_os(name) {
                command.env(name, value);
            }
        }
        command.envs(self.env.iter().map(|(k, v)| (k, v)));
        command
    }

    /// Runs recover to its end and checks the expectations.
    #[track_caller]
    pub fn run(self) -> Output {
        let mut command = self.command();
        command
            .stdin(if self.stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let started = Instant::now();
        let mut child = command.spawn().expect("start recover");
        if let Some(bytes) = &self.stdin {
            let mut stdin = child.stdin.take().expect("recover's stdin");
            let bytes = bytes.clone();
            std::thread::spawn(move || {
                let _ = stdin.write_all(&bytes);
            });
        }
        let output = child.wait_with_output().expect("wait for recover");
        let elapsed = started.elapsed();
        let result = Output {
            code: output.status.code(),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
            stdout_bytes: output.stdout,
            stderr_bytes: output.stderr,
            elapsed,
            dir: self.dir,
        };
        if let Some(code) = self.status {
            assert_eq!(
                result.code,
                Some(code),
                "exit status\n{}",
                result.describe()
            );
        }
        if let Some(stdout) = &self.stdout {
            assert_eq!(&result.stdout, stdout, "stdout\n{}", result.describe());
        }
        if let Some(stderr) = &self.stderr {
            assert_eq!(&result.stderr, stderr, "stderr\n{}", result.describe());
        }
        for piece in &self.stdout_contains {
            assert!(
                result.stdout.contains(piece.as_str()),
                "stdout lacks {piece:?}\n{}",
                result.describe()
            );
        }
        for piece in &self.stderr_contains {
            assert!(
                result.stderr.contains(piece.as_str()),
                "stderr lacks {piece:?}\n{}",
                result.describe()
            );
        }
        result
    }
}

/// What a run of recover did.
pub struct Output {
    /// The exit status (`None` if recover died of a signal).
    pub code: Option<i32>,
    /// Its standard output, lossily decoded.
    pub stdout: String,
    /// Its standard error, lossily decoded.
    pub stderr: String,
    /// Its standard output, byte for byte.
    pub stdout_bytes: Vec<u8>,
    /// Its standard error, byte for byte.
    pub stderr_bytes: Vec<u8>,
    /// How long it ran.
    pub elapsed: Duration,
    /// The test directory, kept alive for inspection.
    pub dir: TempDir,
}

impl Output {
    /// A file of the test directory.
    pub fn join(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// A file of the test directory as text (empty when missing).
    pub fn read(&self, name: &str) -> String {
        fs::read_to_string(self.join(name)).unwrap_or_default()
    }

    /// The step's outputs, as recover wrote them to `GITHUB_OUTPUT`.
    pub fn outputs(&self) -> BTreeMap<String, String> {
        parse_outputs(&self.read(OUTPUT_FILE))
    }

    /// One output, which must be there.
    #[track_caller]
    pub fn output(&self, name: &str) -> String {
        self.outputs()
            .remove(name)
            .unwrap_or_else(|| panic!("no output {name:?}\n{}", self.describe()))
    }

    /// How long the run took by recover's own clock (`duration_seconds`): from the start of the
    /// first attempt to the end of the last, without recover's start-up. Timing assertions on
    /// attempts, timeouts and waits use this, so that a slow start on a loaded machine does not
    /// count against them.
    #[track_caller]
    pub fn run_time(&self) -> Duration {
        Duration::from_secs_f64(seconds(&self.output("duration_seconds")))
    }

    /// Everything printed, for failure messages.
    pub fn describe(&self) -> String {
        format!(
            "--- status {:?} after {:?}\n--- stdout\n{}\n--- stderr\n{}\n--- {OUTPUT_FILE}\n{}",
            self.code,
            self.elapsed,
            self.stdout,
            self.stderr,
            self.read(OUTPUT_FILE)
        )
    }
}

/// Parses a `GITHUB_OUTPUT` file: `name=value` lines and `name<<DELIMITER` blocks, as the runner
/// does. A name given twice keeps its last value.
///
/// # Panics
/// On a block whose delimiter never comes: a truncated or malformed file.
pub fn parse_outputs(text: &str) -> BTreeMap<String, String> {
    let mut outputs = BTreeMap::new();
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        if line.is_empty() {
            continue;
        }
        if let Some((name, delimiter)) = line.split_once("<<") {
            let mut value = Vec::new();
            loop {
                let next = lines.next().unwrap_or_else(|| {
                    panic!("output {name:?}: no closing {delimiter:?} in\n{text}")
                });
                if next == delimiter {
                    break;
                }
                value.push(next);
            }
            outputs.insert(name.to_owned(), value.join("\n"));
        } else if let Some((name, value)) = line.split_once('=') {
            outputs.insert(name.to_owned(), value.to_owned());
        } else {
            panic!("malformed output line {line:?} in\n{text}");
        }
    }
    outputs
}

/// A bash script that counts its runs in the file `count` and fails with `code` until the
/// count reaches `n`.
pub fn flaky(n: u32, code: i32) -> String {
    format!(
        "n=$(( $(cat count 2>/dev/null || echo 0) + 1 ))\necho \"$n\" > count\nif [ \"$n\" -lt {n} ]; then exit {code}; fi\necho \"passed on run $n\"\n"
    )
}

/// Whether process `pid` is still alive: present in `/proc` and not a zombie (a zombie has
/// finished; it only waits for a parent to reap it).
#[cfg(target_os = "linux")]
pub fn alive(pid: i32) -> bool {
    match fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => {
            // The state follows the command name, which is in parentheses and may hold spaces.
            let state = stat
                .rsplit_once(')')
                .and_then(|(_, rest)| rest.split_whitespace().next());
            !matches!(state, Some("Z" | "X") | None)
        }
        Err(_) => false,
    }
}

/// Reads a pid from a file the command wrote.
#[track_caller]
pub fn read_pid(path: &Path) -> i32 {
    let text = fs::read_to_string(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    text.trim()
        .parse()
        .unwrap_or_else(|e| panic!("pid in {}: {text:?}: {e}", path.display()))
}

/// Waits up to `limit` for `path` to exist.
pub fn wait_for_file(path: &Path, limit: Duration) -> bool {
    let until = Instant::now() + limit;
    while Instant::now() < until {
        if path.exists() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    path.exists()
}

/// Parses `duration_seconds` and similar decimal outputs.
#[track_caller]
pub fn seconds(value: &str) -> f64 {
    value
        .parse()
        .unwrap_or_else(|e| panic!("not a number of seconds: {value:?}: {e}"))
}

/// Bytes from a xorshift generator: binary noise, the same for a seed on every run, and no
/// lazy DFA's cache can hold the states it drives a matcher through.
pub fn noise(len: usize, mut seed: u64) -> Vec<u8> {
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        out.extend_from_slice(&seed.to_le_bytes());
    }
    out.truncate(len);
    out
}

/// The SHA-256 of `bytes`, in hex.
pub fn sha256(bytes: &[u8]) -> String {
    use sha2::Digest;
    use std::fmt::Write;
    sha2::Sha256::digest(bytes)
        .iter()
        .fold(String::new(), |mut hex, b| {
            let _ = write!(hex, "{b:02x}");
            hex
        })
}

#[cfg(target_os = "linux")]
/// A one-page pipe whose write end is non-blocking, as a parent that set `O_NONBLOCK` hands
/// recover its stdout: every write past 4 KiB meets a full pipe until the reader drains it.
pub fn small_non_blocking_pipe() -> (std::os::fd::OwnedFd, std::os::fd::OwnedFd) {
    let (read, write) = nix::unistd::pipe().unwrap();
    nix::fcntl::fcntl(&read, nix::fcntl::FcntlArg::F_SETPIPE_SZ(4096)).unwrap();
    let flags = nix::fcntl::fcntl(&write, nix::fcntl::FcntlArg::F_GETFL).unwrap();
    let flags = nix::fcntl::OFlag::from_bits_truncate(flags) | nix::fcntl::OFlag::O_NONBLOCK;
    nix::fcntl::fcntl(&write, nix::fcntl::FcntlArg::F_SETFL(flags)).unwrap();
    (read, write)
}

#[cfg(target_os = "linux")]
/// A slow reader of `read`: it sleeps before reading anything, then drains a little at a
/// time; the thread returns all it read once the pipe closes.
pub fn slow_reader(
    read: std::os::fd::OwnedFd,
    first_wait: Duration,
) -> std::thread::JoinHandle<Vec<u8>> {
    std::thread::spawn(move || {
        use std::io::Read as _;
        std::thread::sleep(first_wait);
        let mut file = fs::File::from(read);
        let mut all = Vec::new();
        let mut buf = [0u8; 512];
        loop {
            match file.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => all.extend_from_slice(&buf[..n]),
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        all
    })
}
