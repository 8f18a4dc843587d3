//! What a run asks Microsoft Graph for next, as a value ([`Ask`]), kept
//! apart from sending it ([`send`]) and from accepting the page that comes
//! back (`run.rs`). That split lets the request for the next page be in
//! flight ([`InFlight`]) while the invocation stages and saves the page
//! before it: against Entra ID a page takes hundreds of milliseconds, and on
//! hosted Spin every store write is a round trip too (decision 0008).
//! A page's links arrive before its items are decoded ([`Arrived`]), so the
//! request for the page after it can leave before that decode
//! ([`Answer::next_ask`]; decision 0011).
//!
//! Runtime-agnostic and single-threaded: the request is a future of the
//! [`IdentitySource`], driven by polling it together with the invocation's
//! own work ([`alongside`]); how it progresses meanwhile is the transport's
//! business (a thread natively, the host's pollable under Spin).

use std::future::{Future, poll_fn};
use std::pin::{Pin, pin};
use std::task::Poll;

use crate::error::{EngineError, Result};
use crate::ports::{
    Arrived, DeltaFrom, GroupChange, IdentitySource, Member, Page, PageToken, SourceError,
    SourceGroup, SourceUser, UserChange,
};
use crate::sync::doc::{Cursor, RunHeader};
use crate::sync::types::Phase;

/// The request a run's cursor asks for next: which listing, and where in
/// it (`None` for a listing's first page).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Ask {
    /// A page of a group's direct members (`/groups/{id}/members`).
    Members {
        group: String,
        page: Option<PageToken>,
    },
    /// A page of `/groups` (all users, tenant without delta).
    Groups(Option<PageToken>),
    /// A page of `/groups/delta`, with direct members.
    GroupsDelta(DeltaFrom),
    /// A page of `/users` (all users, tenant without delta).
    Users(Option<PageToken>),
    /// A page of `/users/delta`.
    UsersDelta(DeltaFrom),
}

impl Ask {
    /// The page token this request continues its listing at: `None` for a
    /// listing's first page and for a delta round's start.
    pub fn page(&self) -> Option<&PageToken> {
        match self {
            Ask::Members { page, .. } | Ask::Groups(page) | Ask::Users(page) => page.as_ref(),
            Ask::GroupsDelta(DeltaFrom::Page(page)) | Ask::UsersDelta(DeltaFrom::Page(page)) => {
                Some(page)
            }
            Ask::GroupsDelta(_) | Ask::UsersDelta(_) => None,
        }
    }
}

/// A page, decoded, or what Entra answered instead of it.
pub(crate) type Fetched<T> = Result<Page<T>, SourceError>;

/// A page as it arrived (its links known, its items perhaps not decoded
/// yet), or what Entra answered instead of it.
pub(crate) type Arriving<T> = Result<Arrived<T>, SourceError>;

/// `arriving` with its items decoded: a decode that fails is the page's
/// error, as if Entra had answered it instead of the page.
pub(crate) fn decoded<T>(arriving: Arriving<T>) -> Fetched<T> {
    arriving.and_then(Arrived::decode)
}

/// What Graph answered to an [`Ask`], with what accepting it needs to know
/// of the question.
pub(crate) enum Answer {
    /// To [`Ask::Members`]: a page of `group`'s direct members.
    Members {
        group: String,
        page: Arriving<Member>,
    },
    /// To [`Ask::Groups`].
    Groups(Arriving<SourceGroup>),
    /// To [`Ask::GroupsDelta`].
    GroupsDelta(Arriving<GroupChange>),
    /// To [`Ask::Users`].
    Users(Arriving<SourceUser>),
    /// To [`Ask::UsersDelta`].
    UsersDelta(Arriving<UserChange>),
}

impl Answer {
    /// The request for the page after this one, known from its next link
    /// before its items are decoded: the same listing continued at that
    /// link, which is what [`asked`] returns once the page is accepted
    /// and the listing goes on. `None` for an error or a listing's last
    /// page.
    pub fn next_ask(&self) -> Option<Ask> {
        Some(match self {
            Answer::Members { group, page } => Ask::Members {
                group: group.clone(),
                page: Some(next_link(page)?),
            },
            Answer::Groups(page) => Ask::Groups(Some(next_link(page)?)),
            Answer::GroupsDelta(page) => Ask::GroupsDelta(DeltaFrom::Page(next_link(page)?)),
            Answer::Users(page) => Ask::Users(Some(next_link(page)?)),
            Answer::UsersDelta(page) => Ask::UsersDelta(DeltaFrom::Page(next_link(page)?)),
        })
    }
}

/// The next link of a page that arrived.
fn next_link<T>(arriving: &Arriving<T>) -> Option<PageToken> {
    arriving.as_ref().ok()?.next.clone()
}

/// What the run's cursor asks for next, if anything: `None` outside the
/// phases that read pages, and in a group walk with no group left.
///
/// # Errors
/// [`EngineError::Corrupt`] for a delta listing in group scope.
pub(crate) fn asked(h: &RunHeader) -> Result<Option<Ask>> {
    let in_full = h.cursor.lists_in_full();
    let ask = match h.phase {
        Phase::Members => {
            let front = h.cursor.walk().and_then(|walk| walk.queue.front());
            front.map(|group| Ask::Members {
                group: group.clone(),
                page: h.page.clone(),
            })
        }
        Phase::Groups if in_full => Some(Ask::Groups(h.page.clone())),
        Phase::Groups => Some(Ask::GroupsDelta(delta_from(h)?)),
        Phase::Users if in_full => Some(Ask::Users(h.page.clone())),
        Phase::Users => Some(Ask::UsersDelta(delta_from(h)?)),
        _ => None,
    };
    Ok(ask)
}

/// Where the current delta listing continues.
fn delta_from(h: &RunHeader) -> Result<DeltaFrom> {
    match &h.cursor {
        Cursor::AllUsers(c) => Ok(c.from.clone()),
        Cursor::Groups(_) => Err(EngineError::Corrupt(format!(
            "run {}: a delta listing in group scope",
            h.run_id
        ))),
    }
}

/// Sends `ask` to `source` and waits for the answer.
pub(crate) async fn send<I: IdentitySource>(source: &I, ask: Ask) -> Answer {
    match ask {
        Ask::Members { group, page } => {
            let page = source.members(&group, false, page.as_ref()).await;
            Answer::Members { group, page }
        }
        Ask::Groups(page) => Answer::Groups(source.groups(page.as_ref()).await),
        Ask::GroupsDelta(from) => Answer::GroupsDelta(source.groups_delta(&from).await),
        Ask::Users(page) => Answer::Users(source.users(page.as_ref()).await),
        Ask::UsersDelta(from) => Answer::UsersDelta(source.users_delta(&from).await),
    }
}

/// A request sent ahead of the step that reads its page. It is sent at its
/// first poll ([`alongside`]); dropping it drops the request unused.
pub(crate) struct InFlight<'s> {
    ask: Ask,
    reply: Reply<'s>,
}

/// The answer of a request in flight, once it came.
enum Reply<'s> {
    Pending(Pin<Box<dyn Future<Output = Answer> + 's>>),
    Came(Answer),
}

impl<'s> InFlight<'s> {
    /// `ask` as a request to `source`, not polled yet.
    pub fn new<I: IdentitySource>(source: &'s I, ask: Ask) -> Self {
        let request = Box::pin(send(source, ask.clone()));
        InFlight {
            ask,
            reply: Reply::Pending(request),
        }
    }

    /// This request if it is exactly the one `asked` for, else nothing
    /// (dropped unused).
    pub fn kept_for(self, asked: Option<&Ask>) -> Option<Self> {
        (asked == Some(&self.ask)).then_some(self)
    }

    /// Polls the request, keeping its answer once it came.
    fn drive(&mut self, cx: &mut std::task::Context<'_>) {
        if let Reply::Pending(request) = &mut self.reply
            && let Poll::Ready(answer) = request.as_mut().poll(cx)
        {
            self.reply = Reply::Came(answer);
        }
    }
}

/// Runs `work` to its end while driving the request in flight, if any. The
/// request is polled first, so it is sent before `work` begins; it may
/// still be pending when `work` ends.
pub(crate) async fn alongside<T>(
    mut ahead: Option<&mut InFlight<'_>>,
    work: impl Future<Output = T>,
) -> T {
    let mut work = pin!(work);
    poll_fn(|cx| {
        if let Some(request) = ahead.as_deref_mut() {
            request.drive(cx);
        }
        work.as_mut().poll(cx)
    })
    .await
}

/// The answer to `ask`: the request in flight's when it asked exactly
/// that, else a new request's (the one in flight is dropped unused).
pub(crate) async fn answer<I: IdentitySource>(
    source: &I,
    ask: Ask,
    ahead: Option<InFlight<'_>>,
) -> Answer {
    match ahead {
        Some(InFlight { ask: sent, reply }) if sent == ask => match reply {
            Reply::Pending(request) => request.await,
            Reply::Came(answer) => answer,
        },
        _ => send(source, ask).await,
    }
}
