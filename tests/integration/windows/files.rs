//! Runner files on Windows: only the final attempt's writes reach `GITHUB_OUTPUT`, `GITHUB_ENV`,
//! `GITHUB_PATH` and `GITHUB_STEP_SUMMARY`, byte for byte (cmd writes CRLF), at `C:\` paths
//! and at `Z:\` paths (where Wine shows the Unix file system; a runner's workspace drive).

use std::path::{Path, PathBuf};

use super::cmd;
use crate::support::{SUMMARY_FILE, parse_outputs};

/// Writes to every runner file, and leaves a multi-line output unclosed unless it passes.
const WRITES: &str = r#">>"%GITHUB_OUTPUT%" echo from_attempt=%RECOVER_ATTEMPT%
>>"%GITHUB_OUTPUT%" echo multi^<^<EOF
>>"%GITHUB_OUTPUT%" echo line of attempt %RECOVER_ATTEMPT%
>>"%GITHUB_ENV%" echo ATTEMPT_%RECOVER_ATTEMPT%=yes
>>"%GITHUB_PATH%" echo C:\attempt\%RECOVER_ATTEMPT%\bin
>>"%GITHUB_STEP_SUMMARY%" echo summary of attempt %RECOVER_ATTEMPT%
if %RECOVER_ATTEMPT% LSS 2 exit 1
>>"%GITHUB_OUTPUT%" echo EOF
"#;

/// A directory on Wine's `Z:` drive (the Unix `/tmp`).
fn z_drive_dir() -> tempfile::TempDir {
    let tmp = Path::new(r"Z:\tmp");
    assert!(
        tmp.is_dir(),
        r"Z:\tmp is missing: these tests expect Wine's Z: drive (the Unix root)"
    );
    tempfile::Builder::new()
        .prefix("recover-z-")
        .tempdir_in(tmp)
        .expect(r"create a directory under Z:\tmp")
}

fn final_attempt_s_writes_reach(dir: &Path) {
    let file = |name: &str| -> PathBuf { dir.join(name) };
    std::fs::write(file("output"), "earlier=kept\r\n").unwrap();
    std::fs::write(file("env"), "EARLIER=kept\r\n").unwrap();
    std::fs::write(file("path"), "C:\\earlier\\bin\r\n").unwrap();
    std::fs::write(file("summary.md"), "# Earlier step\r\n").unwrap();
    let out = cmd(WRITES)
        .args(["--max-attempts", "2"])
        .env("GITHUB_OUTPUT", file("output"))
        .env("GITHUB_ENV", file("env"))
        .env("GITHUB_PATH", file("path"))
        .env("GITHUB_STEP_SUMMARY", file("summary.md"))
        .run();
    let read = |name: &str| std::fs::read_to_string(file(name)).unwrap();
    let output = read("output");
    assert!(
        output.starts_with(
            "earlier=kept\r\nfrom_attempt=2\r\nmulti<<EOF\r\nline of attempt 2\r\nEOF\r\n"
        ),
        "{output}\n{}",
        out.describe()
    );
    let outputs = parse_outputs(&output);
    assert_eq!(outputs["multi"], "line of attempt 2");
    assert_eq!(outputs["outcome"], "recovered");
    // command_outputs carries the values without the CR of cmd's CRLF line ends.
    let carried: serde_json::Value = serde_json::from_str(&outputs["command_outputs"]).unwrap();
    assert_eq!(
        carried,
        serde_json::json!({"from_attempt": "2", "multi": "line of attempt 2"})
    );
    assert_eq!(read("env"), "EARLIER=kept\r\nATTEMPT_2=yes\r\n");
    assert_eq!(read("path"), "C:\\earlier\\bin\r\nC:\\attempt\\2\\bin\r\n");
    assert_eq!(
        read("summary.md"),
        "# Earlier step\r\nsummary of attempt 2\r\n"
    );
}

#[test]
fn runner_files_at_c_drive_paths_get_the_final_attempt_s_crlf_lines() {
    let dir = tempfile::tempdir().unwrap();
    assert!(
        dir.path().to_string_lossy().starts_with(r"C:\"),
        "{}",
        dir.path().display()
    );
    final_attempt_s_writes_reach(dir.path());
}

#[test]
fn runner_files_at_z_drive_paths_get_the_final_attempt_s_crlf_lines() {
    let dir = z_drive_dir();
    final_attempt_s_writes_reach(dir.path());
}

#[test]
fn the_summary_and_outputs_of_a_recovered_step() {
    let dir = z_drive_dir();
    let report = dir.path().join("report.json");
    let out = cmd("if %RECOVER_ATTEMPT% LSS 2 (echo registry not ready 1>&2 & exit 7)\r\n")
        .actions()
        .args(["--max-attempts", "3"])
        .arg("--report-file")
        .arg(&report)
        .run();
    let summary = out.read(SUMMARY_FILE);
    assert!(summary.contains("| 1 | primary |"), "{summary}");
    assert!(summary.contains("| 2 | retry |"), "{summary}");
    assert!(summary.contains("registry not ready"), "{summary}");
    assert_eq!(out.output("outcome"), "recovered");
    assert_eq!(out.output("total_attempts"), "2");
    assert_eq!(out.output("exit_code"), "0");
    assert!(out.run_time().as_secs_f64() > 0.0);
    assert!(
        out.stdout.contains("::group::") || out.stderr.contains("::group::"),
        "{}",
        out.describe()
    );
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    assert_eq!(json["attempts"].as_array().map(Vec::len), Some(2), "{json}");
}
