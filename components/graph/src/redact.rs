//! Known secrets taken out of error texts that came from outside (Entra's
//! and Graph's error bodies, transport messages) before they reach the
//! engine, which stores them in the run history and shows them in the API:
//! a token endpoint that quotes the refused request would otherwise put
//! the client secret there.

use engine::ports::SourceError;

/// What replaces a secret.
const REDACTED: &str = "[redacted]";

/// `text` with every occurrence of each secret (as is, and in the
/// `application/x-www-form-urlencoded` and percent-encoded forms it takes
/// in a request body or URL) replaced by `[redacted]`. Empty secrets are
/// ignored.
pub(crate) fn redact_text(text: &str, secrets: &[&str]) -> String {
    let mut out = text.to_owned();
    for secret in secrets.iter().filter(|s| !s.is_empty()) {
        let form: String = url::form_urlencoded::byte_serialize(secret.as_bytes()).collect();
        let percent = form.replace('+', "%20");
        for shape in [secret.to_string(), form, percent] {
            if !shape.is_empty() {
                out = out.replace(&shape, REDACTED);
            }
        }
    }
    out
}

/// `err` with its texts redacted of `secrets`.
pub(crate) fn redact(err: SourceError, secrets: &[&str]) -> SourceError {
    let r = |text: String| redact_text(&text, secrets);
    match err {
        SourceError::Unauthorized { code, message } => SourceError::Unauthorized {
            code: r(code),
            message: r(message),
        },
        SourceError::NotFound(m) => SourceError::NotFound(r(m)),
        SourceError::DeltaUnavailable(m) => SourceError::DeltaUnavailable(r(m)),
        SourceError::PagingLoop(m) => SourceError::PagingLoop(r(m)),
        SourceError::ForeignLink(m) => SourceError::ForeignLink(r(m)),
        SourceError::Graph {
            status,
            code,
            message,
            request_id,
        } => SourceError::Graph {
            status,
            code: r(code),
            message: r(message),
            request_id: request_id.map(r),
        },
        SourceError::Transport(m) => SourceError::Transport(r(m)),
        SourceError::BadResponse(m) => SourceError::BadResponse(r(m)),
        other @ (SourceError::Throttled { .. }
        | SourceError::TokenExpired
        | SourceError::BudgetSpent) => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_secret_is_removed_in_every_shape_a_request_gives_it() {
        let secret = "s3cr3t+/=~ value";
        let echoed = "AADSTS7000215: Invalid client secret. Request: \
                      grant_type=client_credentials&client_secret=s3cr3t%2B%2F%3D%7E+value \
                      raw s3cr3t+/=~ value url s3cr3t%2B%2F%3D%7E%20value";
        let clean = redact_text(echoed, &[secret]);
        assert!(!clean.contains("s3cr3t"), "{clean}");
        assert_eq!(clean.matches(REDACTED).count(), 3, "{clean}");
    }

    #[test]
    fn every_text_of_an_error_is_redacted() {
        let err = SourceError::Unauthorized {
            code: "invalid_client".into(),
            message: "bad secret hunter2".into(),
        };
        assert_eq!(
            redact(err, &["hunter2", ""]),
            SourceError::Unauthorized {
                code: "invalid_client".into(),
                message: "bad secret [redacted]".into(),
            }
        );
    }
}
