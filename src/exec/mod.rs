//! One attempt: spawn the command in a process group of its own, relay its output, enforce its
//! timeout, and stop the whole group (TERM, grace, KILL) when it must end.

pub mod stream;
