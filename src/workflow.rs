//! Workflow commands (`::warning::`, `::error::`, `::group::`) and their escaping.
//!
//! Text from inputs or command output that recover prints itself is escaped by the runner's
//! rules (`%` → `%25`, CR → `%0D`, LF → `%0A`; in properties also `:` → `%3A`, `,` → `%2C`),
//! so it can never end the command early or start a new one.

/// Escapes the message of a workflow command.
#[must_use]
pub fn escape_data(text: &str) -> String {
    text.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escapes a property value of a workflow command (`title=...`).
#[must_use]
pub fn escape_property(text: &str) -> String {
    escape_data(text).replace(':', "%3A").replace(',', "%2C")
}

/// A workflow command line: `::name key=value,...::message`.
#[must_use]
pub fn command(name: &str, properties: &[(&str, &str)], message: &str) -> String {
    let props: Vec<String> = properties
        .iter()
        .map(|(k, v)| format!("{k}={}", escape_property(v)))
        .collect();
    let sep = if props.is_empty() { "" } else { " " };
    format!("::{name}{sep}{}::{}", props.join(","), escape_data(message))
}

/// Makes text safe for a plain log line: control characters become spaces, and a line can
/// never begin with `::`, which the runner would read as a command.
#[must_use]
pub fn one_line(text: &str) -> String {
    let flat: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if flat.starts_with("::") {
        format!(" {flat}")
    } else {
        flat
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nothing_from_the_message_can_form_a_command() {
        let hostile = "50%\r\n::error::pwned\n::add-mask::x";
        let line = command("warning", &[("title", "a:b,c")], hostile);
        assert_eq!(
            line,
            "::warning title=a%3Ab%2Cc::50%25%0D%0A::error::pwned%0A::add-mask::x"
        );
        assert_eq!(line.lines().count(), 1);
        assert_eq!(one_line("::error::x\ny"), " ::error::x y");
    }
}
