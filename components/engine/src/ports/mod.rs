//! The engine's only ways to touch the outside world.
//!
//! Every port is an `async` trait used through generics (never `dyn`), so the
//! futures need not be `Send`: Spin components are single-threaded.
#![allow(async_fn_in_trait)]

pub mod clock;
pub mod identity;
pub mod mailer;
pub mod store;

#[cfg(feature = "openapi")]
pub use clock::TimestampSchema;
pub use clock::{Clock, TimeDelta, Timestamp, from_epoch_millis};
pub use identity::{
    Arrived, DeltaFrom, DeltaToken, GroupChange, IdentitySource, MAX_PAGE_ITEMS, Member,
    MemberKind, MemberRef, Page, PageToken, SkippedKind, SourceDomain, SourceError, SourceGroup,
    SourceUser, UserChange,
};
pub use mailer::{MailError, Mailer, Notice, NoticeEvent, OutgoingEmail};
pub use store::{Store, StoreError};
