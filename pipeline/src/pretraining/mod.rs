//! What comes before fine-tuning: language models trained on unlabelled text, whose stages
//! then become a classifier's: ULMFiT's LSTM, BERT's masked LM and GPT-2's causal LM.

pub mod causal_lm;
pub mod language_model;
pub mod masked_lm;
mod steps;

pub use steps::PretrainingReport;

use transfer_tokenizer::Tokenizer;

use crate::error::{Result, TransferError};

/// The tokenizer's ids all index the model's embedding table of `model_vocab` rows.
fn check_vocabulary<T: Tokenizer>(tokenizer: &T, model_vocab: usize) -> Result<()> {
    let vocab = tokenizer.vocab_size();
    if vocab > model_vocab {
        return Err(TransferError::InvalidConfig {
            field: "tokenizer",
            message: format!(
                "has {vocab} tokens but the model's embedding table has {model_vocab} rows: \
                 ids from {model_vocab} on have no embedding (use the model's own tokenizer)"
            ),
        });
    }
    Ok(())
}
