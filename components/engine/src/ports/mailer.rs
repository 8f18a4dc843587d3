//! Delivery of welcome emails to new accounts.

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

/// Hands one email over for delivery. The engine calls it again for an
/// email whose earlier attempt it cannot prove was recorded (a crash, two
/// invocations racing), always with the same `idempotency_key`.
pub trait Mailer {
    async fn send(&self, email: &OutgoingEmail) -> Result<(), MailError>;
}
