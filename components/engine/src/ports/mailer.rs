//! Delivery of welcome emails to new accounts, and of notices to the
//! organization's admins.

/// One welcome email.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutgoingEmail {
    pub to: String,
    pub subject: String,
    pub body: String,
    /// The same for every delivery attempt of this email (the account's
    /// id plus the kind of email): delivery is at least once, and a
    /// receiver that deduplicates on this key delivers exactly once.
    pub idempotency_key: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("email delivery failed: {0}")]
pub struct MailError(pub String);

/// What an admin is told about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum NoticeEvent {
    /// A run failed (its error is the message).
    RunFailed,
    /// The removal guard holds a run until an admin confirms or rejects.
    AwaitingConfirmation,
    /// Entra refused the credentials runs in a row: automatic syncing
    /// backs off.
    Quarantined,
}

impl NoticeEvent {
    /// The event's name on the wire (`run_failed`, ...).
    pub fn name(self) -> &'static str {
        match self {
            NoticeEvent::RunFailed => "run_failed",
            NoticeEvent::AwaitingConfirmation => "awaiting_confirmation",
            NoticeEvent::Quarantined => "quarantined",
        }
    }
}

/// One notice to an organization's admins, once per event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    pub event: NoticeEvent,
    pub org: String,
    pub directory: String,
    /// The run it is about (for a quarantine, the one that caused it).
    pub run_id: u64,
    /// What happened, for people (error texts are redacted of secrets).
    pub message: String,
}

impl Notice {
    /// The same for every delivery attempt of this notice:
    /// `{event}/{org}/{directory}/{run_id}`.
    pub fn idempotency_key(&self) -> String {
        format!(
            "{}/{}/{}/{}",
            self.event.name(),
            self.org,
            self.directory,
            self.run_id
        )
    }
}

/// Hands one email, or one notice, over for delivery. The engine calls it
/// again for one whose earlier attempt it cannot prove was recorded (a
/// crash, two invocations racing), always with the same idempotency key.
pub trait Mailer {
    async fn send(&self, email: &OutgoingEmail) -> Result<(), MailError>;
    /// Tells the organization's admins about `notice`.
    async fn notify(&self, notice: &Notice) -> Result<(), MailError>;
}
