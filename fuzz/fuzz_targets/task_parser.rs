//! Feeds arbitrary text to the task file parser: it must return tasks or errors, never panic,
//! hang or exhaust memory, and a file it accepts must expand every task without looping.
#![no_main]

use libfuzzer_sys::fuzz_target;
use recover::task::Tasks;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data)
        && let Ok(tasks) = Tasks::parse(text)
    {
        let names: Vec<String> = tasks.iter().map(|(name, _)| name.to_owned()).collect();
        let order = tasks.expand(&names).expect("every task of a checked file expands");
        assert!(order.len() <= names.len(), "a simple task ran twice");
    }
});
