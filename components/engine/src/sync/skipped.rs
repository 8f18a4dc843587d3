//! Users a run saw but did not sync, with their reasons: counted in the
//! run's summary, and a few of each named in its troubleshooting log. They
//! get no account (see `UserRecord::is_account`).

use crate::model::UserRecord;
use crate::sync::progress::{Sample, Skipped};
use crate::sync::shape::GROUP_USER_LIMIT;
use crate::sync::types::RunCounts;

/// Users named per reason in the log.
const SAMPLE: usize = 5;

impl Sample {
    fn note(&mut self, rec: &UserRecord) {
        self.count += 1;
        if self.names.len() < SAMPLE {
            self.names.push(rec.data.upn.clone());
        }
    }

    fn message(&self, why: &str) -> Option<String> {
        let users = if self.count == 1 { "user" } else { "users" };
        (self.count > 0).then(|| {
            format!(
                "{} {users} skipped: {why} (e.g. {})",
                self.count,
                self.names.join(", ")
            )
        })
    }
}

/// The tally itself is data of finalize's progress (`sync/progress.rs`),
/// kept across invocations.
impl Skipped {
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

    /// Sets the run's counts and returns the log messages.
    pub fn report(self, counts: &mut RunCounts) -> Vec<String> {
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
