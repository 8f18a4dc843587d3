//! The removal policy: whether finalize may go on to remove what it
//! computed, or holds the removals for an admin (the removal guard). The
//! run carries it: the settings it started with say whether the guard is on
//! and its thresholds; an admin's confirmation (`sync/guard.rs`) lets the
//! held run through.

use crate::ports::{Clock, Store};
use crate::settings::RemovalGuard;
use crate::shards::Kind;
use crate::sync::doc::RunHeader;
use crate::sync::state::Shards;
use crate::sync::types::{GroupRef, LogLevel, PendingRemovals, RunCounts};
use crate::sync::worker::Worker;

/// How a run treats the removals it would make.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RemovalPolicy {
    /// The guard is on: more users leaving the scope than it allows, or
    /// any product access removed, wait for an admin.
    Guarded(RemovalGuard),
    /// An admin confirmed this run's removals: they go through.
    Confirmed,
    /// The guard is off: removals go through without asking.
    Unguarded,
}

/// What finalize would remove.
pub(crate) struct Removals<'r> {
    /// Synced users who would leave the scope.
    pub users_leaving: u64,
    /// Synced users before this run.
    pub users_synced_before: u64,
    /// Some of the users leaving (sign-in names).
    pub sample: &'r [String],
    /// Groups that would lose product access.
    pub access_removed: &'r [GroupRef],
}

/// What the policy decided.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Decision {
    /// Remove now.
    Proceed,
    /// Remove nothing; an admin confirms or rejects these.
    Hold(PendingRemovals),
}

impl RemovalPolicy {
    /// The policy of a run: from the removal guard of the settings it
    /// started with, and whether an admin confirmed its removals.
    pub fn of(head: &RunHeader) -> Self {
        Self::from_guard(head.settings.removal_guard, head.removals_confirmed)
    }

    /// The policy for a guard setting and an admin's confirmation.
    pub fn from_guard(guard: RemovalGuard, confirmed: bool) -> Self {
        match (guard.enabled, confirmed) {
            (false, _) => RemovalPolicy::Unguarded,
            (true, true) => RemovalPolicy::Confirmed,
            (true, false) => RemovalPolicy::Guarded(guard),
        }
    }

    /// Proceed, or hold `removals` for an admin.
    pub fn decide(&self, removals: &Removals) -> Decision {
        let RemovalPolicy::Guarded(guard) = self else {
            return Decision::Proceed;
        };
        let allowed = guard.allowed(removals.users_synced_before);
        if removals.users_leaving <= allowed && removals.access_removed.is_empty() {
            return Decision::Proceed;
        }
        Decision::Hold(PendingRemovals {
            users_leaving: removals.users_leaving,
            users_synced_before: removals.users_synced_before,
            users_allowed: allowed,
            sample: removals.sample.to_vec(),
            access_removed: removals.access_removed.to_vec(),
        })
    }
}

/// Stops finalize before anything is removed, for an admin to confirm or
/// reject `pending`. The documents this run wrote (`written`) stay unused
/// until then; the run remembers them, for a rejection to delete.
pub(super) fn hold<S: Store, C: Clock>(
    w: &mut Worker<'_, '_, S, C>,
    pending: PendingRemovals,
    written: &Shards,
    counts: RunCounts,
) {
    w.doc.head.held = documents_of_run(w, written);
    w.log(LogLevel::Warning, format!(
        "the removal guard stopped this sync before it removed anything: {} (more than {} users may leave only with confirmation); confirm or reject the removals",
        pending.described(),
        pending.users_allowed
    ));
    w.doc.head.pending = Some(pending);
    w.doc.head.counts = counts;
}

/// The keys of the documents of `written` that this run wrote (the others
/// are the base state's, still in use).
fn documents_of_run<S, C>(w: &Worker<'_, '_, S, C>, written: &Shards) -> Vec<String> {
    let (run, org, dir) = (w.doc.head.run_id, w.org, w.dir);
    [
        (Kind::Users, &written.users),
        (Kind::Groups, &written.groups),
        (Kind::Members, &written.members),
        (Kind::Outbox, &written.outbox),
    ]
    .into_iter()
    .flat_map(|(kind, layout)| {
        (0..layout.count)
            .filter(|i| layout.gens.get(*i as usize) == Some(&run))
            .filter_map(move |i| layout.key(org, dir, kind, i))
    })
    .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// On, at most 10 users or 20 % of the synced users.
    fn guard(enabled: bool) -> RemovalGuard {
        RemovalGuard {
            enabled,
            max_users: 10,
            max_percent: 20,
        }
    }

    fn leaving(users_leaving: u64, users_synced_before: u64) -> Removals<'static> {
        Removals {
            users_leaving,
            users_synced_before,
            sample: &[],
            access_removed: &[],
        }
    }

    #[test]
    fn removal_policy_of_the_settings_is_guarded_unless_the_guard_is_off_or_an_admin_confirmed() {
        assert_eq!(
            RemovalPolicy::from_guard(guard(true), false),
            RemovalPolicy::Guarded(guard(true))
        );
        assert_eq!(
            RemovalPolicy::from_guard(guard(true), true),
            RemovalPolicy::Confirmed
        );
        assert_eq!(
            RemovalPolicy::from_guard(guard(false), false),
            RemovalPolicy::Unguarded
        );
    }

    #[test]
    fn removal_policy_lets_up_to_the_allowed_share_leave_without_asking() {
        let policy = RemovalPolicy::Guarded(guard(true));
        // 20 % of 30 synced users: 6.
        assert_eq!(policy.decide(&leaving(6, 30)), Decision::Proceed);
        assert_eq!(policy.decide(&leaving(0, 0)), Decision::Proceed);
    }

    #[test]
    fn removal_policy_holds_more_than_the_allowed_share() {
        let policy = RemovalPolicy::Guarded(guard(true));
        let sample = ["a@contoso.com".to_owned()];
        let removals = Removals {
            sample: &sample,
            ..leaving(7, 30)
        };
        let expected = PendingRemovals {
            users_leaving: 7,
            users_synced_before: 30,
            users_allowed: 6,
            sample: sample.to_vec(),
            access_removed: Vec::new(),
        };
        assert_eq!(policy.decide(&removals), Decision::Hold(expected));
    }

    #[test]
    fn removal_policy_holds_more_than_the_allowed_number_whatever_the_share() {
        // 20 % of 1,000 is 200, but at most 10 may leave.
        let policy = RemovalPolicy::Guarded(guard(true));
        let Decision::Hold(pending) = policy.decide(&leaving(11, 1000)) else {
            panic!("11 of 1,000 leaving is more than 10");
        };
        assert_eq!(pending.users_allowed, 10);
    }

    #[test]
    fn removal_policy_holds_any_product_access_removal() {
        let policy = RemovalPolicy::Guarded(guard(true));
        let sales = [GroupRef {
            id: "sales".to_owned(),
            display_name: Some("Sales".to_owned()),
        }];
        let removals = Removals {
            access_removed: &sales,
            ..leaving(0, 30)
        };
        let Decision::Hold(pending) = policy.decide(&removals) else {
            panic!("a group losing product access is held");
        };
        assert_eq!(pending.access_removed, sales.to_vec());
    }

    #[test]
    fn removal_policy_confirmed_or_unguarded_proceeds_whatever_it_removes() {
        let sales = [GroupRef {
            id: "sales".to_owned(),
            display_name: None,
        }];
        let everything = Removals {
            access_removed: &sales,
            ..leaving(30, 30)
        };
        for policy in [RemovalPolicy::Confirmed, RemovalPolicy::Unguarded] {
            assert_eq!(policy.decide(&everything), Decision::Proceed);
        }
    }
}
