//! Gradient × input on the token embeddings (Shrikumar et al. 2016; Simonyan et al. 2014),
//! summed over each token's vector.

use burn::prelude::*;
use serde::{Deserialize, Serialize};
use transfer_contextual::ContextualEmbedder;
use transfer_embedder::TokenEmbedder;
use transfer_predictor::Predictor;
use transfer_tokenizer::{Encoding, SpecialTokens, Tokenizer};

use crate::data::check_texts;
use crate::error::{Result, TransferError};
use crate::pipeline::{Batch, TransferPipeline, rows_of, softmax_row};
use crate::stages::{SetFrozen, Stages};

/// One token's share in a prediction.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TokenAttribution {
    /// Byte range of the token in the text.
    pub start: usize,
    pub end: usize,
    /// Positive: pushed towards the explained class; negative: away from it.
    pub score: f32,
}

/// The attributions of one text for one class.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Attribution {
    pub class: usize,
    /// The class probabilities of the forward pass explained (the same as `predict`'s).
    pub probabilities: Vec<f32>,
    pub tokens: Vec<TokenAttribution>,
}

impl<T, E, C, P> TransferPipeline<T, E, C, P>
where
    T: Tokenizer,
    E: TokenEmbedder,
    C: ContextualEmbedder,
    P: Predictor,
{
    /// The stages on an autodiff device, every one frozen (no parameter gradients, no
    /// dropout), so that only the embeddings a method marks are tracked.
    pub(super) fn frozen_autodiff(&self) -> (Stages<E, C, P>, Device) {
        let device = self.device.clone().autodiff();
        let mut model = self.stages.clone().train();
        for stage in crate::Stage::ALL {
            model = model.map_stage(stage, SetFrozen(true));
        }
        (model, device)
    }

    /// Gradient × input attributions of each text towards `class` (a classification
    /// pipeline's class index), from one batched backward pass. Special tokens are left out.
    pub fn attribute<S: AsRef<str> + Sync>(
        &self,
        texts: &[S],
        class: usize,
    ) -> Result<Vec<Attribution>> {
        check_texts("texts", texts)?;
        super::check_class(self.task(), class)?;
        let mut encodings = Vec::with_capacity(texts.len());
        for text in texts {
            encodings.push(self.tokenizer.encode(text.as_ref(), &self.policy)?.0);
        }
        let (model, device) = self.frozen_autodiff();
        let rows: Vec<&[u32]> = encodings.iter().map(|e| e.ids.as_slice()).collect();
        let Batch { ids, mask, padded } =
            Batch::new(&rows, self.tokenizer.special_tokens().pad, &device);
        let embedded = model.embedder.forward(ids).detach().require_grad();
        let states = model
            .contextual
            .forward_known_padding(embedded.clone(), mask.clone(), padded);
        let logits = model.predictor.forward(states, mask);
        let [batch, classes] = logits.dims();
        debug_assert!(class < classes);
        let probabilities: Vec<Vec<f32>> = rows_of(logits.clone().detach().inner())
            .iter()
            .map(|row| softmax_row(row))
            .collect();
        let chosen = logits.slice([0..batch, class..class + 1]).sum();
        let grads = chosen.backward();
        let grad = embedded
            .grad(&grads)
            .ok_or_else(|| TransferError::InvalidConfig {
                field: "embedder",
                message: "no gradient reached the token embeddings".into(),
            })?;
        let scores = (grad * embedded.inner()).sum_dim(2);
        let seq = scores.dims()[1];
        let scores: Vec<f32> = scores
            .into_data()
            .convert::<f32>()
            .try_to_vec::<f32>()
            .unwrap_or_default();
        let special = self.tokenizer.special_tokens();
        Ok(encodings
            .iter()
            .enumerate()
            .map(|(row, encoding)| Attribution {
                class,
                probabilities: probabilities[row].clone(),
                tokens: token_scores(encoding, &scores[row * seq..(row + 1) * seq], special),
            })
            .collect())
    }
}

/// Each token of `encoding` with its score (`scores[position]`), leaving out the special
/// tokens the tokenizer added (no text under them).
pub(super) fn token_scores(
    encoding: &Encoding,
    scores: &[f32],
    special: SpecialTokens,
) -> Vec<TokenAttribution> {
    encoding
        .ids
        .iter()
        .zip(&encoding.offsets)
        .zip(scores)
        .filter(|((id, (s, e)), _)| !(special.contains(**id) && s == e))
        .map(|((_, &(start, end)), &score)| TokenAttribution { start, end, score })
        .collect()
}
