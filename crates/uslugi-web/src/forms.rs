//! Form helpers shared by the pages: per-field error messages in the order of the form.

/// Errors of a submitted form, keyed by the field's `id`.
#[derive(Debug, Default, Clone)]
pub struct FieldErrors(Vec<(&'static str, String)>);

impl FieldErrors {
    /// Adds the message for a field (the first message per field wins).
    pub fn add(&mut self, field: &'static str, message: impl Into<String>) {
        if self.get(field).is_none() {
            self.0.push((field, message.into()));
        }
    }

    /// The message for a field.
    pub fn get(&self, field: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(f, _)| *f == field)
            .map(|(_, m)| m.as_str())
    }

    /// Whether there are no errors.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// All errors in form order, for the summary.
    pub fn all(&self) -> &[(&'static str, String)] {
        &self.0
    }
}

/// What the person reads next to a code field when the code is refused; `None` for errors that
/// are not about the code.
pub fn code_error(e: &uslugi_core::identity::registration::RegistrationError) -> Option<String> {
    use crate::explain::Explain;
    e.explain()
        .filter(|x| x.at_field)
        .map(|x| x.message.into_owned())
}
