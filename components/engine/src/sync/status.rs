use crate::engine::Engine;
use crate::error::Result;
use crate::ids::{DirId, OrgId};
use crate::ports::{Clock, Store};
use crate::sync::start::pending;
use crate::sync::types::*;

pub(crate) async fn status<S: Store, C: Clock>(
    _e: &Engine<'_, S, C>,
    _org: &OrgId,
    _dir: &DirId,
) -> Result<SyncStatus> {
    Err(pending("status"))
}

pub(crate) async fn history<S: Store, C: Clock>(
    _e: &Engine<'_, S, C>,
    _org: &OrgId,
    _dir: &DirId,
) -> Result<Vec<RunSummary>> {
    Err(pending("history"))
}
