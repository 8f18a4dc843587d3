//! Delivery of welcome emails to new accounts.

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutgoingEmail {
    pub to: String,
    pub subject: String,
    pub body: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("email delivery failed: {0}")]
pub struct MailError(pub String);

pub trait Mailer {
    async fn send(&self, email: &OutgoingEmail) -> Result<(), MailError>;
}
