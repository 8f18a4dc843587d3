//! A `Mailer` that records what it is asked to send, for the tests of every
//! crate.

use std::sync::{Mutex, MutexGuard};

use crate::ports::{MailError, Mailer, Notice, OutgoingEmail};

/// Records every email and notice; can be told to fail sending emails.
#[derive(Default)]
pub struct RecordingMailer {
    /// Every email it was asked to send, in order (repeats included).
    pub sent: Mutex<Vec<OutgoingEmail>>,
    /// Every notice it was asked to send, in order.
    pub notices: Mutex<Vec<Notice>>,
    /// While true, sending an email fails ("mail server down").
    pub fail: Mutex<bool>,
}

impl RecordingMailer {
    /// The emails sent so far (repeats included), locked.
    pub fn emails(&self) -> MutexGuard<'_, Vec<OutgoingEmail>> {
        held(&self.sent)
    }

    /// Each account's email as the receiver keeps it: deliveries
    /// deduplicated on their idempotency key (delivery is at least once),
    /// as `(key, address)` in key order.
    pub fn delivered(&self) -> Vec<(String, String)> {
        let mut v: Vec<(String, String)> = self
            .emails()
            .iter()
            .map(|e| (e.idempotency_key.clone(), e.to.clone()))
            .collect();
        v.sort();
        v.dedup();
        v
    }

    /// The address of every email sent (repeats included), sorted.
    pub fn addresses(&self) -> Vec<String> {
        let mut v: Vec<String> = self.emails().iter().map(|e| e.to.clone()).collect();
        v.sort();
        v
    }
}

/// A lock, held even if a test panicked while holding it (what it records
/// stays readable).
fn held<T>(lock: &Mutex<T>) -> MutexGuard<'_, T> {
    lock.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Mailer for RecordingMailer {
    async fn send(&self, email: &OutgoingEmail) -> Result<(), MailError> {
        if *held(&self.fail) {
            return Err(MailError("mail server down".into()));
        }
        self.emails().push(email.clone());
        Ok(())
    }

    async fn notify(&self, notice: &Notice) -> Result<(), MailError> {
        held(&self.notices).push(notice.clone());
        Ok(())
    }
}
