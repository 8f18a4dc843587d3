//! [`Variables`] over Spin's component variables
//! (`fermyon:spin/variables@2.0.0`).

use spin_sdk::variables::{self, Error};

use crate::config::{VariableError, Variables};

/// Reads the component's variables (declared in `spin.toml`).
#[derive(Debug, Clone, Copy, Default)]
pub struct SpinVariables;

impl Variables for SpinVariables {
    async fn get(&self, name: &str) -> Result<Option<String>, VariableError> {
        match variables::get(name) {
            Ok(value) => Ok(Some(value)),
            Err(Error::Undefined(_)) => Ok(None),
            Err(e) => Err(VariableError {
                name: name.to_owned(),
                message: e.to_string(),
            }),
        }
    }
}
