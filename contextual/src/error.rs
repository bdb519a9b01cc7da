/// Everything that can go wrong building a contextual embedder.
#[derive(Debug, thiserror::Error)]
pub enum ContextualError {
    #[error("invalid {field}: {message}")]
    InvalidConfig {
        field: &'static str,
        message: String,
    },
}

pub(crate) fn check(
    ok: bool,
    field: &'static str,
    message: impl FnOnce() -> String,
) -> Result<(), ContextualError> {
    if ok {
        Ok(())
    } else {
        Err(ContextualError::InvalidConfig {
            field,
            message: message(),
        })
    }
}
