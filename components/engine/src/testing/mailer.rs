//! A `Mailer` that records what it is asked to send, for the tests of every
//! crate.

use std::sync::Mutex;

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
    /// Each account's email as the receiver keeps it: deliveries
    /// deduplicated on their idempotency key (delivery is at least once),
    /// as `(key, address)` in key order.
    pub fn delivered(&self) -> Vec<(String, String)> {
        let mut v: Vec<(String, String)> = self
            .sent
            .lock()
            .unwrap()
            .iter()
            .map(|e| (e.idempotency_key.clone(), e.to.clone()))
            .collect();
        v.sort();
        v.dedup();
        v
    }

    /// The address of every email sent (repeats included), sorted.
    pub fn addresses(&self) -> Vec<String> {
        let mut v: Vec<String> = self
            .sent
            .lock()
            .unwrap()
            .iter()
            .map(|e| e.to.clone())
            .collect();
        v.sort();
        v
    }
}

impl Mailer for RecordingMailer {
    async fn send(&self, email: &OutgoingEmail) -> Result<(), MailError> {
        if *self.fail.lock().unwrap() {
            return Err(MailError("mail server down".into()));
        }
        self.sent.lock().unwrap().push(email.clone());
        Ok(())
    }

    async fn notify(&self, notice: &Notice) -> Result<(), MailError> {
        self.notices.lock().unwrap().push(notice.clone());
        Ok(())
    }
}
