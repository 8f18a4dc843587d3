//! Users a run saw but did not sync, with their reasons: counted in the
//! run's summary, and a few of each named in its troubleshooting log. They
//! get no account (see `UserRecord::is_account`).

use crate::model::UserRecord;
use crate::sync::progress::{Sample, Skipped};
use crate::sync::shape::GROUP_USER_LIMIT;
use crate::sync::state::Tally;
use crate::sync::types::RunCounts;
use std::collections::BTreeSet;

/// Users named per reason in the log.
const SAMPLE: usize = 5;

/// Users named per reason in the run's tally and the state: twice the log's,
/// so a delta run on the short path still names [`SAMPLE`] when a few of
/// them changed.
const KEPT: usize = 2 * SAMPLE;

impl Sample {
    fn note(&mut self, rec: &UserRecord) {
        self.count += 1;
        if self.names.len() < KEPT {
            self.names.push(rec.data.upn.clone());
        }
    }

    fn message(&self, why: &str) -> Option<String> {
        let users = if self.count == 1 { "user" } else { "users" };
        let named = &self.names[..self.names.len().min(SAMPLE)];
        let examples = match named.is_empty() {
            true => String::new(),
            false => format!(" (e.g. {})", named.join(", ")),
        };
        (self.count > 0).then(|| format!("{} {users} skipped: {why}{examples}", self.count))
    }

    /// Whether it names as many users as the log shows (all of them, up to
    /// [`SAMPLE`]).
    pub fn names_enough(&self) -> bool {
        self.names.len() as u64 >= self.count.min(SAMPLE as u64)
    }
}

/// The tally itself is data of finalize's progress (`sync/progress.rs`),
/// kept across invocations.
impl Skipped {
    /// The users the last completed run skipped, as its state keeps them
    /// (names only of those skipped for an unverified domain).
    pub fn of_last_run(tally: &Tally) -> Skipped {
        Skipped {
            unverified_domain: Sample {
                count: tally.skipped_unverified,
                names: tally.unverified_sample.clone(),
            },
            only_in_unsynced_groups: Sample {
                count: tally.skipped_unsynced_groups,
                names: Vec::new(),
            },
        }
    }

    /// Looks at one user record as this run leaves it; `eligible`: its
    /// domain is verified here, or it is a guest.
    pub fn note(&mut self, rec: &UserRecord, eligible: bool) {
        if !rec.in_source || rec.synced {
            return;
        }
        if !eligible {
            self.unverified_domain.note(rec);
        } else if !rec.direct_groups.is_empty() {
            self.only_in_unsynced_groups.note(rec);
        }
    }

    /// Adds the users skipped for an unverified domain that a delta run on
    /// the short path did not look at: the base run's `count` of them,
    /// less those among the users it did look at (their records `before`
    /// the run). The log names the base run's `sample` next, leaving out
    /// the users looked at (this run's own tally named those still
    /// skipped).
    pub fn carry_unverified<'r>(
        &mut self,
        (count, sample): (u64, &[String]),
        before: impl IntoIterator<Item = (&'r UserRecord, bool)>,
    ) {
        let mut looked_at = BTreeSet::new();
        let mut was_skipped = Skipped::default();
        for (rec, eligible) in before {
            was_skipped.note(rec, eligible);
            looked_at.insert(rec.data.upn.as_str());
        }
        let mine = &mut self.unverified_domain;
        mine.count += count.saturating_sub(was_skipped.unverified_domain.count);
        let untouched = sample.iter().filter(|n| !looked_at.contains(n.as_str()));
        for name in untouched {
            if mine.names.len() < KEPT && !mine.names.contains(name) {
                mine.names.push(name.clone());
            }
        }
    }

    /// Sets the run's counts and returns the log messages.
    pub fn report(&self, counts: &mut RunCounts) -> Vec<String> {
        counts.skipped_unverified_domain = self.unverified_domain.count;
        counts.skipped_only_in_unsynced_groups = self.only_in_unsynced_groups.count;
        let over = format!(
            "they are only in groups that are not synced (over the {GROUP_USER_LIMIT}-user limit)"
        );
        [
            self.unverified_domain
                .message("their sign-in domain is not verified here"),
            self.only_in_unsynced_groups.message(&over),
        ]
        .into_iter()
        .flatten()
        .collect()
    }
}
