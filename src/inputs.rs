//! Raw inputs: the strings a step hands recover, before any checking.
//!
//! In: command-line flags and `INPUT_<NAME>` environment variables (as the runner sets them for
//! the action). Out: [`RawInputs`], one trimmed string per input that was given.
//!
//! [`INPUTS`] is the one list of inputs: the `run` flags, `--help`, the README table and the
//! test that keeps `action.yml` in step are all made from it.

use std::collections::BTreeMap;
use std::fmt::Write as _;

/// One input of `recover run` (and of the action).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InputSpec {
    /// The `snake_case` name, as in the action (`max_attempts`).
    pub name: &'static str,
    /// The default as text, or `None` when absent means "not set".
    pub default: Option<&'static str>,
    /// The placeholder shown in `--help`.
    pub value_name: &'static str,
    /// One or two sentences for `--help`, action.yml and the README.
    pub description: &'static str,
}

impl InputSpec {
    /// The command-line flag, in kebab-case (`max-attempts`).
    #[must_use]
    pub fn flag(&self) -> String {
        self.name.replace('_', "-")
    }

    /// The environment variable the runner sets for the action (`INPUT_MAX_ATTEMPTS`).
    #[must_use]
    pub fn env_var(&self) -> String {
        format!("INPUT_{}", self.name.to_ascii_uppercase())
    }
}

const fn input(
    name: &'static str,
    default: Option<&'static str>,
    value_name: &'static str,
    description: &'static str,
) -> InputSpec {
    InputSpec {
        name,
        default,
        value_name,
        description,
    }
}

/// Inputs of the action that `recover run` does not read (how the action installs the binary).
/// They are recover's all the same: like every input in [`INPUTS`], they never reach the
/// command as `INPUT_<NAME>`.
pub const ACTION_ONLY: [&str; 1] = ["install"];

/// Every input of `recover run`, in documentation order.
pub const INPUTS: &[InputSpec] = &[
    input(
        "command",
        None,
        "SCRIPT",
        "The command to run, as a script for `shell`. Required unless a program is given after `--`.",
    ),
    input(
        "shell",
        None,
        "SHELL",
        "bash, sh, pwsh, powershell, python, cmd, or a template containing {0} such as `bash -l {0}`. Default: bash (pwsh on Windows).",
    ),
    input(
        "timeout_minutes",
        None,
        "MINUTES",
        "Per-attempt timeout in minutes. Set this or timeout_seconds, not both; neither means no per-attempt timeout.",
    ),
    input(
        "timeout_seconds",
        None,
        "SECONDS",
        "Per-attempt timeout in seconds. Set this or timeout_minutes, not both.",
    ),
    input(
        "max_attempts",
        Some("3"),
        "N",
        "How many attempts at most, the first included.",
    ),
    input(
        "retry_wait_seconds",
        Some("10"),
        "SECONDS",
        "The wait before each retry (the base of the backoff); 0 means no wait.",
    ),
    input(
        "polling_interval_seconds",
        Some("1"),
        "SECONDS",
        "Accepted for compatibility with nick-fields/retry; recover waits on the process itself.",
    ),
    input(
        "retry_on",
        Some("any"),
        "LIST",
        "Which failures to retry: any, error (not timeouts), timeout (only timeouts), classified (only failures classified as retryable), or a comma list of these and categories (network, rate_limit, resource, transient, timeout, permanent, unknown).",
    ),
    input(
        "unknown_retries",
        Some("1"),
        "N",
        "Under `retry_on: classified`, how many failures that no rule recognises (`unknown`) are retried before recover stops; 0 never retries them.",
    ),
    input(
        "warning_on_retry",
        Some("true"),
        "BOOL",
        "Emit a ::warning:: annotation for each failed attempt that is retried.",
    ),
    input(
        "on_retry_command",
        None,
        "SCRIPT",
        "A command run with `shell` before each retry; bounded by the attempt timeout; its failure is logged and ignored.",
    ),
    input(
        "new_command_on_retry",
        None,
        "SCRIPT",
        "The command for attempts 2 and later, instead of `command`.",
    ),
    input(
        "retry_on_exit_code",
        None,
        "CODES",
        "Retry only these non-zero exit codes (a comma list); any other code fails at once.",
    ),
    input(
        "continue_on_error",
        Some("false"),
        "BOOL",
        "When the step fails, exit 0 and report the failure as a ::warning:: instead of an ::error::.",
    ),
    input(
        "working_directory",
        None,
        "DIR",
        "The directory the command runs in. Default: the current directory.",
    ),
    input(
        "total_timeout_seconds",
        None,
        "SECONDS",
        "A deadline across all attempts and waits. No wait or attempt starts that it cannot fit; the last attempt's timeout shrinks to what is left.",
    ),
    input(
        "kill_grace_seconds",
        Some("5"),
        "SECONDS",
        "After a timeout or a cancellation, how long the attempt's processes get between SIGTERM and SIGKILL.",
    ),
    input(
        "backoff",
        Some("fixed"),
        "KIND",
        "How the wait grows between retries: fixed, linear or exponential.",
    ),
    input(
        "backoff_factor",
        Some("2"),
        "FACTOR",
        "The growth factor of exponential backoff (wait n = retry_wait_seconds × factor^(n-1)).",
    ),
    input(
        "max_wait_seconds",
        None,
        "SECONDS",
        "The longest single wait, after backoff and jitter. Default: no cap.",
    ),
    input(
        "max_hint_wait_seconds",
        None,
        "SECONDS",
        "The longest wait that the output (Retry-After and the like) or the GitHub API's rate-limit reset may ask for; a longer one ends the retries instead of waiting. Default: the time left before total_timeout_seconds, else 900 (15 minutes).",
    ),
    input(
        "jitter",
        Some("none"),
        "KIND",
        "Randomness added to each wait: none, full, equal or decorrelated.",
    ),
    input(
        "rules",
        None,
        "YAML",
        "Classification rules (YAML, docs/rules.md) tried before rules_file and the built-in rules.",
    ),
    input(
        "rules_file",
        None,
        "PATH",
        "A file of classification rules (YAML, docs/rules.md) tried before the built-in rules.",
    ),
    input(
        "fallback_command",
        None,
        "SCRIPT",
        "Run when the attempts run out or a failure is not retried, e.g. unit tests when the integration environment is down.",
    ),
    input(
        "fallback_shell",
        None,
        "SHELL",
        "The shell of fallback_command. Default: `shell`.",
    ),
    input(
        "fallback_outcome",
        Some("success"),
        "RESULT",
        "The step's result when the fallback command succeeds: success or failure.",
    ),
    input(
        "on_flaky",
        Some("pass"),
        "ACTION",
        "When the step passed only after retries: pass, warn (a ::warning:: annotation) or fail (the step fails).",
    ),
    input(
        "summary",
        Some("always"),
        "WHEN",
        "When to append the report to the job summary ($GITHUB_STEP_SUMMARY): always, on-failure or never.",
    ),
    input(
        "report_file",
        None,
        "PATH",
        "Write a JSON report of the run to this file (schema: docs/report.md).",
    ),
    input(
        "circuit",
        None,
        "NAME",
        "A circuit breaker shared by the steps that depend on one service (letters, digits, `.`, `_`, `-`). After circuit_threshold consecutive retryable failures it opens: steps skip their command (running the fallback, if any) until the cooldown ends, then one step probes.",
    ),
    input(
        "circuit_threshold",
        Some("3"),
        "N",
        "Consecutive failed attempts with a retryable category, across all steps on the circuit, that open it.",
    ),
    input(
        "circuit_cooldown_seconds",
        Some("300"),
        "SECONDS",
        "How long an open circuit stays open before one step's first attempt probes it.",
    ),
    input(
        "retry_budget",
        None,
        "N",
        "The most retries (attempts after the first) that all steps sharing state_dir may spend together; once spent, failures are final. Default: no budget.",
    ),
    input(
        "state_dir",
        None,
        "DIR",
        "Where circuits and the retry budget are kept. Default: $RUNNER_TEMP/recover (one job), else the user cache directory. Unused without circuit or retry_budget.",
    ),
    input(
        "github_token",
        None,
        "TOKEN",
        "A token for the GitHub API at $GITHUB_API_URL: after a GitHub rate limit failure whose output names no wait, recover asks when the limit resets and waits until then. The action passes the workflow's token (github.token). Read from INPUT_GITHUB_TOKEN (or the variable named by --github-token-env), never from the command line, where `ps` would show it; never printed, never passed to the command.",
    ),
];

/// Inputs whose values are secrets: `Debug` shows them as `***`.
const SECRET_INPUTS: [&str; 1] = ["github_token"];

/// The strings given for each input, trimmed; empty strings count as absent.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct RawInputs {
    values: BTreeMap<&'static str, String>,
    /// Inputs given as bytes that are not UTF-8: an error, never silently absent.
    not_utf8: Vec<&'static str>,
}

/// One input's value as the environment holds it: text, or bytes that are not UTF-8.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EnvValue {
    /// A UTF-8 value.
    Text(String),
    /// A value that is not UTF-8 (only possible on Unix).
    NotUtf8,
}

impl EnvValue {
    /// Looks up `name` in the process environment.
    #[must_use]
    pub fn var(name: &str) -> Option<EnvValue> {
        let value = std::env::var_os(name)?;
        Some(match value.into_string() {
            Ok(text) => EnvValue::Text(text),
            Err(_) => EnvValue::NotUtf8,
        })
    }
}

impl std::fmt::Debug for RawInputs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let shown = self.values.iter().map(|(name, value)| {
            let value = if SECRET_INPUTS.contains(name) {
                "***"
            } else {
                value.as_str()
            };
            (name, value)
        });
        f.debug_struct("RawInputs")
            .field("values", &shown.collect::<BTreeMap<_, _>>())
            .field("not_utf8", &self.not_utf8)
            .finish()
    }
}

impl RawInputs {
    /// Collects inputs: the flag when given, else the `INPUT_<NAME>` variable.
    ///
    /// `flag` and `env` are lookups by input spec, so tests can pass plain maps.
    pub fn collect(
        flag: impl Fn(&InputSpec) -> Option<String>,
        env: impl Fn(&str) -> Option<String>,
    ) -> RawInputs {
        RawInputs::collect_env(flag, |name| env(name).map(EnvValue::Text))
    }

    /// [`RawInputs::collect`] with an environment that may hold values that are not UTF-8; each
    /// such input is recorded, so that the plan refuses it instead of running without it.
    pub fn collect_env(
        flag: impl Fn(&InputSpec) -> Option<String>,
        env: impl Fn(&str) -> Option<EnvValue>,
    ) -> RawInputs {
        let mut values = BTreeMap::new();
        let mut not_utf8 = Vec::new();
        for spec in INPUTS {
            if let Some(value) = flag(spec)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
            {
                values.insert(spec.name, value);
                continue;
            }
            match env(&spec.env_var()) {
                Some(EnvValue::Text(text)) if !text.trim().is_empty() => {
                    values.insert(spec.name, text.trim().to_owned());
                }
                Some(EnvValue::NotUtf8) => not_utf8.push(spec.name),
                _ => {}
            }
        }
        RawInputs { values, not_utf8 }
    }

    /// The inputs whose value is not UTF-8.
    #[must_use]
    pub fn not_utf8(&self) -> &[&'static str] {
        &self.not_utf8
    }

    /// Builds inputs from name–value pairs (for tests and `recover.yml` tasks).
    #[must_use]
    pub fn from_pairs<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> RawInputs {
        let map: BTreeMap<String, String> = pairs
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect();
        RawInputs::collect(|spec| map.get(spec.name).cloned(), |_| None)
    }

    /// The value given for `name`, if any.
    #[must_use]
    pub fn given(&self, name: &str) -> Option<&str> {
        self.values.get(name).map(String::as_str)
    }

    /// The value given for `name`, else its documented default.
    #[must_use]
    pub fn get(&self, name: &str) -> Option<&str> {
        self.given(name)
            .or_else(|| spec(name).and_then(|s| s.default))
    }
}

/// The spec of the input called `name`.
#[must_use]
pub fn spec(name: &str) -> Option<&'static InputSpec> {
    INPUTS.iter().find(|s| s.name == name)
}

/// The inputs as a Markdown table, as the README shows them.
#[must_use]
pub fn markdown_table() -> String {
    let mut table = String::from("| input | default | description |\n|---|---|---|\n");
    for spec in INPUTS {
        let default = spec.default.map_or_else(String::new, |d| format!("`{d}`"));
        let description = spec.description.replace('|', "\\|");
        let _ = writeln!(table, "| `{}` | {default} | {description} |", spec.name);
    }
    table
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn readme_lists_every_input() {
        let readme = include_str!("../README.md");
        let table = markdown_table();
        assert!(
            readme.contains(&table),
            "README.md's inputs table is stale; it should read:\n{table}"
        );
    }

    #[test]
    fn flags_win_over_env_and_empty_means_absent() {
        let raw = RawInputs::collect(
            |s| (s.name == "max_attempts").then(|| " 5 ".to_owned()),
            |var| match var {
                "INPUT_MAX_ATTEMPTS" => Some("9".to_owned()),
                "INPUT_SHELL" => Some("  ".to_owned()),
                "INPUT_COMMAND" => Some("\n echo hi \n".to_owned()),
                _ => None,
            },
        );
        assert_eq!(raw.given("max_attempts"), Some("5"));
        assert_eq!(raw.given("shell"), None);
        assert_eq!(raw.given("command"), Some("echo hi"));
        assert_eq!(raw.get("retry_wait_seconds"), Some("10"));
    }

    #[test]
    fn debug_output_hides_the_token() {
        let raw = RawInputs::from_pairs([("github_token", "ghs_secret"), ("max_attempts", "2")]);
        let shown = format!("{raw:?}");
        assert!(!shown.contains("ghs_secret"), "{shown}");
        assert!(shown.contains(r#""github_token": "***""#), "{shown}");
        assert!(shown.contains(r#""max_attempts": "2""#), "{shown}");
    }

    #[test]
    fn names_are_unique_and_snake_case() {
        let mut names: Vec<_> = INPUTS.iter().map(|s| s.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), INPUTS.len());
        for name in names {
            assert!(
                name.chars().all(|c| c.is_ascii_lowercase() || c == '_'),
                "{name}"
            );
        }
    }
}
