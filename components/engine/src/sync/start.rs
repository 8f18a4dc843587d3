use crate::engine::Engine;
use crate::error::{EngineError, Result};
use crate::ids::{DirId, OrgId};
use crate::ports::{Clock, IdentitySource, Mailer, Store};
use crate::sync::types::*;

pub(crate) fn pending(what: &str) -> EngineError {
    EngineError::Corrupt(format!("{what}: not implemented yet"))
}

pub(crate) async fn preview<S: Store, C: Clock, I: IdentitySource>(
    _e: &Engine<'_, S, C>,
    _org: &OrgId,
    _dir: &DirId,
    _source: &I,
) -> Result<Preview> {
    Err(pending("preview"))
}

pub(crate) async fn start<S: Store, C: Clock, I: IdentitySource>(
    _e: &Engine<'_, S, C>,
    _org: &OrgId,
    _dir: &DirId,
    _source: &I,
    _trigger: Trigger,
) -> Result<Confirmation> {
    Err(pending("start"))
}

pub(crate) async fn tick<S: Store, C: Clock, I: IdentitySource, M: Mailer>(
    _e: &Engine<'_, S, C>,
    _org: &OrgId,
    _dir: &DirId,
    _source: &I,
    _mailer: &M,
    _budget: Budget,
) -> Result<TickOutcome> {
    Err(pending("tick"))
}
