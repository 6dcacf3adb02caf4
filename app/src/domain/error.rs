//! The one validation error: which input is wrong, and the message (a key with named
//! arguments) to show next to it, rendered in the reader's language at the edge.

use crate::i18n::{Arg, Args, Msg, Text};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldError {
    /// The form field or API parameter at fault, e.g. `amount` or `packs[0].price`.
    pub field: String,
    pub message: Msg,
    pub args: Args,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: Msg) -> Self {
        FieldError {
            field: field.into(),
            message,
            args: Vec::new(),
        }
    }

    /// Adds the value of the placeholder `{name}` of the message.
    pub fn arg(mut self, name: &str, value: impl Into<Arg>) -> Self {
        self.args.push((name.to_owned(), value.into()));
        self
    }

    /// The message without the field, for showing it.
    pub fn text(&self) -> Text {
        Text {
            msg: self.message,
            args: self.args.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_field_error_renders_its_message_with_its_arguments() {
        let error = FieldError::new("name", Msg::ErrTooLong).arg("max", 128);
        assert_eq!(error.field, "name");
        assert_eq!(error.text().to_string(), "At most 128 characters.");
    }
}
