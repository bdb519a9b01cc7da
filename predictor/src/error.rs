/// Everything that can go wrong building a predictor.
#[derive(Debug, thiserror::Error)]
pub enum PredictorError {
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
) -> Result<(), PredictorError> {
    if ok {
        Ok(())
    } else {
        Err(PredictorError::InvalidConfig {
            field,
            message: message(),
        })
    }
}
