//! Quarantine: a directory whose runs fail the same way that no retry can
//! mend (the app's credentials refused, consent revoked) three times in a
//! row is quarantined, as Entra provisioning does: automatic runs back off
//! (4 hours, then 12, then 24 after each further failure) instead of
//! failing every hour or so, and the
//! status says why and what to fix. A run that completes (a manual Sync
//! after the fix) lifts it. Kept in `org/{org}/dir/{dir}/health`.

use crate::codec::{load, update};
use crate::error::Result;
use crate::ids::{DirId, OrgId};
use crate::keys;
use crate::ports::{SourceError, Store, TimeDelta, Timestamp};
use serde::{Deserialize, Serialize};

/// Failures of the credential kind in a row before quarantine.
pub(crate) const QUARANTINE_AFTER: u32 = 3;
/// The automatic-sync back-off of each quarantine level: 4, 12, 24 h.
const BACKOFF: [TimeDelta; 3] = [
    TimeDelta::hours(4),
    TimeDelta::hours(12),
    TimeDelta::hours(24),
];

/// What to do about it, shown with the quarantine.
pub const QUARANTINE_ADVICE: &str = "Entra ID refused this app's credentials: check the directory's client id and secret (it may have expired), and that an administrator granted the application permissions User.Read.All, Group.Read.All and Domain.Read.All (a new secret: PATCH the directory with it); then press Sync to lift the quarantine.";

/// A directory's record of failures that retrying cannot mend.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Health {
    /// Runs in a row that failed because the credentials were refused.
    pub credential_failures: u32,
    /// Quarantines in a row (0: not quarantined).
    pub level: u32,
    /// Automatic runs wait until then.
    pub until: Option<Timestamp>,
    /// The last such failure's error.
    pub reason: Option<String>,
    /// The run that put the directory in quarantine, while its notice to
    /// the admins is still to be handed over (by the next tick).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notice_for_run: Option<u64>,
}

/// Whether `err` says the app's credentials or consent were refused (the
/// token endpoint's `invalid_client`, `unauthorized_client`, …; Graph's 403
/// `Authorization_RequestDenied`): retrying cannot help until someone fixes
/// them.
pub(crate) fn is_credential_failure(err: &SourceError) -> bool {
    match err {
        SourceError::Unauthorized { .. } => true,
        SourceError::Graph { status, code, .. } => {
            *status == 403 || code.eq_ignore_ascii_case("Authorization_RequestDenied")
        }
        _ => false,
    }
}

/// The directory's quarantine record (the default before any failure).
pub(crate) async fn load_health<S: Store>(store: &S, org: &OrgId, dir: &DirId) -> Result<Health> {
    Ok(load(store, &keys::dir_doc(org, dir, "health"))
        .await?
        .unwrap_or_default())
}

/// Records how a run ended: `Some(error)` for a credential failure,
/// `None` for any other end; `completed` lifts a quarantine. Returns
/// whether this ending put the directory in quarantine.
pub(crate) async fn record<S: Store>(
    store: &S,
    org: &OrgId,
    dir: &DirId,
    (run_id, now): (u64, Timestamp),
    credential_failure: Option<&str>,
    completed: bool,
) -> Result<bool> {
    update(
        store,
        &keys::dir_doc(org, dir, "health"),
        |cur: Option<Health>| {
            let cur = cur.unwrap_or_default();
            let mut next = cur.clone();
            match credential_failure {
                Some(error) => {
                    next.credential_failures += 1;
                    next.reason = Some(error.to_owned());
                    // Three in a row start the quarantine; while in it,
                    // each further one backs off longer.
                    if next.credential_failures >= QUARANTINE_AFTER || cur.level > 0 {
                        let step = (next.level as usize).min(BACKOFF.len() - 1);
                        next.level += 1;
                        next.until = Some(now + BACKOFF[step]);
                        next.credential_failures = 0;
                        next.notice_for_run = Some(run_id);
                    }
                }
                None if completed => next = Health::default(),
                None => next.credential_failures = 0,
            }
            let quarantined = next.level > cur.level;
            Ok(((next != cur).then_some(next), quarantined))
        },
    )
    .await
}

/// Hands the quarantine notice over, once: the next tick after a run put
/// the directory in quarantine calls this. A failed hand-over is tried
/// again at the next tick.
pub(crate) async fn notify_quarantine<S: Store, M: crate::ports::Mailer>(
    store: &S,
    org: &OrgId,
    dir: &DirId,
    mailer: &M,
) -> Result<()> {
    let health = load_health(store, org, dir).await?;
    let (Some(run_id), Some(until)) = (health.notice_for_run, health.until) else {
        return Ok(());
    };
    let notice = crate::ports::Notice {
        event: crate::ports::NoticeEvent::Quarantined,
        org: org.to_string(),
        directory: dir.to_string(),
        run_id,
        message: format!(
            "Automatic syncing waits until {until} (ms since the epoch): {} {QUARANTINE_ADVICE}",
            health.reason.as_deref().unwrap_or_default()
        ),
    };
    if mailer.notify(&notice).await.is_err() {
        return Ok(());
    }
    update(
        store,
        &keys::dir_doc(org, dir, "health"),
        |cur: Option<Health>| {
            let Some(mut cur) = cur else {
                return Ok((None, ()));
            };
            if cur.notice_for_run != Some(run_id) {
                return Ok((None, ()));
            }
            cur.notice_for_run = None;
            Ok((Some(cur), ()))
        },
    )
    .await
}
