//! The JSON body of the API's on/off switches, `PUT …/groups/{id}/product-access`
//! and `PUT …/directories/{dir}/auto-sync`: `{"enabled": bool}`, read with
//! the same `422` field messages as the settings.

use super::{Object, boolean, unknown_keys};
use crate::error::FieldError;

/// `enabled` of a switch body; every problem (an unknown key, `enabled`
/// missing or not `true`/`false`) as a field error.
pub fn enabled(body: &Object) -> Result<bool, Vec<FieldError>> {
    let mut errors = unknown_keys("", body, &["enabled"]);
    match boolean(body, "enabled", &mut errors) {
        Some(enabled) if errors.is_empty() => Ok(enabled),
        _ => Err(errors),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    fn read(body: Value) -> Result<bool, Vec<(String, String)>> {
        enabled(body.as_object().expect("an object"))
            .map_err(|errors| errors.into_iter().map(|e| (e.field, e.message)).collect())
    }

    fn error(field: &str, message: &str) -> (String, String) {
        (field.to_owned(), message.to_owned())
    }

    #[test]
    fn a_switch_is_true_or_false_and_nothing_else() {
        assert_eq!(read(json!({"enabled": true})), Ok(true));
        assert_eq!(read(json!({"enabled": false})), Ok(false));
        assert_eq!(
            read(json!({"enabled": "yes"})),
            Err(vec![error("enabled", "must be true or false")])
        );
        assert_eq!(read(json!({})), Err(vec![error("enabled", "is required")]));
        assert_eq!(
            read(json!({"enabled": true, "on": 1})),
            Err(vec![error("on", "unknown field")])
        );
    }
}
