//! The JSON body of `PUT /api/v1/orgs/{org}/saml`:
//! `{"idp_entity_id","sso_url","certificate_pem"}`, read into the engine's
//! `SamlConfig` and checked by its rules.

use engine::SamlConfig;
use serde_json::Value;

use super::{Object, checked, unknown_keys};
use crate::error::FieldError;

/// Reads and checks a SAML body, collecting every field error (unknown keys
/// first). A missing field, or one that is not a string, reads as `""`,
/// which the engine refuses as "is required: a string of 1-N characters".
pub fn saml_config(body: &Object) -> Result<SamlConfig, Vec<FieldError>> {
    let mut errors = unknown_keys("", body, &["idp_entity_id", "sso_url", "certificate_pem"]);
    let text = |field: &str| {
        body.get(field)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    let config = SamlConfig {
        idp_entity_id: text("idp_entity_id"),
        sso_url: text("sso_url"),
        certificate_pem: text("certificate_pem"),
    };
    match checked(config.validate(), &mut errors) {
        Some(config) if errors.is_empty() => Ok(config),
        _ => Err(errors),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn read(body: Value) -> Result<SamlConfig, Vec<FieldError>> {
        saml_config(body.as_object().expect("an object"))
    }

    #[test]
    fn saml_input_is_checked_field_by_field() {
        let errs = read(json!({
            "idp_entity_id": "https://sts.windows.net/t/",
            "sso_url": "http://login.example.com/saml",
            "certificate_pem": "not a cert"
        }))
        .unwrap_err();
        let fields: Vec<_> = errs.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["sso_url", "certificate_pem"]);
        let ok = read(json!({
            "idp_entity_id": "https://sts.windows.net/t/",
            "sso_url": "https://login.microsoftonline.com/t/saml2",
            "certificate_pem": "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"
        }));
        assert!(ok.is_ok());
    }

    #[test]
    fn a_missing_or_non_string_field_is_required() {
        let errs = read(json!({"idp_entity_id": 7, "colour": "red"})).unwrap_err();
        let fields: Vec<_> = errs.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            ["colour", "idp_entity_id", "sso_url", "certificate_pem"]
        );
        assert_eq!(
            errs[1].message,
            "is required: a string of 1-1024 characters"
        );
    }
}
