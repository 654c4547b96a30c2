//! Runs one attempt of a command through recover's relay, with the built-in rules watching the
//! output (`on`) or nothing watching it (`off`), exactly as `recover run` starts, relays and
//! stops an attempt. scripts/bench.sh runs both under hyperfine to tell the cost of matching
//! from the cost of relaying, which `recover run` alone cannot: its built-in rules always apply.
//!
//! `splice` is a reference: the command's output moved to stdout with `splice(2)` through the
//! default 64 KiB pipe (Linux; no copy through user space, nothing watching, no process group).
//!
//! Usage: `relay on|off|splice -- PROGRAM [ARGS...]`; exits with the command's exit code.

use std::ffi::OsString;
use std::time::Duration;

use recover::classify::lazy::PlanRules;
use recover::exec::{self, AttemptSpec, Cancel};
use recover::output::Stream;

fn main() {
    let mut args = std::env::args_os().skip(1);
    let rules = match args.next().as_deref().and_then(|a| a.to_str()) {
        Some("on") => Some(PlanRules::builtin()),
        Some("off") => None,
        Some("splice") => splice_only(args),
        _ => usage(),
    };
    if args.next().as_deref() != Some("--".as_ref()) {
        usage();
    }
    let command: Vec<OsString> = args.collect();
    let Some((program, rest)) = command.split_first() else {
        usage();
    };
    let spec = AttemptSpec {
        program: program.clone(),
        args: rest.to_vec(),
        raw_args: None,
        env: std::env::vars_os().collect(),
        cwd: None,
        timeout: None,
        grace: Duration::from_secs(5),
    };
    let observers = (
        rules.as_ref().map(|r| r.observer(Stream::Stdout)),
        rules.as_ref().map(|r| r.observer(Stream::Stderr)),
    );
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    let (_tx, mut cancel) = Cancel::manual();
    let attempt = runtime.block_on(exec::run(&spec, observers, &mut cancel));
    std::process::exit(attempt.exit_code);
}

#[cfg(target_os = "linux")]
fn splice_only(mut args: impl Iterator<Item = OsString>) -> ! {
    use nix::fcntl::{SpliceFFlags, splice};
    if args.next().as_deref() != Some("--".as_ref()) {
        usage();
    }
    let Some(program) = args.next() else { usage() };
    let mut child = std::process::Command::new(program)
        .args(args)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("the command starts");
    let from = child.stdout.take().expect("a pipe");
    let to = std::io::stdout();
    while splice(&from, None, &to, None, 1 << 16, SpliceFFlags::SPLICE_F_MOVE).expect("splice") > 0
    {
    }
    let status = child.wait().expect("the command ends");
    std::process::exit(status.code().unwrap_or(1));
}

#[cfg(not(target_os = "linux"))]
fn splice_only(_args: impl Iterator<Item = OsString>) -> ! {
    eprintln!("relay: splice is Linux only");
    std::process::exit(2);
}

fn usage() -> ! {
    eprintln!("usage: relay on|off|splice -- PROGRAM [ARGS...]");
    std::process::exit(2);
}
