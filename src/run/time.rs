//! Where "now" comes from and how the loop waits, injected so that tests of the loop never
//! really wait.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use tokio::time::Instant;

/// Where "now" comes from.
pub trait Clock {
    /// The current instant, for durations and the deadline.
    fn now(&self) -> Instant;

    /// The wall-clock time in seconds since the Unix epoch, for wait hints that name a time
    /// (`x-ratelimit-reset`, an HTTP-date).
    fn unix_seconds(&self) -> u64;
}

/// How the loop waits between attempts.
pub trait Sleeper {
    /// Resolves after `duration`.
    fn sleep(&self, duration: Duration) -> Pin<Box<dyn Future<Output = ()> + '_>>;
}

/// The real clock and the real sleeper.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemTime;

impl Clock for SystemTime {
    fn now(&self) -> Instant {
        Instant::now()
    }

    fn unix_seconds(&self) -> u64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs())
    }
}

impl Sleeper for SystemTime {
    fn sleep(&self, duration: Duration) -> Pin<Box<dyn Future<Output = ()> + '_>> {
        Box::pin(tokio::time::sleep(duration))
    }
}
