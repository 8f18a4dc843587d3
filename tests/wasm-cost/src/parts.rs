//! The measured parts of the engine's work: a first sync of the fixture's
//! tenant, then a delta run after one user was added, each invocation timed
//! by the host's monotonic clock (`std::time::Instant`: WASI's
//! `monotonic-clock` under wasmtime).

use std::time::{Duration, Instant};

use engine::{AdvanceOutcome, Budget, Phase, Trigger};

use crate::CostError;
use crate::fixture::{Fixture, ORG, person};
use crate::ready::ready;

/// One Graph page per invocation, so each page's invocation is timed on its
/// own (the manual clock never spends the time budget). Finalize's first
/// slice is done by the invocation that read the last page: the engine
/// starts finalize in the same invocation while half the budget is left.
const ONE_PAGE: Budget = Budget {
    max_millis: 20_000,
    max_pages: Some(1),
};

/// More invocations than any measured run takes: a run still going after
/// these is reported instead of looped on.
const MAX_INVOCATIONS: usize = 100_000;

/// A measured part: its engine calls and the wall time they took.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Part {
    pub name: &'static str,
    /// Engine calls timed (`start_sync` and `advance` calls).
    pub calls: usize,
    /// Their wall time together.
    pub total: Duration,
    /// The longest of them.
    pub longest: Duration,
}

impl Part {
    fn new(name: &'static str) -> Part {
        Part {
            name,
            calls: 0,
            total: Duration::ZERO,
            longest: Duration::ZERO,
        }
    }

    fn add(&mut self, took: Duration) {
        self.calls += 1;
        self.total += took;
        self.longest = self.longest.max(took);
    }

    /// The parts together, as one more part.
    pub fn sum(name: &'static str, parts: &[Part]) -> Part {
        parts.iter().fold(Part::new(name), |mut all, part| {
            all.calls += part.calls;
            all.total += part.total;
            all.longest = all.longest.max(part.longest);
            all
        })
    }

    /// Each figure the smaller of the two (the same part measured twice).
    pub fn min(self, other: &Part) -> Part {
        Part {
            total: self.total.min(other.total),
            longest: self.longest.min(other.longest),
            ..self
        }
    }
}

/// A fresh fixture of `users` users, its first sync (start, page
/// invocations, finalize's invocations: the first also reads the last
/// page) and a delta run after one user joined a group, in that order.
pub fn measure(users: usize) -> Result<Vec<Part>, CostError> {
    let f = Fixture::new(users)?;
    let mut start = Part::new("first sync: start");
    let mut pages = Part::new("first sync: a page per invocation");
    let mut finalize = Part::new("first sync: finalize, a slice each");
    start.add(start_sync(&f)?);
    for (took, outcome) in advance_to_end(&f)? {
        match outcome {
            AdvanceOutcome::Progressed { phase, .. } if reads_pages(phase) => pages.add(took),
            _ => finalize.add(took),
        }
    }
    f.tenant.put_user(person(users));
    f.tenant.add_user_to("team-0", &person(users).id);
    let mut delta = Part::new("delta run: one user added");
    delta.add(start_sync(&f)?);
    for (took, _) in advance_to_end(&f)? {
        delta.add(took);
    }
    Ok(vec![start, pages, finalize, delta])
}

/// Whether the run is still reading Graph pages in `phase`.
fn reads_pages(phase: Phase) -> bool {
    matches!(
        phase,
        Phase::Domains | Phase::Groups | Phase::Members | Phase::Users
    )
}

/// Starts a manual sync; how long it took.
fn start_sync(f: &Fixture) -> Result<Duration, CostError> {
    let started = Instant::now();
    ready(
        f.engine()
            .start_sync(ORG, &f.dir, &f.tenant, Trigger::Manual),
    )??;
    Ok(started.elapsed())
}

/// Advances the run until it finishes: each invocation's wall time and
/// outcome, in order.
fn advance_to_end(f: &Fixture) -> Result<Vec<(Duration, AdvanceOutcome)>, CostError> {
    let mut invocations = Vec::new();
    while invocations.len() < MAX_INVOCATIONS {
        let started = Instant::now();
        let outcome = ready(
            f.engine()
                .advance(ORG, &f.dir, &f.tenant, &f.mailer, ONE_PAGE),
        )??;
        let took = started.elapsed();
        match outcome {
            AdvanceOutcome::Finished { .. } => {
                invocations.push((took, outcome));
                return Ok(invocations);
            }
            AdvanceOutcome::Progressed {
                waiting_until: None,
                ..
            } => invocations.push((took, outcome)),
            other => return Err(CostError::Stalled(other)),
        }
    }
    Err(CostError::Endless(MAX_INVOCATIONS))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_part_is_measured() {
        let parts = measure(2_500).unwrap();
        let names: Vec<&str> = parts.iter().map(|p| p.name).collect();
        assert_eq!(
            names,
            [
                "first sync: start",
                "first sync: a page per invocation",
                "first sync: finalize, a slice each",
                "delta run: one user added",
            ]
        );
        // 2,500 users are three pages of 999 and the groups' delta one more;
        // the last users page is read by finalize's first invocation.
        assert_eq!(parts[1].calls, 3, "{parts:?}");
        assert!(parts.iter().all(|p| p.calls > 0 && p.longest <= p.total));
    }
}
