//! Pooled, L2-normalised sentence embeddings of any pretrained stages.

use transfer_contextual::ContextualEmbedder;
use transfer_embedder::TokenEmbedder;
use transfer_predictor::Pooling;
use transfer_tokenizer::{HfTokenizer, Tokenizer};

use crate::error::{Result, TransferError};
use crate::pipeline::{Batch, rows_of, uploaded_batches};
use crate::runtime::overlap::read_inference_outputs;

/// Hidden states pooled over the attention mask, then L2-normalised. Texts are cut at
/// `max_length` tokens and run in batches of `batch_size` of similar lengths.
pub(super) fn embeddings<E: TokenEmbedder, C: ContextualEmbedder, S: AsRef<str> + Sync>(
    (tokenizer, embedder, encoder): (&HfTokenizer, &E, &C),
    pooling: Pooling,
    texts: &[S],
    max_length: usize,
    batch_size: usize,
) -> Result<Vec<Vec<f32>>> {
    let limit = embedder.max_sequence_length().unwrap_or(usize::MAX);
    if max_length > limit {
        return Err(TransferError::InvalidConfig {
            field: "max_length",
            message: format!("{max_length} is longer than the model's {limit} positions"),
        });
    }
    let policy = transfer_tokenizer::EncodePolicy::new(max_length);
    let encoded: Vec<Vec<u32>> = texts
        .iter()
        .map(|t| tokenizer.encode(t.as_ref(), &policy).map(|(e, _)| e.ids))
        .collect::<std::result::Result<_, _>>()?;
    let device = embedder.devices().into_iter().next().unwrap_or_default();
    let pad = tokenizer.special_tokens().pad;
    let mut out = vec![Vec::new(); texts.len()];
    let queued =
        uploaded_batches(&encoded, batch_size, pad, &device, |_| ()).map(|(batch, tensors, ())| {
            let Batch { ids, mask, padded } = tensors;
            let states = encoder.forward_known_padding(embedder.forward(ids), mask.clone(), padded);
            let pooled = transfer_predictor::pool(states, mask, pooling);
            let norms = pooled.clone().square().sum_dim(1).sqrt().clamp_min(1e-12);
            (batch, pooled / norms)
        });
    read_inference_outputs(queued, |(batch, unit)| {
        for (&i, row) in batch.iter().zip(rows_of(unit)) {
            out[i] = row;
        }
    });
    Ok(out)
}
