//! Hostile and unlucky runner files: unterminated lines, forged outputs, full and read-only
//! disks, FIFOs, symbolic links, directories and missing paths, a summary near GitHub's 1 MiB,
//! markup and fences in the output, and a secret made of punctuation.
//!
//! Each case asserts the step's result, the bytes relayed, that the runner files still parse
//! as the runner parses them, and that the secret, where it appears, appears whole.

use std::fs;
use std::path::Path;
use std::time::Duration;

use crate::runner_files::{
    SECRET, Tmpfs, last_values, markdown, only_own_html, parse_file, secret_only_whole,
};
use crate::support::{OUTPUT_FILE, Output, SUMMARY_FILE, Test};

/// A command that prints a known line, so the relayed bytes can be checked.
const PRINT: &str = "printf 'relayed line\\n'";

/// The checks every case makes: the relayed line came through once and unchanged, the runner
/// files parse, and the secret appears only whole anywhere recover wrote.
#[track_caller]
fn common(out: &Output, env_file: Option<&Path>) {
    assert_eq!(
        out.stdout.matches("relayed line\n").count(),
        1,
        "{}",
        out.describe()
    );
    parse_file(&out.join(OUTPUT_FILE));
    if let Some(env) = env_file {
        parse_file(env);
    }
    secret_only_whole("stdout", &out.stdout);
    secret_only_whole("stderr", &out.stderr);
    secret_only_whole("GITHUB_OUTPUT", &out.read(OUTPUT_FILE));
    secret_only_whole("summary", &out.read(SUMMARY_FILE));
}

fn warnings(out: &Output) -> Vec<&str> {
    out.stdout
        .lines()
        .filter(|l| l.starts_with("::warning::"))
        .collect()
}

#[test]
fn an_unterminated_output_line_is_not_glued_to_recovers_outputs() {
    let out = Test::new()
        .actions()
        .args([
            "--command",
            &format!("{PRINT}; printf 'foo=bar' >> \"$GITHUB_OUTPUT\""),
        ])
        .run();
    common(&out, None);
    let outputs = last_values(&parse_file(&out.join(OUTPUT_FILE)));
    assert_eq!(outputs["foo"], "bar");
    assert_eq!(outputs["outcome"], "success");
    assert_eq!(outputs["command_outputs"], r#"{"foo":"bar"}"#);
}

#[test]
fn unterminated_lines_in_env_path_and_summary_stay_apart() {
    // on_retry_command's writes are committed before the final attempt's: each file gets two
    // additions, the first unterminated.
    let test = Test::new().actions();
    let dir = test.path().to_owned();
    let script = format!(
        "{PRINT}\nn=$(( $(cat count 2>/dev/null || echo 0) + 1 )); echo $n > count\n\
         printf 'B%s=2\\n' $n >> \"$GITHUB_ENV\"; printf '/final/%s\\n' $n >> \"$GITHUB_PATH\"\n\
         printf '## attempt %s\\n' $n >> \"$GITHUB_STEP_SUMMARY\"\n[ $n -ge 2 ]"
    );
    let hook = "printf 'A=1' >> \"$GITHUB_ENV\"; printf '/hook' >> \"$GITHUB_PATH\"; \
                printf '## hook' >> \"$GITHUB_STEP_SUMMARY\"";
    let out = test
        .env("GITHUB_ENV", dir.join("github_env"))
        .env("GITHUB_PATH", dir.join("github_path"))
        .args(["--retry-wait-seconds", "0", "--on-retry-command", hook])
        .args(["--command", &script])
        .stdout_contains("relayed line\n")
        .run();
    assert_eq!(out.stdout.matches("relayed line\n").count(), 2);
    let env = last_values(&parse_file(&out.join("github_env")));
    assert_eq!(env.get("A").map(String::as_str), Some("1"));
    assert_eq!(env.get("B2").map(String::as_str), Some("2"));
    assert!(!env.contains_key("B1"), "a failed attempt's writes");
    assert_eq!(out.read("github_path"), "/hook\n/final/2\n");
    let summary = out.read(SUMMARY_FILE);
    assert!(
        summary.starts_with("## hook\n## attempt 2\n### 🔁 recover:"),
        "{summary}"
    );
    parse_file(&out.join(OUTPUT_FILE));
}

#[test]
fn a_command_cannot_forge_recovers_outputs() {
    let forge = "echo category=FORGED; echo outcome=FORGED; echo exit_error=FORGED; \
                 echo circuit_state=FORGED; echo retry_budget_left=99; echo command_outputs=FORGED";
    let out = Test::new()
        .actions()
        .args([
            "--command",
            &format!("{PRINT}; ({forge}) >> \"$GITHUB_OUTPUT\""),
        ])
        .run();
    common(&out, None);
    let outputs = last_values(&parse_file(&out.join(OUTPUT_FILE)));
    for name in [
        "category",
        "exit_error",
        "circuit_state",
        "retry_budget_left",
    ] {
        assert_eq!(outputs[name], "", "{name}");
    }
    assert_eq!(outputs["outcome"], "success");
    let carried: serde_json::Value = serde_json::from_str(&outputs["command_outputs"]).unwrap();
    assert_eq!(
        carried["category"], "FORGED",
        "what the command set is carried, apart"
    );
}

#[test]
fn read_only_runner_files_are_a_warning_and_change_nothing() {
    let disk = Tmpfs::mount("64k");
    let test = Test::new().actions();
    let (output, summary) = if let Some(disk) = &disk {
        fs::write(disk.join("output"), "before=1\n").unwrap();
        fs::write(disk.join("summary.md"), "").unwrap();
        disk.read_only();
        (disk.join("output"), disk.join("summary.md"))
    } else {
        // Not root: file permissions suffice.
        use std::os::unix::fs::PermissionsExt;
        let output = test.path().join("ro_output");
        let summary = test.path().join("ro_summary.md");
        fs::write(&output, "before=1\n").unwrap();
        fs::write(&summary, "").unwrap();
        for path in [&output, &summary] {
            fs::set_permissions(path, fs::Permissions::from_mode(0o444)).unwrap();
        }
        (output, summary)
    };
    let out = test
        .env("GITHUB_OUTPUT", &output)
        .env("GITHUB_STEP_SUMMARY", &summary)
        .status(3)
        .args([
            "--max-attempts",
            "1",
            "--command",
            &format!("{PRINT}; echo x=1 >> \"$GITHUB_OUTPUT\"; exit 3"),
        ])
        .run();
    assert_eq!(fs::read_to_string(&output).unwrap(), "before=1\n");
    assert_eq!(fs::read_to_string(&summary).unwrap(), "");
    let warned = warnings(&out);
    assert_eq!(warned.len(), 3, "commit, outputs, summary: {warned:?}");
    assert!(
        out.stdout
            .contains("::error::Final attempt failed. Child_process exited with error code 3")
    );
    assert_eq!(out.stdout.matches("relayed line\n").count(), 1);
}

#[test]
fn a_fifo_as_a_runner_file_never_blocks_the_step() {
    let test = Test::new().actions();
    let fifo = test.path().join("fifo");
    nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::S_IRWXU).unwrap();
    let out = test
        .env("GITHUB_ENV", &fifo)
        .env("GITHUB_STEP_SUMMARY", &fifo)
        .args([
            "--command",
            &format!("{PRINT}; echo A=1 >> \"$GITHUB_ENV\""),
        ])
        .run();
    assert!(out.elapsed < Duration::from_secs(20), "{:?}", out.elapsed);
    common(&out, None);
    let warned = warnings(&out);
    assert_eq!(warned.len(), 2, "{warned:?}");
    assert!(
        warned.iter().all(|w| w.contains("not a regular file")),
        "{warned:?}"
    );
    assert_eq!(out.output("outcome"), "success");
}

#[test]
fn a_command_that_swaps_its_files_for_a_fifo_or_a_device_never_blocks_the_step() {
    let test = Test::new().actions();
    let dir = test.path().to_owned();
    let swap = "rm -f \"$GITHUB_ENV\" && mkfifo \"$GITHUB_ENV\"; \
                rm -f \"$GITHUB_OUTPUT\" && ln -s /dev/zero \"$GITHUB_OUTPUT\"";
    let out = test
        .env("GITHUB_ENV", dir.join("github_env"))
        .args(["--command", &format!("{PRINT}; {swap}")])
        .run();
    assert!(out.elapsed < Duration::from_secs(20), "{:?}", out.elapsed);
    common(&out, Some(&dir.join("github_env")));
    assert_eq!(out.read("github_env"), "");
    assert_eq!(warnings(&out).len(), 2, "{}", out.stdout);
    assert_eq!(out.output("command_outputs"), "{}");
}

#[test]
fn a_symlinked_runner_file_is_followed() {
    let test = Test::new().actions().file("real_output", "before=1");
    let link = test.path().join("link_output");
    std::os::unix::fs::symlink(test.path().join("real_output"), &link).unwrap();
    let out = test
        .env("GITHUB_OUTPUT", &link)
        .args([
            "--command",
            &format!("{PRINT}; echo via=link >> \"$GITHUB_OUTPUT\""),
        ])
        .run();
    assert_eq!(out.stdout.matches("relayed line\n").count(), 1);
    let outputs = last_values(&parse_file(&out.join("real_output")));
    assert_eq!(outputs["before"], "1");
    assert_eq!(outputs["via"], "link");
    assert_eq!(outputs["outcome"], "success");
    assert!(
        fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink()
    );
}

#[test]
fn a_directory_or_a_missing_path_is_a_warning_and_changes_nothing() {
    let test = Test::new().actions();
    fs::create_dir(test.path().join("env_dir")).unwrap();
    let dir = test.path().to_owned();
    let out = test
        .env("GITHUB_ENV", dir.join("env_dir"))
        .env("GITHUB_PATH", dir.join("no/such/dir/path"))
        .args([
            "--command",
            &format!("{PRINT}; echo A=1 >> \"$GITHUB_ENV\"; echo /x >> \"$GITHUB_PATH\""),
        ])
        .run();
    common(&out, None);
    assert_eq!(warnings(&out).len(), 2, "{}", out.stdout);
    assert_eq!(out.output("outcome"), "success");
    assert!(dir.join("env_dir").is_dir());
}

#[test]
fn a_full_disk_leaves_no_half_written_addition() {
    let Some(disk) = Tmpfs::mount("12k") else {
        return;
    };
    // Three pages: one of filler and one for each file, so any addition past a file's page
    // fails midway.
    fs::write(disk.join("filler"), vec![b'#'; 4096]).unwrap();
    let before = format!("pre={}\n", "p".repeat(4000));
    for name in ["output", "env"] {
        fs::write(disk.join(name), &before).unwrap();
    }
    let heredoc = format!("BIG<<EOF\n{}\nEOF", "v".repeat(9000));
    let out = Test::new()
        .actions()
        .env("GITHUB_OUTPUT", disk.join("output"))
        .env("GITHUB_ENV", disk.join("env"))
        .args([
            "--command",
            &format!("{PRINT}; printf '%s\\n' '{heredoc}' >> \"$GITHUB_ENV\""),
        ])
        .run();
    assert_eq!(fs::read_to_string(disk.join("output")).unwrap(), before);
    assert_eq!(fs::read_to_string(disk.join("env")).unwrap(), before);
    parse_file(&disk.join("output"));
    parse_file(&disk.join("env"));
    let warned = warnings(&out);
    assert_eq!(warned.len(), 2, "{warned:?}");
    assert!(
        warned.iter().all(|w| w.contains("No space left")),
        "{warned:?}"
    );
    assert_eq!(out.stdout.matches("relayed line\n").count(), 1);
}

#[test]
fn a_summary_near_one_mebibyte_stays_under_it() {
    let test = Test::new().actions();
    let out = test
        .status(1)
        .args(["--max-attempts", "2", "--retry-wait-seconds", "0"])
        .args([
            "--command",
            &format!(
                "{PRINT}; head -c 1040000 /dev/zero | tr '\\0' 's' >> \"$GITHUB_STEP_SUMMARY\"; \
                 for i in $(seq 200); do echo \"output line $i: {}\"; done >&2; exit 1",
                "lorem ipsum ".repeat(15)
            ),
        ])
        .run();
    let summary = out.read(SUMMARY_FILE);
    assert!(summary.len() <= 1024 * 1024, "{} bytes", summary.len());
    assert!(
        summary.starts_with(&"s".repeat(1_020_000)),
        "the command's part is intact"
    );
    assert!(
        summary.contains("### ❌ recover:"),
        "recover's part, shortened"
    );
    let warned = warnings(&out);
    assert!(
        warned
            .iter()
            .any(|w| w.contains("near GitHub's limit of 1 MiB")),
        "{warned:?}"
    );
    assert_eq!(out.stdout.matches("relayed line\n").count(), 2);
    parse_file(&out.join(OUTPUT_FILE));
}

#[test]
fn a_summary_over_one_mebibyte_from_the_command_is_left_as_it_is_with_a_warning() {
    let out = Test::new()
        .actions()
        .args([
            "--command",
            &format!(
                "{PRINT}; head -c 1100000 /dev/zero | tr '\\0' 's' >> \"$GITHUB_STEP_SUMMARY\""
            ),
        ])
        .run();
    let summary = out.read(SUMMARY_FILE);
    assert_eq!(
        summary.len(),
        1_100_000,
        "recover adds nothing, alters nothing"
    );
    let warned = warnings(&out);
    assert_eq!(warned.len(), 2, "{warned:?}");
    assert!(
        warned
            .iter()
            .any(|w| w.contains("GitHub drops this step's summary"))
    );
    common(&out, None);
}

#[test]
fn markup_fences_and_a_secret_in_the_command_and_its_output() {
    let script = format!(
        "# {SECRET}\n{PRINT}\ncat <<'EOF'\ntoken {SECRET} in use\n</details></summary><script>alert(1)</script>\n\
         ```\n~~~~\n``````````\n<!-- open\n::error::forged\n| a | b |\nEOF\nexit 4\n"
    );
    let out = Test::new()
        .actions()
        .status(4)
        .args(["--max-attempts", "1", "--command", &script])
        .run();
    common(&out, None);
    let summary = out.read(SUMMARY_FILE);
    let rendered = markdown(&summary);
    only_own_html(&rendered);
    for marker in ["alert", "forged", "```", "~~~~", "<!--", SECRET] {
        assert!(
            !rendered.text.contains(marker),
            "{marker:?} outside code:\n{summary}"
        );
    }
    // The secret, whole, in the heading's command and in the output block.
    assert_eq!(summary.matches(SECRET).count(), 2, "{summary}");
    assert!(
        rendered
            .code
            .iter()
            .any(|c| c.contains(&format!("token {SECRET} in use\n")))
    );
    assert_eq!(
        out.stdout
            .matches(&format!("token {SECRET} in use\n"))
            .count(),
        1
    );
}

#[test]
fn a_long_line_holding_a_secret_is_never_cut_inside_it() {
    // The secret straddles the summary's 240 characters per line: it is left out whole.
    let line = format!("{} {SECRET}{}", "w ".repeat(110), "z".repeat(30));
    let out = Test::new()
        .actions()
        .status(1)
        .env("L", &line)
        .args([
            "--max-attempts",
            "1",
            "--command",
            &format!("{PRINT}; echo \"$L\"; exit 1"),
        ])
        .run();
    common(&out, None);
    let summary = out.read(SUMMARY_FILE);
    assert!(!summary.contains("ghp_"), "{summary}");
    assert!(
        summary.contains(&format!("{}…", "w ".repeat(110).trim_end())),
        "{summary}"
    );
    assert_eq!(
        out.stdout.matches(&format!("{line}\n")).count(),
        1,
        "relayed unchanged"
    );
}

#[test]
fn a_report_file_that_is_a_fifo_nobody_reads_never_blocks_the_step() {
    let test = Test::new().actions();
    let fifo = test.path().join("report.fifo");
    nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::S_IRWXU).unwrap();
    let out = test
        .args(["--report-file", "report.fifo", "--command", PRINT])
        .run();
    assert!(out.elapsed < Duration::from_secs(20), "{:?}", out.elapsed);
    common(&out, None);
    let warned = warnings(&out);
    assert_eq!(warned.len(), 1, "{warned:?}");
    assert!(warned[0].contains("cannot write report_file"), "{warned:?}");
    assert_eq!(out.output("outcome"), "success");
}
