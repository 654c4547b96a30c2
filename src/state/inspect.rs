//! `recover state show` and `recover state reset`: the state directory as a person or a script
//! reads it, and a way to forget it.
//!
//! In: a [`Store`] and the wall clock. Out: text or JSON, and the files removed. Timestamps are
//! RFC 3339 strings in UTC with whole seconds (`2026-11-28T06:00:00Z`).

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::Serialize;

use super::breaker::{Circuit, EpochMillis};
use super::budget::Budget;
use super::rfc3339;
use super::store::{Damaged, Key, Store, StoreError};

/// One circuit in `recover state show --json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CircuitView {
    /// `closed`, `open` or `half_open`.
    pub state: &'static str,
    /// Consecutive retryable failures since the last success.
    pub consecutive_failures: u64,
    /// When it last opened (RFC 3339), or `null`.
    pub opened_at: Option<String>,
    /// When its cooldown ends (RFC 3339), or `null` while closed.
    pub until: Option<String>,
}

/// The budget in `recover state show --json`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct BudgetView {
    /// The `retry_budget` of the step that last spent from it.
    pub limit: u64,
    /// Retries spent.
    pub spent: u64,
}

/// Everything in a state directory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StateView {
    /// The circuits, by name.
    pub circuits: BTreeMap<String, CircuitView>,
    /// The budget, or `null` when no step has spent from one.
    pub budget: Option<BudgetView>,
}

/// Reads every state file of `store` at `now`; files that cannot be used are listed in the
/// second value and shown as fresh.
///
/// # Errors
/// When the directory cannot be listed or a file cannot be read.
pub fn view(store: &Store, now: EpochMillis) -> Result<(StateView, Vec<Damaged>), StoreError> {
    let mut damaged = Vec::new();
    let mut circuits = BTreeMap::new();
    for name in store.circuits()? {
        let (c, bad) = store.read::<Circuit>(&Key::Circuit(name.clone()))?;
        damaged.extend(bad);
        circuits.insert(
            name,
            CircuitView {
                state: c.phase(now).as_str(),
                consecutive_failures: c.consecutive_failures,
                opened_at: c.opened_at_ms.map(rfc3339),
                until: c.until_ms.map(rfc3339),
            },
        );
    }
    let budget = if store.path(&Key::Budget).exists() {
        let (b, bad) = store.read::<Budget>(&Key::Budget)?;
        damaged.extend(bad);
        Some(BudgetView {
            limit: b.limit,
            spent: b.spent,
        })
    } else {
        None
    };
    Ok((StateView { circuits, budget }, damaged))
}

/// The view as text, one line per circuit and one for the budget.
#[must_use]
pub fn render_text(store: &Store, view: &StateView) -> String {
    let mut out = format!("state_dir: {}\n", store.dir().display());
    if view.circuits.is_empty() {
        out.push_str("no circuits\n");
    }
    for (name, c) in &view.circuits {
        let _ = write!(
            out,
            "circuit {name}: {} ({} consecutive failures",
            c.state, c.consecutive_failures
        );
        match (c.state, &c.opened_at, &c.until) {
            ("open", Some(since), Some(until)) => {
                let _ = write!(out, "; open since {since} until {until}");
            }
            ("half_open", _, Some(until)) => {
                let _ = write!(out, "; cooldown ended {until}");
            }
            _ => {}
        }
        out.push_str(")\n");
    }
    match view.budget {
        Some(b) => {
            let _ = writeln!(
                out,
                "retry budget: {} of {} retries spent, {} left",
                b.spent,
                b.limit,
                b.limit.saturating_sub(b.spent)
            );
        }
        None => out.push_str("no retry budget spent\n"),
    }
    out
}

/// Forgets the circuit `name`, or every circuit and the budget; returns what was removed, as
/// `circuit NAME` and `retry budget`.
///
/// # Errors
/// When a file cannot be locked or removed, or the directory cannot be listed.
pub fn reset(store: &Store, name: Option<&str>) -> Result<Vec<String>, StoreError> {
    let mut removed = Vec::new();
    let names = match name {
        Some(name) => vec![name.to_owned()],
        None => store.circuits()?,
    };
    for name in names {
        if store.remove(&Key::Circuit(name.clone()))? {
            removed.push(format!("circuit {name}"));
        }
    }
    if name.is_none() && store.remove(&Key::Budget)? {
        removed.push("retry budget".to_owned());
    }
    Ok(removed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::breaker::{Event, Settings, record};
    use std::time::Duration;

    const NOW: EpochMillis = 1_764_309_600_000;

    fn seeded() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::create(dir.path()).unwrap();
        let settings = Settings {
            threshold: 2,
            cooldown: Duration::from_secs(60),
        };
        for (name, failures) in [("db", 2), ("web", 1)] {
            store
                .update(&Key::Circuit(name.into()), |mut c: Circuit| {
                    for _ in 0..failures {
                        c = record(c, "x", Event::RetryableFailure, settings, NOW);
                    }
                    (c, ())
                })
                .unwrap();
        }
        store
            .update(&Key::Budget, |_: Budget| {
                (
                    Budget {
                        limit: 10,
                        spent: 4,
                    },
                    (),
                )
            })
            .unwrap();
        (dir, store)
    }

    #[test]
    fn show_lists_circuits_and_the_budget() {
        let (_dir, store) = seeded();
        let (view, damaged) = view(&store, NOW + 1000).unwrap();
        assert!(damaged.is_empty());
        let json = serde_json::to_value(&view).unwrap();
        assert_eq!(
            json,
            serde_json::json!({
                "circuits": {
                    "db": {
                        "state": "open",
                        "consecutive_failures": 2,
                        "opened_at": "2025-11-28T06:00:00Z",
                        "until": "2025-11-28T06:01:00Z"
                    },
                    "web": {
                        "state": "closed",
                        "consecutive_failures": 1,
                        "opened_at": null,
                        "until": null
                    }
                },
                "budget": { "limit": 10, "spent": 4 }
            })
        );
        let text = render_text(&store, &view);
        assert!(text.contains(
            "circuit db: open (2 consecutive failures; open since 2025-11-28T06:00:00Z until 2025-11-28T06:01:00Z)"
        ), "{text}");
        assert!(
            text.contains("retry budget: 4 of 10 retries spent, 6 left"),
            "{text}"
        );
    }

    #[test]
    fn reset_forgets_one_circuit_or_everything() {
        let (_dir, store) = seeded();
        assert_eq!(reset(&store, Some("db")).unwrap(), vec!["circuit db"]);
        assert!(reset(&store, Some("db")).unwrap().is_empty());
        assert_eq!(
            reset(&store, None).unwrap(),
            vec!["circuit web", "retry budget"]
        );
        let (view, _) = view(&store, NOW).unwrap();
        assert!(view.circuits.is_empty());
        assert_eq!(view.budget, None);
    }
}
