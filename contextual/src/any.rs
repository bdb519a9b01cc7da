use burn::module::Module;
use burn::prelude::*;
use serde::{Deserialize, Serialize};

use crate::{
    BagOfEmbeddings, BagOfEmbeddingsConfig, BertEncoder, BertEncoderConfig, ContextualEmbedder,
    ContextualError, DebertaV2Encoder, DebertaV2EncoderConfig, Gpt2Decoder, Gpt2DecoderConfig,
    Lstm, LstmConfig, ModernBertEncoder, ModernBertEncoderConfig,
};

/// Any contextual embedder of this crate, chosen at run time (the `transfer` CLI uses it).
// Stages are built once and moved rarely; boxing would only add indirection.
#[allow(clippy::large_enum_variant)]
#[derive(Module, Debug)]
pub enum AnyContextual {
    Bag(BagOfEmbeddings),
    Lstm(Lstm),
    Bert(BertEncoder),
    ModernBert(ModernBertEncoder),
    Gpt2(Gpt2Decoder),
    DebertaV2(DebertaV2Encoder),
}

/// The config of an [`AnyContextual`], tagged with its `kind`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum AnyContextualConfig {
    Bag(BagOfEmbeddingsConfig),
    Lstm(LstmConfig),
    Bert(BertEncoderConfig),
    ModernBert(ModernBertEncoderConfig),
    Gpt2(Gpt2DecoderConfig),
    DebertaV2(DebertaV2EncoderConfig),
}

impl From<BagOfEmbeddings> for AnyContextual {
    fn from(c: BagOfEmbeddings) -> Self {
        Self::Bag(c)
    }
}

impl From<Lstm> for AnyContextual {
    fn from(c: Lstm) -> Self {
        Self::Lstm(c)
    }
}

impl From<BertEncoder> for AnyContextual {
    fn from(c: BertEncoder) -> Self {
        Self::Bert(c)
    }
}

impl From<ModernBertEncoder> for AnyContextual {
    fn from(c: ModernBertEncoder) -> Self {
        Self::ModernBert(c)
    }
}

impl From<Gpt2Decoder> for AnyContextual {
    fn from(c: Gpt2Decoder) -> Self {
        Self::Gpt2(c)
    }
}

impl From<DebertaV2Encoder> for AnyContextual {
    fn from(c: DebertaV2Encoder) -> Self {
        Self::DebertaV2(c)
    }
}

impl ContextualEmbedder for AnyContextual {
    type Config = AnyContextualConfig;

    fn forward(&self, embedded: Tensor<3>, mask: Tensor<2, Bool>) -> Tensor<3> {
        match self {
            Self::Bag(c) => c.forward(embedded, mask),
            Self::Lstm(c) => c.forward(embedded, mask),
            Self::Bert(c) => c.forward(embedded, mask),
            Self::ModernBert(c) => c.forward(embedded, mask),
            Self::Gpt2(c) => c.forward(embedded, mask),
            Self::DebertaV2(c) => c.forward(embedded, mask),
        }
    }

    fn forward_known_padding(
        &self,
        embedded: Tensor<3>,
        mask: Tensor<2, Bool>,
        padded: bool,
    ) -> Tensor<3> {
        match self {
            Self::Bag(c) => c.forward_known_padding(embedded, mask, padded),
            Self::Lstm(c) => c.forward_known_padding(embedded, mask, padded),
            Self::Bert(c) => c.forward_known_padding(embedded, mask, padded),
            Self::ModernBert(c) => c.forward_known_padding(embedded, mask, padded),
            Self::Gpt2(c) => c.forward_known_padding(embedded, mask, padded),
            Self::DebertaV2(c) => c.forward_known_padding(embedded, mask, padded),
        }
    }

    fn input_dim(&self) -> usize {
        match self {
            Self::Bag(c) => c.input_dim(),
            Self::Lstm(c) => c.input_dim(),
            Self::Bert(c) => c.input_dim(),
            Self::ModernBert(c) => c.input_dim(),
            Self::Gpt2(c) => c.input_dim(),
            Self::DebertaV2(c) => c.input_dim(),
        }
    }

    fn output_dim(&self) -> usize {
        match self {
            Self::Bag(c) => c.output_dim(),
            Self::Lstm(c) => c.output_dim(),
            Self::Bert(c) => c.output_dim(),
            Self::ModernBert(c) => c.output_dim(),
            Self::Gpt2(c) => c.output_dim(),
            Self::DebertaV2(c) => c.output_dim(),
        }
    }

    fn config(&self) -> AnyContextualConfig {
        match self {
            Self::Bag(c) => AnyContextualConfig::Bag(c.config()),
            Self::Lstm(c) => AnyContextualConfig::Lstm(c.config()),
            Self::Bert(c) => AnyContextualConfig::Bert(c.config()),
            Self::ModernBert(c) => AnyContextualConfig::ModernBert(c.config()),
            Self::Gpt2(c) => AnyContextualConfig::Gpt2(c.config()),
            Self::DebertaV2(c) => AnyContextualConfig::DebertaV2(c.config()),
        }
    }

    fn from_config(config: &AnyContextualConfig, device: &Device) -> Result<Self, ContextualError> {
        Ok(match config {
            AnyContextualConfig::Bag(c) => Self::Bag(BagOfEmbeddings::from_config(c, device)?),
            AnyContextualConfig::Lstm(c) => Self::Lstm(Lstm::from_config(c, device)?),
            AnyContextualConfig::Bert(c) => Self::Bert(BertEncoder::from_config(c, device)?),
            AnyContextualConfig::ModernBert(c) => {
                Self::ModernBert(ModernBertEncoder::from_config(c, device)?)
            }
            AnyContextualConfig::Gpt2(c) => Self::Gpt2(Gpt2Decoder::from_config(c, device)?),
            AnyContextualConfig::DebertaV2(c) => {
                Self::DebertaV2(DebertaV2Encoder::from_config(c, device)?)
            }
        })
    }
}
