//! Domain claims across organizations. A domain a run verifies is claimed
//! for its organization in one global record, `domains/{domain}`, created
//! with compare-and-swap: while it stands, no other organization can verify
//! that domain (its users are skipped there as unverified). An organization
//! releases the claim when none of its directories verifies the domain any
//! more.

use crate::codec::{decode, encode};
use crate::error::{EngineError, Result};
use crate::ids::OrgId;
use crate::keys;
use crate::ports::{Store, StoreError};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Claim {
    /// Lower case; also tells names apart that share a hashed key.
    domain: String,
    org: String,
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
/// whether `org` holds it now. Claiming a domain the org holds writes nothing.
pub(crate) async fn claim<S: Store>(store: &S, domain: &str, org: &OrgId) -> Result<bool> {
    let key = keys::domain(domain);
    let mine = encode(&Claim {
        domain: domain.to_owned(),
        org: org.to_string(),
    });
    for _ in 0..16 {
        match store.get(&key).await? {
            Some(bytes) => return Ok(bytes == mine),
            None => {
                if store.compare_and_swap(&key, None, &mine).await? {
                    return Ok(true);
                }
                // Claimed (or released) meanwhile: read again.
            }
        }
    }
    Err(EngineError::Store(StoreError::Backend(format!(
        "{key}: too much contention"
    ))))
}

/// Releases `org`'s claim on `domain` (another organization's stays).
pub(crate) async fn release<S: Store>(store: &S, domain: &str, org: &OrgId) -> Result<()> {
    if !held_elsewhere(store, domain, org).await? {
        store.delete(&keys::domain(domain)).await?;
    }
    Ok(())
}
