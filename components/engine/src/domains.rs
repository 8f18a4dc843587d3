//! Domain claims across organizations. A domain a run verifies is claimed
//! for its organization in one global record, `domains/{domain}`: while it
//! stands, no other organization can verify that domain (its users are
//! skipped there as unverified). An organization releases the claim when
//! none of its directories verifies the domain any more.
//!
//! No compare-and-swap: two organizations claiming one domain at once both
//! write, read back, and converge on one owner by a deterministic rule, the
//! earliest claim and then the smaller org id ([`Claim::precedes`]): the
//! earlier claimant writes again over a later one it finds, the later one
//! gives way. A claimant whose read-back was too stale to see the other may
//! believe it holds the domain until its next check (its next run's start
//! and finalize check again).

use crate::codec::{decode, encode, load};
use crate::error::Result;
use crate::ids::OrgId;
use crate::keys;
use crate::ports::{Store, Timestamp};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Claim {
    /// Lower case; also tells names apart that share a hashed key.
    domain: String,
    org: String,
    /// When the claim was first made (ms since the epoch); 0 in records
    /// written before claims carried it.
    #[serde(default)]
    claimed_at: Timestamp,
}

impl Claim {
    /// Whether this claim wins over `other`: earlier first, then the
    /// smaller org id.
    fn precedes(&self, other: &Claim) -> bool {
        (self.claimed_at, &self.org) < (other.claimed_at, &other.org)
    }
}

/// Whether an organization other than `org` holds `domain`.
pub(crate) async fn held_elsewhere<S: Store>(store: &S, domain: &str, org: &OrgId) -> Result<bool> {
    let key = keys::domain(domain);
    Ok(match store.get(&key).await? {
        Some(bytes) => {
            let claim: Claim = decode(&key, &bytes)?;
            claim.domain != domain || claim.org != org.as_str()
        }
        None => false,
    })
}

/// Claims `domain` for `org` unless another organization holds it; returns
/// whether `org` holds it now. Claiming a domain the org holds writes
/// nothing. Of two organizations racing, the one whose claim precedes wins
/// (see the module docs); `now` dates a new claim.
pub(crate) async fn claim<S: Store>(
    store: &S,
    domain: &str,
    org: &OrgId,
    now: Timestamp,
) -> Result<bool> {
    let key = keys::domain(domain);
    let mine = Claim {
        domain: domain.to_owned(),
        org: org.to_string(),
        claimed_at: now,
    };
    // Write while the stored claim is absent or loses to ours; a few rounds
    // at most (each round either ends or replaces a later claim).
    for _ in 0..4 {
        match load::<_, Claim>(store, &key).await? {
            // Another domain whose long name hashes to the same key.
            Some(held) if held.domain != domain => return Ok(false),
            Some(held) if held.org == mine.org => return Ok(true),
            Some(held) if !mine.precedes(&held) => return Ok(false),
            _ => store.set(&key, &encode(&mine)).await?,
        }
    }
    Ok(load::<_, Claim>(store, &key)
        .await?
        .is_some_and(|held| held.domain == domain && held.org == mine.org))
}

/// Releases `org`'s claim on `domain` (another organization's stays).
pub(crate) async fn release<S: Store>(store: &S, domain: &str, org: &OrgId) -> Result<()> {
    if !held_elsewhere(store, domain, org).await? {
        store.delete(&keys::domain(domain)).await?;
    }
    Ok(())
}
