//! Waits between attempts: the backoff's growth, the cap and the jitter, as an endless iterator.
//!
//! In: a [`WaitPolicy`] and a seeded RNG. Out: [`Waits`], one `Duration` per retry. Pure: the
//! caller sleeps, and seeds the RNG so tests can replay exact sequences.

use std::time::Duration;

use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

/// The longest wait recover computes; keeps float overflow out of `Duration`.
const LONGEST_WAIT: Duration = Duration::from_secs(365 * 24 * 3600);

/// How the wait grows from one retry to the next. `n` counts retries from 1, `b` is
/// `retry_wait_seconds`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backoff {
    /// `wait(n) = b`: the same wait every time (nick-fields/retry's behaviour).
    Fixed,
    /// `wait(n) = b × n`.
    Linear,
    /// `wait(n) = b × factor^(n−1)`.
    Exponential,
}

/// Randomness spread over each wait, so that many jobs failing together do not retry together.
/// `d` is the wait from the backoff after the cap, `U[x, y]` a uniform draw.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Jitter {
    /// `wait = d`.
    None,
    /// `wait = U[0, d]` ("full jitter").
    Full,
    /// `wait = d/2 + U[0, d/2]` ("equal jitter").
    Equal,
    /// `wait(n) = min(cap, U[b, 3 × wait(n−1)])` with `wait(0) = b` ("decorrelated jitter",
    /// from the AWS architecture blog): it grows on its own, so it ignores `backoff`.
    Decorrelated,
}

/// Everything that shapes the waits between attempts.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct WaitPolicy {
    /// The base wait (`retry_wait_seconds`).
    pub base: Duration,
    /// How the wait grows.
    pub backoff: Backoff,
    /// The factor of exponential backoff.
    ///
    /// # Defaults
    /// 2.
    pub factor: f64,
    /// The longest single wait (`max_wait_seconds`); `None` means no cap.
    pub cap: Option<Duration>,
    /// The randomness added.
    pub jitter: Jitter,
}

impl WaitPolicy {
    /// The waits before retry 1, 2, 3, …, drawn with `rng`.
    #[must_use]
    pub fn waits(&self, rng: StdRng) -> Waits {
        Waits {
            policy: *self,
            retry: 0,
            previous: self.base,
            rng,
        }
    }

    /// The waits with a fresh random seed.
    #[must_use]
    pub fn waits_from_entropy(&self) -> Waits {
        self.waits(rand::make_rng())
    }

    /// The waits with a fixed seed, for tests and reproducible runs.
    #[must_use]
    pub fn waits_seeded(&self, seed: u64) -> Waits {
        self.waits(StdRng::seed_from_u64(seed))
    }

    /// `wait`, no longer than the cap and [`LONGEST_WAIT`].
    pub(super) fn capped(&self, wait: Duration) -> Duration {
        let wait = wait.min(LONGEST_WAIT);
        self.cap.map_or(wait, |cap| wait.min(cap))
    }
}

/// An endless iterator of waits; the caller takes one per retry.
#[derive(Debug)]
pub struct Waits {
    policy: WaitPolicy,
    retry: u32,
    previous: Duration,
    rng: StdRng,
}

impl Iterator for Waits {
    type Item = Duration;

    fn next(&mut self) -> Option<Duration> {
        self.retry = self.retry.saturating_add(1);
        let p = &self.policy;
        let base = p.base.as_secs_f64();
        if base == 0.0 {
            return Some(Duration::ZERO);
        }
        let grown = match p.backoff {
            Backoff::Fixed => base,
            Backoff::Linear => base * f64::from(self.retry),
            Backoff::Exponential => base * p.factor.powf(f64::from(self.retry - 1)),
        };
        let d = p.capped(seconds(grown)).as_secs_f64();
        let wait = match p.jitter {
            Jitter::None => d,
            Jitter::Full => self.rng.random_range(0.0..=d),
            Jitter::Equal => d / 2.0 + self.rng.random_range(0.0..=d / 2.0),
            Jitter::Decorrelated => {
                let high = (self.previous.as_secs_f64() * 3.0).max(base);
                p.capped(seconds(self.rng.random_range(base..=high)))
                    .as_secs_f64()
            }
        };
        let wait = p.capped(seconds(wait));
        self.previous = wait;
        Some(wait)
    }
}

fn seconds(value: f64) -> Duration {
    Duration::try_from_secs_f64(value).unwrap_or(LONGEST_WAIT)
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    pub(in crate::policy) fn policy(
        backoff: Backoff,
        jitter: Jitter,
        base: u64,
        cap: Option<u64>,
    ) -> WaitPolicy {
        WaitPolicy {
            base: Duration::from_secs(base),
            backoff,
            factor: 2.0,
            cap: cap.map(Duration::from_secs),
            jitter,
        }
    }

    fn secs(waits: impl Iterator<Item = Duration>, n: usize) -> Vec<f64> {
        waits.take(n).map(|d| d.as_secs_f64()).collect()
    }

    #[test]
    fn exact_sequences_without_jitter() {
        let cases = [
            (Backoff::Fixed, None, vec![10.0, 10.0, 10.0, 10.0, 10.0]),
            (Backoff::Linear, None, vec![10.0, 20.0, 30.0, 40.0, 50.0]),
            (
                Backoff::Exponential,
                None,
                vec![10.0, 20.0, 40.0, 80.0, 160.0],
            ),
            (
                Backoff::Exponential,
                Some(45),
                vec![10.0, 20.0, 40.0, 45.0, 45.0],
            ),
            (
                Backoff::Linear,
                Some(25),
                vec![10.0, 20.0, 25.0, 25.0, 25.0],
            ),
        ];
        for (backoff, cap, want) in cases {
            let p = policy(backoff, Jitter::None, 10, cap);
            assert_eq!(secs(p.waits_seeded(1), 5), want, "{backoff:?} cap {cap:?}");
        }
    }

    #[test]
    fn zero_base_means_no_wait_whatever_the_shape() {
        for backoff in [Backoff::Fixed, Backoff::Linear, Backoff::Exponential] {
            for jitter in [
                Jitter::None,
                Jitter::Full,
                Jitter::Equal,
                Jitter::Decorrelated,
            ] {
                let p = policy(backoff, jitter, 0, None);
                assert!(
                    p.waits_seeded(7).take(6).all(|d| d.is_zero()),
                    "{backoff:?} {jitter:?}"
                );
            }
        }
    }

    #[test]
    fn huge_exponents_saturate_instead_of_panicking() {
        let p = policy(Backoff::Exponential, Jitter::None, 10, None);
        let last = p.waits_seeded(1).nth(5000).unwrap();
        assert_eq!(last, LONGEST_WAIT);
    }

    #[test]
    fn jitter_stays_inside_its_bounds_for_every_backoff() {
        for backoff in [Backoff::Fixed, Backoff::Linear, Backoff::Exponential] {
            let plain = policy(backoff, Jitter::None, 4, Some(60));
            let expected: Vec<Duration> = plain.waits_seeded(0).take(8).collect();
            for seed in 0..200 {
                let full = policy(backoff, Jitter::Full, 4, Some(60)).waits_seeded(seed);
                let equal = policy(backoff, Jitter::Equal, 4, Some(60)).waits_seeded(seed);
                for ((f, e), d) in full.zip(equal).zip(&expected) {
                    assert!(f <= *d, "full {f:?} > {d:?}");
                    assert!(
                        e >= *d / 2 && e <= *d,
                        "equal {e:?} outside [{:?}, {d:?}]",
                        *d / 2
                    );
                }
                let mut previous = Duration::from_secs(4);
                for w in policy(backoff, Jitter::Decorrelated, 4, Some(60))
                    .waits_seeded(seed)
                    .take(8)
                {
                    let high = (previous * 3)
                        .max(Duration::from_secs(4))
                        .min(Duration::from_secs(60));
                    assert!(
                        w >= Duration::from_secs(4) && w <= high,
                        "decorrelated {w:?} outside [4s, {high:?}]"
                    );
                    previous = w;
                }
            }
        }
    }

    #[test]
    fn a_seed_replays_the_same_sequence() {
        for jitter in [Jitter::Full, Jitter::Equal, Jitter::Decorrelated] {
            let p = policy(Backoff::Exponential, jitter, 3, Some(100));
            assert_eq!(secs(p.waits_seeded(42), 6), secs(p.waits_seeded(42), 6));
            assert_ne!(
                secs(p.waits_seeded(42), 6),
                secs(p.waits_seeded(43), 6),
                "{jitter:?}"
            );
        }
    }
}
