//! The claim step: the run's domains are claimed for the organization now,
//! when the run is about to use them; one that another organization
//! claimed since the run started is not verified here.

use crate::domains;
use crate::error::Result;
use crate::ports::{Clock, Store, Timestamp};
use crate::sync::types::{LogLevel, RunCounts};
use crate::sync::worker::Worker;

/// Claims each domain of the run; one claimed elsewhere meanwhile is
/// dropped from the run (its users are skipped as unverified). The counts
/// list the domains claimed; `now` dates a new claim.
pub(super) async fn claim_domains<S: Store, C: Clock>(
    w: &mut Worker<'_, '_, S, C>,
    now: Timestamp,
    counts: &mut RunCounts,
) -> Result<()> {
    for domain in w.doc.head.claim.clone() {
        if !domains::claim(w.e.store, &domain, w.org, now).await? {
            w.doc.head.claim.remove(&domain);
            w.log(LogLevel::Warning, format!(
                "domain {domain} was verified by another organization during the sync: it is not claimed here and its users are skipped as unverified"
            ));
        }
    }
    counts.domains_claimed = w.doc.head.claim.iter().cloned().collect();
    Ok(())
}
