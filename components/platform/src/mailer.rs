//! Delivery of welcome emails.
//!
//! The engine keeps the outbox (what was queued and sent) in the store; a
//! mailer only hands one email over. The demo logs it; with
//! `mail_webhook_url` set, it is POSTed as JSON to a webhook that relays it
//! (e.g. a transactional email service's HTTP API behind a small function).

use engine::ports::{MailError, Mailer, Notice, OutgoingEmail};
use graph::HttpClient;
use serde::Serialize;

/// Logs each email (Spin's component log) and reports it sent.
#[derive(Debug, Clone, Copy, Default)]
pub struct LogMailer;

impl Mailer for LogMailer {
    async fn send(&self, email: &OutgoingEmail) -> Result<(), MailError> {
        // The body is not logged: it may carry sign-in details.
        tracing::info!(
            to = email.to.as_str(),
            subject = email.subject.as_str(),
            "email"
        );
        Ok(())
    }

    async fn notify(&self, notice: &Notice) -> Result<(), MailError> {
        tracing::info!(
            event = notice.event.name(),
            org = notice.org.as_str(),
            directory = notice.directory.as_str(),
            run_id = notice.run_id,
            "notice: {}",
            notice.message
        );
        Ok(())
    }
}

/// POSTs welcome emails as `{"to","subject","body"}` and notices to the
/// admins as `{"event","org","directory","run_id","message"}` to a
/// webhook, each with its
/// `Idempotency-Key` header (the IETF draft
/// `draft-ietf-httpapi-idempotency-key-header`); any 2xx is delivery.
/// Delivery is at least once: a receiver that deduplicates on the key
/// delivers each welcome email exactly once.
#[derive(Debug, Clone)]
pub struct WebhookMailer<H> {
    http: H,
    url: String,
}

#[derive(Serialize)]
struct WebhookBody<'a> {
    to: &'a str,
    subject: &'a str,
    body: &'a str,
}

/// A notice as the webhook receives it: `{"event","org","directory",
/// "run_id","message"}`; `event` tells it from a welcome email.
#[derive(Serialize)]
struct NoticeBody<'a> {
    event: &'a str,
    org: &'a str,
    directory: &'a str,
    run_id: u64,
    message: &'a str,
}

impl<H: HttpClient> WebhookMailer<H> {
    pub fn new(http: H, url: String) -> Self {
        WebhookMailer { http, url }
    }

    /// POSTs `body` as JSON with its idempotency key; any 2xx is delivery.
    async fn post(&self, body: &impl Serialize, key: &str) -> Result<(), MailError> {
        let body = serde_json::to_vec(body)
            .map_err(|e| MailError(format!("encoding the message: {e}")))?;
        let request = http::Request::post(&self.url)
            .header(http::header::CONTENT_TYPE, "application/json")
            .header("idempotency-key", key)
            .body(body)
            .map_err(|e| MailError(format!("building the webhook request: {e}")))?;
        let response = self
            .http
            .send(request)
            .await
            .map_err(|e| MailError(format!("mail webhook unreachable: {e}")))?;
        if response.status().is_success() {
            Ok(())
        } else {
            Err(MailError(format!(
                "mail webhook answered {}",
                response.status()
            )))
        }
    }
}

impl<H: HttpClient> Mailer for WebhookMailer<H> {
    async fn send(&self, email: &OutgoingEmail) -> Result<(), MailError> {
        let body = WebhookBody {
            to: &email.to,
            subject: &email.subject,
            body: &email.body,
        };
        self.post(&body, &email.idempotency_key).await
    }

    async fn notify(&self, notice: &Notice) -> Result<(), MailError> {
        let body = NoticeBody {
            event: notice.event.name(),
            org: &notice.org,
            directory: &notice.directory,
            run_id: notice.run_id,
            message: &notice.message,
        };
        self.post(&body, &notice.idempotency_key()).await
    }
}

/// The mailer the configuration selects.
#[derive(Debug, Clone)]
pub enum AppMailer<H> {
    Log(LogMailer),
    Webhook(WebhookMailer<H>),
}

impl<H: HttpClient> AppMailer<H> {
    /// A webhook mailer when `webhook_url` is set, else the log mailer.
    pub fn from_config(webhook_url: Option<&str>, http: H) -> Self {
        match webhook_url {
            Some(url) => AppMailer::Webhook(WebhookMailer::new(http, url.to_owned())),
            None => AppMailer::Log(LogMailer),
        }
    }
}

impl<H: HttpClient> Mailer for AppMailer<H> {
    async fn send(&self, email: &OutgoingEmail) -> Result<(), MailError> {
        match self {
            AppMailer::Log(m) => m.send(email).await,
            AppMailer::Webhook(m) => m.send(email).await,
        }
    }

    async fn notify(&self, notice: &Notice) -> Result<(), MailError> {
        match self {
            AppMailer::Log(m) => m.notify(notice).await,
            AppMailer::Webhook(m) => m.notify(notice).await,
        }
    }
}

// Over real loopback HTTP, so native only.
#[cfg(test)]
#[cfg(not(target_arch = "wasm32"))]
mod tests {
    use std::net::TcpListener;
    use std::sync::mpsc;
    use std::time::Duration;

    use futures::executor::block_on;
    use graph::native::UreqClient;
    use native_server::{Background, Handler, Limits, Refusal, Request, Response, empty};

    use super::*;

    fn email() -> OutgoingEmail {
        OutgoingEmail {
            to: "ada@contoso.example".into(),
            subject: "Welcome".into(),
            body: "Your account is ready.".into(),
            idempotency_key: "welcome/u1".into(),
        }
    }

    /// A loopback webhook answering `status` to every request; `received`
    /// yields what the first request carried.
    struct Webhook {
        url: String,
        requests: mpsc::Receiver<(String, String, String)>,
        _server: Background,
    }

    impl Webhook {
        /// The first request's content type, idempotency key and body.
        fn received(&self) -> (String, String, String) {
            self.requests
                .recv_timeout(Duration::from_secs(5))
                .expect("a request")
        }
    }

    /// Records each request's `(content type, idempotency key, body)`.
    struct Recorder {
        status: http::StatusCode,
        requests: mpsc::Sender<(String, String, String)>,
    }

    impl Handler for Recorder {
        async fn handle(&self, request: Request) -> Response {
            let header = |name: &str| {
                request.headers().get(name).map_or(String::new(), |v| {
                    String::from_utf8_lossy(v.as_bytes()).into_owned()
                })
            };
            let body = String::from_utf8_lossy(request.body()).into_owned();
            let _ = self
                .requests
                .send((header("content-type"), header("idempotency-key"), body));
            empty(self.status)
        }

        fn refuse(&self, refusal: Refusal) -> Response {
            empty(refusal.status())
        }
    }

    fn webhook(status: u16) -> Webhook {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
        let url = format!("http://{}/hook", listener.local_addr().expect("an address"));
        let (sender, requests) = mpsc::channel();
        let status = http::StatusCode::from_u16(status).expect("a status");
        let limits = Limits {
            max_connections: 4,
            request_deadline: Duration::from_secs(5),
            max_body_bytes: 64 * 1024,
        };
        let server = Background::start(listener, limits, 1, move || Recorder {
            status,
            requests: sender,
        })
        .expect("a webhook server");
        Webhook {
            url,
            requests,
            _server: server,
        }
    }

    #[test]
    fn the_webhook_receives_the_email_as_json_with_its_idempotency_key() {
        let hook = webhook(202);
        let mailer = AppMailer::from_config(Some(&hook.url), UreqClient::default());
        block_on(mailer.send(&email())).unwrap();
        let (content_type, key, body) = hook.received();
        assert_eq!(content_type, "application/json");
        assert_eq!(key, "welcome/u1");
        let json: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(
            json,
            serde_json::json!({
                "to": "ada@contoso.example",
                "subject": "Welcome",
                "body": "Your account is ready."
            })
        );
    }

    #[test]
    fn a_notice_reaches_the_webhook_as_its_event_with_its_idempotency_key() {
        let hook = webhook(202);
        let mailer = AppMailer::from_config(Some(&hook.url), UreqClient::default());
        let notice = engine::ports::Notice {
            event: engine::ports::NoticeEvent::AwaitingConfirmation,
            org: "contoso".into(),
            directory: "d1".into(),
            run_id: 7,
            message: "The removal guard holds this sync.".into(),
        };
        block_on(mailer.notify(&notice)).unwrap();
        let (content_type, key, body) = hook.received();
        assert_eq!(content_type, "application/json");
        assert_eq!(key, "awaiting_confirmation/contoso/d1/7");
        let json: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(
            json,
            serde_json::json!({
                "event": "awaiting_confirmation", "org": "contoso", "directory": "d1",
                "run_id": 7, "message": "The removal guard holds this sync."
            })
        );
    }

    #[test]
    fn a_failing_webhook_is_a_delivery_error() {
        let hook = webhook(500);
        let mailer = AppMailer::from_config(Some(&hook.url), UreqClient::default());
        let err = block_on(mailer.send(&email())).unwrap_err();
        assert!(err.0.contains("500"), "{err}");
        hook.received();
    }

    #[test]
    fn an_unreachable_webhook_is_a_delivery_error() {
        // Bind then drop, so the port is very likely closed.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let url = format!("http://127.0.0.1:{port}/hook");
        let mailer = AppMailer::from_config(Some(&url), UreqClient::default());
        let err = block_on(mailer.send(&email())).unwrap_err();
        assert!(err.0.contains("unreachable"), "{err}");
    }

    #[test]
    fn without_a_webhook_emails_are_logged_as_sent() {
        let mailer = AppMailer::from_config(None, UreqClient::default());
        assert!(matches!(mailer, AppMailer::Log(_)));
        block_on(mailer.send(&email())).unwrap();
    }
}
