//! The circuit breaker: closed → open → half-open, as pure functions of (state, event, now).
//!
//! In: a [`Circuit`] as read from its state file, what happened (a step wants to start, an
//! attempt ended), the settings and the wall clock in milliseconds since the Unix epoch.
//! Out: the new [`Circuit`] to write back and what the step must do. No disk, no clock.

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// Milliseconds since the Unix epoch: the wall clock, shared by every process on the runner.
pub type EpochMillis = u64;

/// The step that holds the half-open circuit's one probe.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Probe {
    /// Who is probing: a token unique to one recover process.
    pub owner: String,
    /// When the probe started.
    pub started_ms: EpochMillis,
}

/// One circuit's shared state, as stored in its file.
///
/// The circuit is open while `until_ms` lies in the future, half-open once it has passed, and
/// closed when it is `None`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Circuit {
    /// Failed attempts with a retryable category since the last success, across all steps.
    pub consecutive_failures: u64,
    /// When the circuit last opened.
    pub opened_at_ms: Option<EpochMillis>,
    /// When the cooldown ends; `None` while the circuit is closed.
    pub until_ms: Option<EpochMillis>,
    /// The step probing the half-open circuit, if one is.
    pub probe: Option<Probe>,
}

/// Where a circuit stands at one moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Attempts run.
    Closed,
    /// Attempts are skipped until the cooldown ends.
    Open,
    /// The cooldown has ended: one step's first attempt may probe.
    HalfOpen,
}

impl Phase {
    /// The word used in outputs, the summary and `recover state show`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Closed => "closed",
            Phase::Open => "open",
            Phase::HalfOpen => "half_open",
        }
    }
}

/// The settings of one circuit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Settings {
    /// Consecutive retryable failures that open the circuit.
    ///
    /// # Defaults
    /// 3.
    pub threshold: u32,
    /// How long the circuit stays open before a probe may run.
    ///
    /// # Defaults
    /// 300 seconds.
    pub cooldown: Duration,
}

impl Settings {
    fn cooldown_ms(self) -> u64 {
        u64::try_from(self.cooldown.as_millis()).unwrap_or(u64::MAX)
    }
}

/// What a step may do at its start (or before a retry).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Admission {
    /// The circuit is closed: attempts run.
    Closed,
    /// The circuit is half-open and this step holds the probe: its next attempt decides.
    Probe,
    /// The circuit is open (or another step is probing it): no attempt runs.
    Refused {
        /// When it opened.
        since_ms: EpochMillis,
        /// When its cooldown ends (or ended, while another step probes).
        until_ms: EpochMillis,
        /// Whether another step holds the probe of the half-open circuit.
        probing: bool,
    },
}

/// How a finished attempt counts for the circuit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    /// The attempt passed.
    Success,
    /// The attempt failed with a retryable category: the service looks down.
    RetryableFailure,
    /// The attempt failed in a way that says nothing about the service (a permanent failure).
    OtherFailure,
}

impl Circuit {
    /// Where the circuit stands at `now`.
    #[must_use]
    pub fn phase(&self, now: EpochMillis) -> Phase {
        match self.until_ms {
            None => Phase::Closed,
            Some(until) if now < until => Phase::Open,
            Some(_) => Phase::HalfOpen,
        }
    }

    /// Whether the probe of the half-open circuit is held by a live step other than `owner`.
    /// A probe older than the cooldown counts as abandoned (its step died or was cancelled),
    /// so a crashed probe cannot keep the circuit shut forever.
    fn probed_by_other(&self, owner: &str, settings: Settings, now: EpochMillis) -> bool {
        self.probe.as_ref().is_some_and(|p| {
            p.owner != owner && now.saturating_sub(p.started_ms) < settings.cooldown_ms()
        })
    }
}

/// Makes a circuit as read from its file fit `now` and this step's cooldown, before any decision:
/// no stored time lies in the future, and an open circuit ends no later than its opening plus
/// the cooldown.
///
/// Why: the file may come from a runner whose clock was ahead, from a cache restored from
/// elsewhere, or from a step with a longer cooldown. Trusted as is, `until_ms` ten years ahead
/// would keep the circuit open for ten years and a future `probe.started_ms` would hold the
/// probe as long. A circuit that is open with no opening time opens now.
#[must_use]
pub fn settle(circuit: Circuit, settings: Settings, now: EpochMillis) -> Circuit {
    let opened_at_ms = match (circuit.opened_at_ms, circuit.until_ms) {
        (Some(opened), _) => Some(opened.min(now)),
        (None, Some(_)) => Some(now),
        (None, None) => None,
    };
    let until_ms = circuit.until_ms.map(|until| {
        let latest = opened_at_ms
            .unwrap_or(now)
            .saturating_add(settings.cooldown_ms());
        until.min(latest)
    });
    let probe = circuit.probe.map(|p| Probe {
        started_ms: p.started_ms.min(now),
        ..p
    });
    Circuit {
        consecutive_failures: circuit.consecutive_failures,
        opened_at_ms,
        until_ms,
        probe,
    }
}

/// A step named `owner` asks to run an attempt at `now`.
///
/// Closed: yes. Open: no. Half-open: the first step to ask becomes the probe; the others are
/// refused until the probe's attempt ends (or the probe is abandoned).
#[must_use]
pub fn admit(
    circuit: Circuit,
    owner: &str,
    settings: Settings,
    now: EpochMillis,
) -> (Circuit, Admission) {
    let refused = |c: &Circuit, probing| Admission::Refused {
        since_ms: c.opened_at_ms.unwrap_or(now),
        until_ms: c.until_ms.unwrap_or(now),
        probing,
    };
    match circuit.phase(now) {
        Phase::Closed => (circuit, Admission::Closed),
        Phase::Open => {
            let admission = refused(&circuit, false);
            (circuit, admission)
        }
        Phase::HalfOpen if circuit.probed_by_other(owner, settings, now) => {
            let admission = refused(&circuit, true);
            (circuit, admission)
        }
        Phase::HalfOpen if circuit.probe.as_ref().is_some_and(|p| p.owner == owner) => {
            (circuit, Admission::Probe)
        }
        Phase::HalfOpen => {
            let circuit = Circuit {
                probe: Some(Probe {
                    owner: owner.to_owned(),
                    started_ms: now,
                }),
                ..circuit
            };
            (circuit, Admission::Probe)
        }
    }
}

/// An attempt of the step `owner` ended with `event` at `now`.
///
/// A success closes the circuit and resets the count. A retryable failure adds one to the count;
/// it opens a closed circuit at the threshold and reopens a half-open one at once (the probe
/// failed, or the service failed a step that started before the circuit opened). Another kind of
/// failure leaves the count alone and gives back the probe, if this step held it.
#[must_use]
pub fn record(
    circuit: Circuit,
    owner: &str,
    event: Event,
    settings: Settings,
    now: EpochMillis,
) -> Circuit {
    let open = |failures| Circuit {
        consecutive_failures: failures,
        opened_at_ms: Some(now),
        until_ms: Some(now.saturating_add(settings.cooldown_ms())),
        probe: None,
    };
    match event {
        Event::Success => Circuit::default(),
        Event::RetryableFailure => {
            let failures = circuit.consecutive_failures.saturating_add(1);
            match circuit.phase(now) {
                Phase::Closed if failures >= u64::from(settings.threshold) => open(failures),
                Phase::Closed | Phase::Open => Circuit {
                    consecutive_failures: failures,
                    ..circuit
                },
                Phase::HalfOpen => open(failures),
            }
        }
        Event::OtherFailure => {
            let held = circuit.probe.as_ref().is_some_and(|p| p.owner == owner);
            Circuit {
                probe: if held { None } else { circuit.probe },
                ..circuit
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SETTINGS: Settings = Settings {
        threshold: 3,
        cooldown: Duration::from_secs(300),
    };
    const COOLDOWN: u64 = 300_000;
    const T0: EpochMillis = 1_700_000_000_000;

    fn fail(c: Circuit, now: EpochMillis) -> Circuit {
        record(c, "a", Event::RetryableFailure, SETTINGS, now)
    }

    #[test]
    fn opens_at_the_threshold_of_consecutive_retryable_failures() {
        let mut c = Circuit::default();
        for n in 1..=2 {
            c = fail(c, T0 + n);
            assert_eq!(c.phase(T0 + n), Phase::Closed, "after {n}");
        }
        c = fail(c, T0 + 3);
        assert_eq!(c.phase(T0 + 3), Phase::Open);
        assert_eq!(c.opened_at_ms, Some(T0 + 3));
        assert_eq!(c.until_ms, Some(T0 + 3 + COOLDOWN));
        assert_eq!(c.consecutive_failures, 3);
    }

    #[test]
    fn a_success_closes_and_resets_the_count() {
        let c = fail(fail(Circuit::default(), T0), T0);
        let c = record(c, "a", Event::Success, SETTINGS, T0);
        assert_eq!(c, Circuit::default());
        // Two more failures do not reach the threshold of three again.
        let c = fail(fail(c, T0), T0);
        assert_eq!(c.phase(T0), Phase::Closed);
    }

    #[test]
    fn a_permanent_failure_neither_counts_nor_resets() {
        let c = fail(fail(Circuit::default(), T0), T0);
        let c = record(c, "a", Event::OtherFailure, SETTINGS, T0);
        assert_eq!(c.consecutive_failures, 2);
        assert_eq!(fail(c, T0).phase(T0), Phase::Open);
    }

    #[test]
    fn an_open_circuit_refuses_until_the_cooldown_ends() {
        let open = fail(fail(fail(Circuit::default(), T0), T0), T0);
        let (same, admission) = admit(open.clone(), "b", SETTINGS, T0 + COOLDOWN - 1);
        assert_eq!(same, open);
        assert_eq!(
            admission,
            Admission::Refused {
                since_ms: T0,
                until_ms: T0 + COOLDOWN,
                probing: false
            }
        );
        // Failures of steps that started before it opened keep counting, but do not move it.
        let later = fail(open.clone(), T0 + 10);
        assert_eq!(later.until_ms, open.until_ms);
        assert_eq!(later.consecutive_failures, 4);
    }

    #[test]
    fn after_the_cooldown_one_step_probes_and_the_others_wait() {
        let open = fail(fail(fail(Circuit::default(), T0), T0), T0);
        let now = T0 + COOLDOWN;
        assert_eq!(open.phase(now), Phase::HalfOpen);
        let (probing, first) = admit(open, "b", SETTINGS, now);
        assert_eq!(first, Admission::Probe);
        let (probing, second) = admit(probing, "c", SETTINGS, now + 5);
        assert!(matches!(second, Admission::Refused { probing: true, .. }));
        // The probe asking again (before a retry) keeps it.
        let (probing, again) = admit(probing, "b", SETTINGS, now + 6);
        assert_eq!(again, Admission::Probe);
        // An abandoned probe is taken over once it is older than the cooldown.
        let (_, late) = admit(probing, "c", SETTINGS, now + COOLDOWN);
        assert_eq!(late, Admission::Probe);
    }

    #[test]
    fn the_probe_closes_on_success_and_reopens_on_failure() {
        let open = fail(fail(fail(Circuit::default(), T0), T0), T0);
        let now = T0 + COOLDOWN + 1;
        let (probing, _) = admit(open, "b", SETTINGS, now);
        let closed = record(probing.clone(), "b", Event::Success, SETTINGS, now + 1);
        assert_eq!(closed.phase(now + 1), Phase::Closed);
        assert_eq!(closed.consecutive_failures, 0);
        let reopened = record(
            probing.clone(),
            "b",
            Event::RetryableFailure,
            SETTINGS,
            now + 1,
        );
        assert_eq!(reopened.phase(now + 1), Phase::Open);
        assert_eq!(reopened.opened_at_ms, Some(now + 1));
        assert_eq!(reopened.until_ms, Some(now + 1 + COOLDOWN));
        assert_eq!(reopened.probe, None);
        // A permanent failure of the probe gives the probe back: the next step probes.
        let released = record(probing, "b", Event::OtherFailure, SETTINGS, now + 1);
        assert_eq!(released.phase(now + 1), Phase::HalfOpen);
        assert_eq!(released.probe, None);
    }

    #[test]
    fn stored_times_are_settled_against_the_clock_and_the_cooldown() {
        const YEAR: u64 = 365 * 24 * 3600 * 1000;
        let probe = |started_ms| {
            Some(Probe {
                owner: "other".into(),
                started_ms,
            })
        };
        let circuit = |opened: Option<u64>, until: Option<u64>, probe| Circuit {
            consecutive_failures: 5,
            opened_at_ms: opened,
            until_ms: until,
            probe,
        };
        // (stored, settled)
        let cases = [
            // A sane open circuit is left alone.
            (
                circuit(Some(T0 - 10), Some(T0 - 10 + COOLDOWN), None),
                circuit(Some(T0 - 10), Some(T0 - 10 + COOLDOWN), None),
            ),
            // Until ten years ahead: no later than its opening plus the cooldown.
            (
                circuit(Some(T0 - 10), Some(T0 + 10 * YEAR), None),
                circuit(Some(T0 - 10), Some(T0 - 10 + COOLDOWN), None),
            ),
            // Opened in the future: it opened now at the latest.
            (
                circuit(Some(T0 + 10 * YEAR), Some(T0 + 10 * YEAR + COOLDOWN), None),
                circuit(Some(T0), Some(T0 + COOLDOWN), None),
            ),
            // Open without an opening time: opens now.
            (
                circuit(None, Some(u64::MAX), None),
                circuit(Some(T0), Some(T0 + COOLDOWN), None),
            ),
            // A probe from the future started now at the latest.
            (
                circuit(Some(T0 - COOLDOWN - 5), Some(T0 - 5), probe(T0 + YEAR)),
                circuit(Some(T0 - COOLDOWN - 5), Some(T0 - 5), probe(T0)),
            ),
            // A longer cooldown of another step is cut to this step's.
            (
                circuit(Some(T0 - 1000), Some(T0 - 1000 + 2 * COOLDOWN), None),
                circuit(Some(T0 - 1000), Some(T0 - 1000 + COOLDOWN), None),
            ),
            // A closed circuit stays closed.
            (circuit(None, None, None), circuit(None, None, None)),
        ];
        for (stored, want) in cases {
            assert_eq!(settle(stored.clone(), SETTINGS, T0), want, "{stored:?}");
        }
    }

    #[test]
    fn a_circuit_from_the_future_admits_within_one_cooldown() {
        const YEAR: u64 = 365 * 24 * 3600 * 1000;
        let stored = Circuit {
            consecutive_failures: 3,
            opened_at_ms: Some(T0 + 10 * YEAR),
            until_ms: Some(T0 + 10 * YEAR + COOLDOWN),
            probe: Some(Probe {
                owner: "ghost".into(),
                started_ms: T0 + 10 * YEAR,
            }),
        };
        let (c, first) = admit(settle(stored, SETTINGS, T0), "a", SETTINGS, T0);
        assert!(matches!(first, Admission::Refused { until_ms, .. } if until_ms == T0 + COOLDOWN));
        // One cooldown later the circuit is half-open and the ghost's probe counts as abandoned.
        let later = T0 + COOLDOWN;
        let (_, probe) = admit(settle(c, SETTINGS, later), "a", SETTINGS, later);
        assert_eq!(probe, Admission::Probe);
    }

    #[test]
    fn a_threshold_of_one_opens_on_the_first_failure() {
        let one = Settings {
            threshold: 1,
            ..SETTINGS
        };
        let c = record(Circuit::default(), "a", Event::RetryableFailure, one, T0);
        assert_eq!(c.phase(T0), Phase::Open);
    }
}
