use crate::engine::Engine;
use crate::error::Result;
use crate::ids::{DirId, OrgId};
use crate::ports::{Clock, IdentitySource, Mailer, Store};
use crate::sync::start::pending;
use crate::sync::types::*;

pub(crate) async fn advance<S: Store, C: Clock, I: IdentitySource, M: Mailer>(
    _e: &Engine<'_, S, C>,
    _org: &OrgId,
    _dir: &DirId,
    _source: &I,
    _mailer: &M,
    _budget: Budget,
) -> Result<AdvanceOutcome> {
    Err(pending("advance"))
}
