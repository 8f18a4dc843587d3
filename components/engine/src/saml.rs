//! SAML single sign-on configuration (refused until a sync has completed).

use crate::error::{Field, FieldError};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SamlConfig {
    #[cfg_attr(feature = "openapi", schema(max_length = 1024, pattern = r"\S"))]
    pub idp_entity_id: String,
    /// The IdP's sign-on URL; `https` only.
    #[cfg_attr(
        feature = "openapi",
        schema(
            max_length = 2048,
            pattern = r"^\s*https://[A-Za-z0-9.:\[\]-]+([/?#]\S*)?\s*$"
        )
    )]
    pub sso_url: String,
    /// The IdP signing certificate, PEM (`-----BEGIN CERTIFICATE-----`).
    #[cfg_attr(
        feature = "openapi",
        schema(
            max_length = 16384,
            pattern = r"^\s*-----BEGIN CERTIFICATE-----((\s*[A-Za-z0-9+/=]){4})+\s*-----END CERTIFICATE-----\s*$"
        )
    )]
    pub certificate_pem: String,
}

const PEM_BEGIN: &str = "-----BEGIN CERTIFICATE-----";
const PEM_END: &str = "-----END CERTIFICATE-----";

impl SamlConfig {
    /// Checks every field, collecting every error; returns the fields
    /// trimmed.
    pub fn validate(self) -> Result<SamlConfig, Vec<FieldError>> {
        let mut errors = Vec::new();
        let mut text = |field: Field, value: String, max: usize| {
            let value = value.trim();
            if value.is_empty() || value.len() > max {
                errors.push(FieldError::new(
                    field,
                    format!("is required: a string of 1-{max} characters"),
                ));
                None
            } else {
                Some(value.to_owned())
            }
        };
        let idp_entity_id = text(Field::IdpEntityId, self.idp_entity_id, 1024);
        let sso_url = text(Field::SsoUrl, self.sso_url, 2048);
        let certificate_pem = text(Field::CertificatePem, self.certificate_pem, 16 * 1024);
        if let Some(url) = &sso_url
            && !is_https_url(url)
        {
            errors.push(FieldError::new(
                Field::SsoUrl,
                "must be an https:// URL with a host",
            ));
        }
        if let Some(pem) = &certificate_pem
            && !is_certificate_pem(pem)
        {
            errors.push(FieldError::new(
                Field::CertificatePem,
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

    fn config(sso_url: &str, certificate_pem: &str) -> SamlConfig {
        SamlConfig {
            idp_entity_id: "https://sts.windows.net/t/".into(),
            sso_url: sso_url.into(),
            certificate_pem: certificate_pem.into(),
        }
    }

    #[test]
    fn saml_input_is_checked_field_by_field() {
        let errs = config("http://login.example.com/saml", "not a cert")
            .validate()
            .unwrap_err();
        let fields: Vec<_> = errs.iter().map(|e| e.field).collect();
        assert_eq!(fields, [Field::SsoUrl, Field::CertificatePem]);
        let ok = config(
            "https://login.microsoftonline.com/t/saml2",
            "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n",
        )
        .validate();
        assert!(ok.is_ok());
    }
}
