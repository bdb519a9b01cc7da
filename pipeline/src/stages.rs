use burn::module::Module;
use burn::prelude::*;
use serde::{Deserialize, Serialize};
use transfer_contextual::ContextualEmbedder;
use transfer_embedder::TokenEmbedder;
use transfer_predictor::Predictor;

use crate::pipeline::Batch;

/// A stage with weights (the tokenizer has none).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    Embedder,
    Contextual,
    Predictor,
}

impl Stage {
    /// From the input side to the output side.
    pub const ALL: [Stage; 3] = [Stage::Embedder, Stage::Contextual, Stage::Predictor];

    /// The module path prefix of the stage's weights (`embedder.…`).
    pub fn name(self) -> &'static str {
        match self {
            Stage::Embedder => "embedder",
            Stage::Contextual => "contextual",
            Stage::Predictor => "predictor",
        }
    }
}

impl std::str::FromStr for Stage {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        Stage::ALL
            .into_iter()
            .find(|stage| stage.name() == s)
            .ok_or_else(|| {
                format!("unknown stage {s:?}: expected embedder, contextual or predictor")
            })
    }
}

/// The three stages with weights, as one Burn module.
#[derive(Module, Debug)]
pub struct Stages<E, C, P> {
    pub embedder: E,
    pub contextual: C,
    pub predictor: P,
}

impl<E: TokenEmbedder, C: ContextualEmbedder, P: Predictor> Stages<E, C, P> {
    /// ids `[batch, seq]` and mask `[batch, seq]` → outputs `[batch, outputs]`.
    pub fn forward(&self, ids: Tensor<2, Int>, mask: Tensor<2, Bool>) -> Tensor<2> {
        let embedded = self.embedder.forward(ids);
        let states = self.contextual.forward(embedded, mask.clone());
        self.predictor.forward(states, mask)
    }

    /// [`forward`](Self::forward) on a [`Batch`] built on the host, whose padding is known:
    /// the encoder does not read the mask back to find out.
    pub fn forward_batch(&self, batch: Batch) -> Tensor<2> {
        let embedded = self.embedder.forward(batch.ids);
        let states =
            self.contextual
                .forward_known_padding(embedded, batch.mask.clone(), batch.padded);
        self.predictor.forward(states, batch.mask)
    }

    /// Applies `f` to one stage, as a module (freeze, unfreeze, …).
    pub(crate) fn map_stage(self, stage: Stage, f: impl StageMap) -> Self {
        let Self {
            embedder,
            contextual,
            predictor,
        } = self;
        match stage {
            Stage::Embedder => Self {
                embedder: f.apply(embedder),
                contextual,
                predictor,
            },
            Stage::Contextual => Self {
                embedder,
                contextual: f.apply(contextual),
                predictor,
            },
            Stage::Predictor => Self {
                embedder,
                contextual,
                predictor: f.apply(predictor),
            },
        }
    }

    /// Number of parameters of one stage.
    pub fn num_params_of(&self, stage: Stage) -> usize {
        match stage {
            Stage::Embedder => Module::num_params(&self.embedder),
            Stage::Contextual => Module::num_params(&self.contextual),
            Stage::Predictor => Module::num_params(&self.predictor),
        }
    }
}

/// A module-to-module function that works on any stage.
pub(crate) trait StageMap {
    fn apply<M: Module>(&self, module: M) -> M;
}

/// Stops (or restarts) gradients and training behaviour (dropout) of a stage.
pub(crate) struct SetFrozen(pub bool);

impl StageMap for SetFrozen {
    fn apply<M: Module>(&self, module: M) -> M {
        if self.0 {
            module.freeze()
        } else {
            module.unfreeze()
        }
    }
}
