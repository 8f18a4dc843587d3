//! Where finalize is between invocations (`RunHeader::finalize`): the next
//! step and slice, and what the earlier steps computed that the later ones
//! need. Data only; the steps are `sync/finalize/`'s.
//!
//! Finalize works on the run's users one *bucket* at a time: bucket `b` of
//! `buckets` (a power of two) holds the users whose `fnv1a(id) % buckets`
//! is `b`; the user shard count is a multiple of `buckets`, so user shard
//! `i` holds only users of bucket `i % buckets`.

use crate::ports::Timestamp;
use crate::shards::Rewritten;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// Finalize's steps, in order (see `sync/finalize/mod.rs`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum FinalizeStep {
    /// Copies each staged line's users into their bucket's segments (only
    /// with more than one bucket and staging larger than a slice), from
    /// staged chunk `next` on, a few per slice.
    #[default]
    Partition,
    /// Counts each group's users, bucket `next` next.
    Count,
    /// Writes the user documents, bucket `next` next.
    Users,
    /// Writes the outbox documents, bucket `next` next.
    Outbox,
    /// Writes the group and member documents.
    Groups,
    /// The removal policy, the removals and the commit.
    Commit,
}

/// How many of a kind there are, and a few of them by name (for a log
/// message).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Sample {
    pub count: u64,
    pub names: Vec<String>,
}

/// The users a run saw but did not sync, by reason (`sync/skipped.rs`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Skipped {
    pub unverified_domain: Sample,
    pub only_in_unsynced_groups: Sample,
}

/// What the users step counted so far (the run's counts hold the rest).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct UserTally {
    /// Users synced after this run.
    pub synced: u64,
    /// Synced users in a group with product access.
    pub billable: u64,
    /// New accounts without a mailbox (sign-in names).
    pub no_mailbox: Vec<String>,
    /// Users leaving the scope (sign-in names).
    pub leaving: Vec<String>,
    pub skipped: Skipped,
}

/// Users reached by a group (through nesting), counted bucket by bucket.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct GroupCount {
    /// In Entra ID, synced or not.
    #[serde(rename = "e")]
    pub entra: u64,
    /// On a domain verified here, or guests.
    #[serde(rename = "s")]
    pub eligible: u64,
}

/// Finalize's progress, saved with the run document after every slice.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct FinalizeProgress {
    pub step: FinalizeStep,
    /// When finalize began: dates what it creates (accounts, emails,
    /// claims, the completed run), whichever invocation writes it.
    pub now: Timestamp,
    /// Users' buckets (a power of two; 1 for a small run).
    pub buckets: u32,
    /// The step's next staged chunk or bucket.
    pub next: u32,
    /// Per bucket, then the group lines last: the hashes of the run's
    /// segment documents (`stage/{run}.{hash}`), in staging order. Empty
    /// without a partition (one bucket, or staging smaller than a slice:
    /// every bucket reads the staged chunks).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub segments: Vec<Vec<u64>>,
    /// Per group id: the users it reaches.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub counts: BTreeMap<String, GroupCount>,
    /// Encoded bytes of the user records, by `fnv1a(id) % bins` (an upper
    /// bound, to choose the user shard count before writing any).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub user_bins: Vec<u64>,
    /// The same for the welcome emails this run queues.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub outbox_bins: Vec<u64>,
    /// Groups with product access after this run.
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub product_access: BTreeSet<String>,
    /// When the grant records behind `product_access` were read (the full
    /// pass reads them; the short path carries the base state's time).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grants_read_at: Option<Timestamp>,
    /// Groups losing product access, in id order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub access_removed: Vec<String>,
    #[serde(default)]
    pub tally: UserTally,
    #[serde(default)]
    pub users: Rewritten,
    #[serde(default)]
    pub outbox: Rewritten,
    /// The synced groups' member segments, one per bucket that had any.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub members: Vec<u64>,
    #[serde(default)]
    pub groups: Rewritten,
    #[serde(default)]
    pub member_lists: Rewritten,
}

impl FinalizeProgress {
    /// Every scratch document this finalize wrote (segments), by hash.
    pub fn scratch(&self) -> impl Iterator<Item = u64> + '_ {
        self.segments.iter().flatten().chain(&self.members).copied()
    }
}
