//! Cancellation: SIGINT, SIGTERM or SIGHUP to recover (as the runner sends when a job is cancelled)
//! becomes a value the attempt loop can wait on.
//!
//! Once a signal is seen, the current attempt's group gets TERM, grace, KILL, and no further
//! attempt starts. recover itself never dies of the signal, so it can clean up and report.

use tokio::sync::watch;

/// The number of the signal that cancelled the run (2 for SIGINT, 15 for SIGTERM).
pub type CancelSignal = i32;

/// A handle that says whether, and by which signal, the run was cancelled.
#[derive(Debug, Clone)]
pub struct Cancel {
    rx: watch::Receiver<Option<CancelSignal>>,
}

impl Cancel {
    /// Listens for SIGINT, SIGTERM and SIGHUP (Ctrl-C and Ctrl-Break on Windows) from now on.
    ///
    /// # Errors
    /// When the signal handlers cannot be installed.
    pub fn listen() -> std::io::Result<Cancel> {
        let (tx, cancel) = Cancel::manual();
        super::platform::forward_cancel_signals(tx)?;
        Ok(cancel)
    }

    /// A handle cancelled by hand through the returned sender (for tests and embedders).
    #[must_use]
    pub fn manual() -> (watch::Sender<Option<CancelSignal>>, Cancel) {
        let (tx, rx) = watch::channel(None);
        (tx, Cancel { rx })
    }

    /// The signal, if the run was cancelled.
    #[must_use]
    pub fn signal(&self) -> Option<CancelSignal> {
        *self.rx.borrow()
    }

    /// Resolves when the run is cancelled; never, if the sender is gone without cancelling.
    pub async fn cancelled(&mut self) -> CancelSignal {
        match self.rx.wait_for(Option::is_some).await {
            Ok(signal) => signal.expect("wait_for returned a cancelled value"),
            Err(_) => std::future::pending().await,
        }
    }
}
