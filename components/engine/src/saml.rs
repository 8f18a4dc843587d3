//! SAML single sign-on configuration (refused until a sync has completed).

use crate::error::FieldError;
use serde::{Deserialize, Serialize};
use serde_json::Value;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SamlConfig {
    pub idp_entity_id: String,
    /// The IdP's sign-on URL; `https` only.
    pub sso_url: String,
    /// The IdP signing certificate, PEM (`-----BEGIN CERTIFICATE-----`).
    pub certificate_pem: String,
}

const PEM_BEGIN: &str = "-----BEGIN CERTIFICATE-----";
const PEM_END: &str = "-----END CERTIFICATE-----";

impl SamlConfig {
    /// Parses and validates `{"idp_entity_id","sso_url","certificate_pem"}`.
    pub fn from_json(body: &Value) -> Result<SamlConfig, Vec<FieldError>> {
        let Some(obj) = body.as_object() else {
            return Err(vec![FieldError::new("", "expected a JSON object")]);
        };
        let mut errors: Vec<FieldError> = obj
            .keys()
            .filter(|k| !["idp_entity_id", "sso_url", "certificate_pem"].contains(&k.as_str()))
            .map(|k| FieldError::new(k.clone(), "unknown field"))
            .collect();
        let mut text = |field: &str, max: usize| match obj.get(field).and_then(Value::as_str) {
            Some(s) if !s.trim().is_empty() && s.len() <= max => Some(s.trim().to_owned()),
            _ => {
                errors.push(FieldError::new(
                    field,
                    format!("is required: a string of 1-{max} characters"),
                ));
                None
            }
        };
        let idp_entity_id = text("idp_entity_id", 1024);
        let sso_url = text("sso_url", 2048);
        let certificate_pem = text("certificate_pem", 16 * 1024);
        if let Some(url) = &sso_url
            && !is_https_url(url)
        {
            errors.push(FieldError::new(
                "sso_url",
                "must be an https:// URL with a host",
            ));
        }
        if let Some(pem) = &certificate_pem
            && !is_certificate_pem(pem)
        {
            errors.push(FieldError::new(
                "certificate_pem",
                "must be one PEM certificate (-----BEGIN CERTIFICATE----- ... -----END CERTIFICATE-----)",
            ));
        }
        match (idp_entity_id, sso_url, certificate_pem) {
            (Some(idp_entity_id), Some(sso_url), Some(certificate_pem)) if errors.is_empty() => {
                Ok(SamlConfig {
                    idp_entity_id,
                    sso_url,
                    certificate_pem,
                })
            }
            _ => Err(errors),
        }
    }
}

fn is_https_url(url: &str) -> bool {
    let Some(rest) = url.strip_prefix("https://") else {
        return false;
    };
    let host = rest.split(['/', '?', '#']).next().unwrap_or("");
    !host.is_empty()
        && !url.chars().any(char::is_whitespace)
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || ".-:[]".contains(c))
}

fn is_certificate_pem(pem: &str) -> bool {
    let Some(body) = pem
        .strip_prefix(PEM_BEGIN)
        .and_then(|rest| rest.trim_end().strip_suffix(PEM_END))
    else {
        return false;
    };
    let b64: String = body.chars().filter(|c| !c.is_whitespace()).collect();
    !b64.is_empty()
        && b64.len().is_multiple_of(4)
        && b64
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "+/=".contains(c))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn saml_input_is_checked_field_by_field() {
        let errs = SamlConfig::from_json(&json!({
            "idp_entity_id": "https://sts.windows.net/t/",
            "sso_url": "http://login.example.com/saml",
            "certificate_pem": "not a cert"
        }))
        .unwrap_err();
        let fields: Vec<_> = errs.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["sso_url", "certificate_pem"]);
        let ok = SamlConfig::from_json(&json!({
            "idp_entity_id": "https://sts.windows.net/t/",
            "sso_url": "https://login.microsoftonline.com/t/saml2",
            "certificate_pem": "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"
        }));
        assert!(ok.is_ok());
    }
}
