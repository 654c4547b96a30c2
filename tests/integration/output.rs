//! Output passes through byte for byte, live and in bounded memory.

use std::process::{Command, Stdio};

use crate::support::{Test, noise, sha256};

/// 1 GiB and a little: 768 MiB of 0xFF bytes with no newline at all, a few stray bytes that are
/// not UTF-8, then 256 MiB of short lines mixing ASCII with broken UTF-8 sequences.
const GENERATOR: &str = r#"
head -c 805306368 /dev/zero | tr '\0' '\377'
printf '\200\301\365 not utf-8 \303\050\n'
yes "$(printf 'ab\303\050 mixed \342\202 bytes \377')" | head -c 268435456
"#;

/// Runs `command` with its stdout piped into `sha256sum`; returns the hash and the command's
/// exit status.
fn hash_stdout(mut command: Command) -> (String, Option<i32>) {
    let mut producer = command
        .stdout(Stdio::piped())
        .stdin(Stdio::null())
        .spawn()
        .expect("start the producer");
    let hasher = Command::new("sha256sum")
        .stdin(Stdio::from(producer.stdout.take().unwrap()))
        .stdout(Stdio::piped())
        .spawn()
        .expect("start sha256sum");
    let status = producer.wait().expect("wait for the producer").code();
    let hash = hasher
        .wait_with_output()
        .expect("wait for sha256sum")
        .stdout;
    let hash = String::from_utf8_lossy(&hash);
    let hash = hash
        .split_whitespace()
        .next()
        .unwrap_or_default()
        .to_owned();
    (hash, status)
}

#[test]
fn one_gib_of_binary_output_passes_byte_exact_in_bounded_memory() {
    let test = Test::new().file("gen.sh", GENERATOR);
    let dir = test.path().to_owned();
    let time = std::path::Path::new("/usr/bin/time");
    assert!(
        time.exists(),
        "/usr/bin/time (GNU time) is needed to measure recover's peak RSS"
    );

    let mut direct = Command::new("bash");
    direct.arg("gen.sh").current_dir(&dir);
    let expected = std::thread::spawn(move || hash_stdout(direct));

    // GNU time waits for recover and reports its peak resident set (ru_maxrss, KiB), which
    // also covers the processes recover waited for: bash, head, tr and yes, all far smaller.
    let recover = test.command();
    let mut args: Vec<std::ffi::OsString> = vec!["-f".into(), "%M".into(), "-o".into()];
    args.push(dir.join("rss").into());
    args.push(crate::support::RECOVER.into());
    args.extend(["--max-attempts", "1", "--command", "bash gen.sh"].map(Into::into));
    let mut timed = Command::new(time);
    timed.args(args).current_dir(&dir).env_clear();
    for (name, value) in recover.get_envs() {
        if let Some(value) = value {
            timed.env(name, value);
        }
    }
    timed.stderr(Stdio::null());
    let (got, status) = hash_stdout(timed);
    let (want, direct_status) = expected.join().unwrap();

    assert_eq!(direct_status, Some(0));
    assert_eq!(status, Some(0), "recover failed");
    assert_eq!(got, want, "recover changed the bytes");
    let rss_kib: u64 = std::fs::read_to_string(dir.join("rss"))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    // Bounded memory: 1 GiB through a relay that kept anything would need 1 GiB. The 16 MiB
    // figure is the release build's and is measured by scripts/bench.sh (c); this debug build
    // maps more code and gets a looser bound that still proves nothing accumulates.
    assert!(rss_kib <= 32 * 1024, "recover's peak RSS was {rss_kib} KiB");
}

#[test]
fn stdout_and_stderr_go_to_their_own_streams_unchanged() {
    let out = Test::new()
        .args([
            "--max-attempts",
            "1",
            "--command",
            r"printf 'out\377\376 no newline'; printf 'err\200\n' >&2",
        ])
        .run();
    assert_eq!(out.stdout_bytes, b"out\xff\xfe no newline");
    assert!(
        out.stderr_bytes.windows(4).any(|w| w == b"err\x80"),
        "{}",
        out.describe()
    );
    assert!(!out.stdout_bytes.windows(3).any(|w| w == b"err"));
}

#[test]
fn stdout_carries_only_the_commands_bytes_outside_actions() {
    // Outside GitHub Actions the log goes to stderr, so stdout can be piped as data.
    let out = Test::new()
        .args(["--max-attempts", "2", "--retry-wait-seconds", "0"])
        .args(["--command", &crate::support::flaky(2, 1)])
        .run();
    assert_eq!(out.stdout, "passed on run 2\n");
}

#[test]
fn output_is_relayed_as_it_comes() {
    // The command prints a line, then waits for the test to have seen it: recover must pass
    // the line on at once, not when the command ends (it would end only at its timeout), nor
    // when more output comes. The line is longer than a page, as a fast producer's writes are.
    use std::io::{BufRead, BufReader};
    use std::time::{Duration, Instant};
    let test = Test::new().args([
        "--max-attempts",
        "1",
        "--timeout-seconds",
        "20",
        "--kill-grace-seconds",
        "1",
        "--command",
        "printf 'first%05000d\\n' 0; while [ ! -e go ]; do sleep 0.05; done; echo second",
    ]);
    let dir = test.path().to_owned();
    let started = Instant::now();
    let mut child = test
        .command()
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start recover");
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    stdout.read_line(&mut line).unwrap();
    let seen = started.elapsed();
    std::fs::write(dir.join("go"), "").unwrap();
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut stdout, &mut rest).unwrap();
    let status = child.wait().unwrap();
    assert_eq!(line, format!("first{}\n", "0".repeat(5000)));
    assert_eq!(rest, "second\n");
    assert_eq!(status.code(), Some(0));
    assert!(
        seen < Duration::from_secs(10),
        "the first line came after {seen:?}"
    );
    drop(test);
}

#[test]
fn sixty_four_mib_of_random_bytes_pass_byte_exact() {
    // Random bytes drive the matcher's lazy DFA through more states than its cache holds, so
    // the cache is cleared again and again: that used to panic the relay after about 5.7 MB,
    // close the pipe and kill the command with SIGPIPE.
    let blob = noise(64 << 20, 11);
    let out = Test::new()
        .file("blob", &blob)
        .args(["--max-attempts", "1", "--", "cat", "blob"])
        .run();
    assert_eq!(out.stdout_bytes.len(), blob.len());
    assert_eq!(sha256(&out.stdout_bytes), sha256(&blob));
    assert_eq!(out.output("outcome"), "success");
    assert!(!out.stderr.contains("panicked"), "{}", out.stderr);
}
