//! Shells as the GitHub runner runs them.
//!
//! In: the `shell` input and a script. Out: the program and arguments that run the script from a
//! temporary file, exactly as a `run:` step would (so `set -e` and `pipefail` apply to bash, and
//! `$ErrorActionPreference = 'stop'` to PowerShell).
//!
//! The templates follow the runner's `ScriptHandlerHelpers`:
//! <https://docs.github.com/actions/reference/workflow-syntax-for-github-actions#jobsjob_idstepsshell>.

use std::ffi::OsString;
use std::fmt;
use std::path::Path;

/// The runner's `Environment.NewLine`, which joins what it adds to a script.
const NEWLINE: &str = if cfg!(windows) { "\r\n" } else { "\n" };

/// The shell a script runs with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Shell {
    /// `bash --noprofile --norc -eo pipefail {0}`.
    Bash,
    /// `sh -e {0}`.
    Sh,
    /// `pwsh -command ". '{0}'"`.
    Pwsh,
    /// `powershell -command ". '{0}'"` (Windows PowerShell).
    PowerShell,
    /// `python {0}`.
    Python,
    /// `%ComSpec% /D /E:ON /V:OFF /S /C "CALL "{0}""`.
    Cmd,
    /// A template of the user's with `{0}` where the script's path goes, such as `bash -l {0}`.
    Custom(String),
}

/// Why a `shell` value was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ShellError {
    /// Not a known shell and not a template.
    #[error("not a known shell nor a command template containing {{0}}")]
    Unknown,
    /// A template whose words cannot be split (an unclosed quote).
    #[error("the command template has an unclosed quote")]
    Unbalanced,
}

impl Shell {
    /// The accepted values, for error messages.
    pub const ACCEPTED: &'static str = "bash, sh, pwsh, powershell, python, cmd, or a command template containing {0} such as \"bash -l {0}\"";

    /// The default shell: bash, except on Windows where the runner's default is pwsh.
    #[must_use]
    pub fn platform_default() -> Shell {
        if cfg!(windows) {
            Shell::Pwsh
        } else {
            Shell::Bash
        }
    }

    /// Parses the `shell` input.
    ///
    /// # Errors
    /// A name that is neither a known shell nor a template with `{0}`.
    pub fn parse(value: &str) -> Result<Shell, ShellError> {
        Ok(match value {
            "bash" => Shell::Bash,
            "sh" => Shell::Sh,
            "pwsh" => Shell::Pwsh,
            "powershell" => Shell::PowerShell,
            "python" => Shell::Python,
            "cmd" => Shell::Cmd,
            template if template.contains("{0}") => {
                // On Windows the template is not split into words (see `passes_raw_args`), so
                // its quotes need not balance.
                if !cfg!(windows) && shlex::split(template).is_none_or(|words| words.is_empty()) {
                    return Err(ShellError::Unbalanced);
                }
                Shell::Custom(template.to_owned())
            }
            _ => return Err(ShellError::Unknown),
        })
    }

    /// The runner's template for this shell, with `{0}` for the script's path.
    #[must_use]
    pub fn template(&self) -> &str {
        match self {
            Shell::Bash => "bash --noprofile --norc -eo pipefail {0}",
            Shell::Sh => "sh -e {0}",
            Shell::Pwsh => "pwsh -command \". '{0}'\"",
            Shell::PowerShell => "powershell -command \". '{0}'\"",
            Shell::Python => "python {0}",
            Shell::Cmd => "%ComSpec% /D /E:ON /V:OFF /S /C \"CALL \"{0}\"\"",
            Shell::Custom(template) => template,
        }
    }

    /// The script file's extension, which some shells need (PowerShell refuses other names).
    #[must_use]
    pub fn extension(&self) -> &'static str {
        match self {
            Shell::Pwsh | Shell::PowerShell => "ps1",
            Shell::Python => "py",
            Shell::Cmd => "cmd",
            Shell::Bash | Shell::Sh | Shell::Custom(_) => "sh",
        }
    }

    /// The script as written to the file, as the runner's `FixUpScriptContents` writes it: cmd
    /// scripts start with `@echo off`, so cmd does not echo each command into the log; PowerShell
    /// scripts are wrapped so that errors stop the script and the last native exit code becomes
    /// the script's. The lines added are joined with the platform's newline (the runner's
    /// `Environment.NewLine`).
    #[must_use]
    pub fn script_text(&self, script: &str) -> String {
        match self {
            Shell::Cmd => format!("@echo off{NEWLINE}{script}"),
            Shell::Pwsh | Shell::PowerShell => format!(
                "$ErrorActionPreference = 'stop'{NEWLINE}{script}{NEWLINE}if ((Test-Path -LiteralPath variable:\\LASTEXITCODE)) {{ exit $LASTEXITCODE }}"
            ),
            _ => script.to_owned(),
        }
    }

    /// The template's words; `parse` has checked that they split.
    fn words(&self) -> Vec<String> {
        shlex::split(self.template()).unwrap_or_default()
    }

    /// The program to start (`bash`, or `%ComSpec%` resolved for cmd). On Windows it is the
    /// template's first whitespace-delimited word, as the runner takes it, backslashes and all
    /// (`C:\tools\sh.exe -e {0}`).
    #[must_use]
    pub fn program(&self) -> OsString {
        if *self == Shell::Cmd {
            return std::env::var_os("ComSpec").unwrap_or_else(|| "cmd.exe".into());
        }
        if cfg!(windows) {
            return first_word(self.template()).into();
        }
        self.words().into_iter().next().unwrap_or_default().into()
    }

    /// Whether the arguments go to the program as one string, [`Shell::raw_args`], rather than
    /// one by one, [`Shell::args`]: for cmd, which parses its own command line, and on Windows
    /// for a template of the user's, as the runner passes it (the first word is the program,
    /// the rest its argument string with the script's path put in, quotes and backslashes as
    /// written). The built-in templates' arguments come out the same either way (the tests
    /// check PowerShell's), and one by one a script path with spaces stays one argument.
    #[must_use]
    pub fn passes_raw_args(&self) -> bool {
        matches!(self, Shell::Cmd) || (cfg!(windows) && matches!(self, Shell::Custom(_)))
    }

    /// The arguments after the program, with `{0}` replaced by `script`.
    ///
    /// The path is put in after splitting, so a path with spaces stays one argument.
    #[must_use]
    pub fn args(&self, script: &Path) -> Vec<OsString> {
        let path = script.to_string_lossy();
        self.words()
            .iter()
            .skip(1)
            .map(|w| w.replace("{0}", &path).into())
            .collect()
    }

    /// The arguments as one string, as Windows passes them (cmd parses its own command line).
    #[must_use]
    pub fn raw_args(&self, script: &Path) -> String {
        let template = self.template().trim_start();
        let rest = template
            .split_once(char::is_whitespace)
            .map_or("", |(_, rest)| rest);
        rest.replace("{0}", &script.to_string_lossy())
    }
}

/// The first whitespace-delimited word of `template`.
fn first_word(template: &str) -> &str {
    template.split_whitespace().next().unwrap_or_default()
}

impl fmt::Display for Shell {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.template())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runner_templates() {
        let path = Path::new("/tmp/dir with space/s.sh");
        let cases = [
            (
                "bash",
                "bash",
                vec![
                    "--noprofile",
                    "--norc",
                    "-eo",
                    "pipefail",
                    "/tmp/dir with space/s.sh",
                ],
            ),
            ("sh", "sh", vec!["-e", "/tmp/dir with space/s.sh"]),
            (
                "pwsh",
                "pwsh",
                vec!["-command", ". '/tmp/dir with space/s.sh'"],
            ),
            ("python", "python", vec!["/tmp/dir with space/s.sh"]),
            (
                "bash -l {0}",
                "bash",
                vec!["-l", "/tmp/dir with space/s.sh"],
            ),
            (
                "perl -w {0}",
                "perl",
                vec!["-w", "/tmp/dir with space/s.sh"],
            ),
        ];
        for (input, program, args) in cases {
            let shell = Shell::parse(input).unwrap();
            assert_eq!(shell.program(), OsString::from(program), "{input}");
            let want: Vec<OsString> = args.into_iter().map(OsString::from).collect();
            assert_eq!(shell.args(path), want, "{input}");
        }
    }

    #[test]
    fn cmd_keeps_its_quoting_as_one_string() {
        let shell = Shell::parse("cmd").unwrap();
        assert_eq!(
            shell.raw_args(Path::new(r"C:\t\s.cmd")),
            r#"/D /E:ON /V:OFF /S /C "CALL "C:\t\s.cmd"""#
        );
        assert_eq!(shell.extension(), "cmd");
    }

    #[test]
    fn unknown_shells_and_broken_templates_are_refused() {
        assert_eq!(Shell::parse("zsh"), Err(ShellError::Unknown));
        assert_eq!(Shell::parse("bash -c"), Err(ShellError::Unknown));
        assert_eq!(
            ShellError::Unknown.to_string(),
            "not a known shell nor a command template containing {0}"
        );
        #[cfg(not(windows))]
        assert_eq!(Shell::parse("bash '{0}"), Err(ShellError::Unbalanced));
    }

    #[test]
    fn a_template_of_the_user_s_on_windows_is_its_first_word_and_the_rest_verbatim() {
        let shell = Shell::parse(r"C:\tools\sh.exe -e {0}").unwrap();
        let script = Path::new(r"D:\a\_temp\s.sh");
        assert_eq!(shell.raw_args(script), r"-e D:\a\_temp\s.sh");
        if cfg!(windows) {
            assert!(shell.passes_raw_args());
            assert_eq!(shell.program(), OsString::from(r"C:\tools\sh.exe"));
            let quoted = Shell::parse(r"C:\Users\O'Brien\sh.exe -e {0}").unwrap();
            assert_eq!(quoted.program(), OsString::from(r"C:\Users\O'Brien\sh.exe"));
        } else {
            assert!(!shell.passes_raw_args());
        }
        assert!(Shell::Cmd.passes_raw_args());
        assert!(!Shell::Pwsh.passes_raw_args());
    }

    #[test]
    fn powershell_scripts_stop_on_errors_and_keep_the_exit_code() {
        for shell in [Shell::Pwsh, Shell::PowerShell] {
            assert_eq!(
                shell.script_text("exit 3"),
                format!(
                    "$ErrorActionPreference = 'stop'{NEWLINE}exit 3{NEWLINE}if ((Test-Path -LiteralPath variable:\\LASTEXITCODE)) {{ exit $LASTEXITCODE }}"
                )
            );
        }
        assert_eq!(Shell::Bash.script_text("false"), "false");
    }

    #[test]
    fn cmd_scripts_start_with_echo_off_as_the_runners() {
        assert_eq!(
            Shell::Cmd.script_text("echo one\necho two"),
            format!("@echo off{NEWLINE}echo one\necho two")
        );
    }

    /// The runner's argument strings (`ScriptHandlerHelpers._defaultArguments`), `{0}` for the
    /// script's path.
    const RUNNER_POWERSHELL_ARGS: &str = "-command \". '{0}'\"";

    /// Script paths as recover makes them on runners: under `RUNNER_TEMP`, and under a user's
    /// temporary directory with a space and a short name in it.
    const WINDOWS_SCRIPTS: [&str; 2] = [
        r"D:\a\_temp\recover-Ab12\primary-1\attempt.ps1",
        r"C:\Users\Jane Doe\AppData\Local\Temp\RECOVE~1\primary-2\attempt.ps1",
    ];

    #[test]
    fn pwsh_and_powershell_get_the_runners_command_lines() {
        for (name, shell) in [("pwsh", Shell::Pwsh), ("powershell", Shell::PowerShell)] {
            assert_eq!(Shell::parse(name).unwrap(), shell);
            assert_eq!(shell.template(), format!("{name} {RUNNER_POWERSHELL_ARGS}"));
            assert_eq!(shell.program(), OsString::from(name));
            assert_eq!(shell.extension(), "ps1");
            for script in WINDOWS_SCRIPTS {
                let path = Path::new(script);
                let runner = RUNNER_POWERSHELL_ARGS.replace("{0}", script);
                assert_eq!(shell.raw_args(path), runner, "{name}");
                // One argument after -command: the dot-sourcing of the quoted path, spaces and
                // all, which the standard library quotes back into the runner's string.
                assert_eq!(
                    shell.args(path),
                    vec![OsString::from("-command"), format!(". '{script}'").into()],
                    "{name}"
                );
            }
        }
    }

    /// What Windows hands the shell: `cmd /c echo` prints the rest of its command line as
    /// it got it, so it shows how the standard library joined the arguments of a PowerShell
    /// attempt. They must read exactly as the runner's argument string.
    #[cfg(windows)]
    #[test]
    fn windows_passes_powershell_the_runners_argument_string() {
        for script in WINDOWS_SCRIPTS {
            let output = std::process::Command::new("cmd")
                .args(["/d", "/c", "echo"])
                .args(Shell::Pwsh.args(Path::new(script)))
                .output()
                .expect("run cmd");
            assert_eq!(
                String::from_utf8_lossy(&output.stdout),
                format!("{}\r\n", RUNNER_POWERSHELL_ARGS.replace("{0}", script))
            );
        }
    }
}
