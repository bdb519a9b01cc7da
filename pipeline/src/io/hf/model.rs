//! Any supported family, its stages as [`AnyEmbedder`] + [`AnyContextual`]: BERT-layout
//! families through [`PretrainedEncoder`], ModernBERT, GPT-2 and DeBERTa-v2 through their own
//! stages.

use std::path::{Path, PathBuf};

use burn::module::Module;
use burn::prelude::*;
use transfer_contextual::{
    AnyContextual, ContextualEmbedder, DebertaV2Encoder, Gpt2Decoder, ModernBertEncoder,
};
use transfer_embedder::{
    AnyEmbedder, DebertaV2Embeddings, Gpt2Embeddings, ModernBertEmbeddings, TokenEmbedder,
};
use transfer_predictor::Pooling;
use transfer_tokenizer::{HfTokenizer, Tokenizer};

use super::{
    Family, ModelSource, PretrainedEncoder, check_vocabulary, deberta, export_encoder, gpt2,
    modernbert, read_config, sentence, weights, write_export,
};
use crate::error::{Result, TransferError};

#[derive(Module, Debug)]
struct HfModernBert {
    embeddings: ModernBertEmbeddings,
    encoder: ModernBertEncoder,
}

#[derive(Module, Debug)]
struct HfGpt2 {
    embeddings: Gpt2Embeddings,
    encoder: Gpt2Decoder,
}

#[derive(Module, Debug)]
struct HfDebertaV2 {
    embeddings: DebertaV2Embeddings,
    encoder: DebertaV2Encoder,
}

/// A pretrained transformer of any family in [`MODEL_TYPES`](super::MODEL_TYPES): its
/// tokenizer and stages, ready to compose into a [`TransferPipeline`](crate::TransferPipeline)
/// (the `transfer` CLI's `--pretrained`).
///
/// ```no_run
/// use burn::prelude::*;
/// use transfer_pipeline::io::hf::PretrainedModel;
///
/// let model = PretrainedModel::load("models/ModernBERT-base", &Device::flex())?;
/// let pooling = model.pooling(); // the last token for GPT-2, the mean otherwise
/// # Ok::<(), transfer_pipeline::TransferError>(())
/// ```
#[derive(Debug)]
pub struct PretrainedModel {
    pub tokenizer: HfTokenizer,
    pub embeddings: AnyEmbedder,
    pub encoder: AnyContextual,
    pub family: Family,
}

impl From<PretrainedEncoder> for PretrainedModel {
    fn from(model: PretrainedEncoder) -> Self {
        Self {
            tokenizer: model.tokenizer,
            embeddings: model.embeddings.into(),
            encoder: model.encoder.into(),
            family: model.family,
        }
    }
}

impl PretrainedModel {
    /// Loads a model directory in Hugging Face layout of any supported family (see
    /// [`PretrainedEncoder::load`] for what is checked); `model` is a directory or a Hub id.
    pub fn load(model: impl Into<ModelSource>, device: &Device) -> Result<Self> {
        let dir = &model.into().resolve()?;
        let (config_path, json, family) = read_config(dir)?;
        let in_config = |e: String| TransferError::format(&config_path, e);
        let tokenizer = || HfTokenizer::from_pretrained_dir(dir);
        let (embeddings, encoder): (AnyEmbedder, AnyContextual) = match family {
            Family::ModernBert => {
                let (e, c) = modernbert::configs(&json).map_err(in_config)?;
                let mut model = HfModernBert {
                    embeddings: ModernBertEmbeddings::from_config(&e, device)?,
                    encoder: ModernBertEncoder::from_config(&c, device)?,
                };
                weights::load(&mut model, family, dir)?;
                (model.embeddings.into(), model.encoder.into())
            }
            Family::Gpt2 => {
                let (e, c) = gpt2::configs(&json).map_err(in_config)?;
                let mut model = HfGpt2 {
                    embeddings: Gpt2Embeddings::from_config(&e, device)?,
                    encoder: Gpt2Decoder::from_config(&c, device)?,
                };
                weights::load(&mut model, family, dir)?;
                (model.embeddings.into(), model.encoder.into())
            }
            Family::DebertaV2 => {
                let (e, c) = deberta::configs(&json).map_err(in_config)?;
                let mut model = HfDebertaV2 {
                    embeddings: DebertaV2Embeddings::from_config(&e, device)?,
                    encoder: DebertaV2Encoder::from_config(&c, device)?,
                };
                weights::load(&mut model, family, dir)?;
                (model.embeddings.into(), model.encoder.into())
            }
            _ => return PretrainedEncoder::load(dir, device).map(Self::from),
        };
        let tokenizer = tokenizer()?;
        check_vocabulary(&tokenizer, embeddings.vocab_size(), &config_path)?;
        Ok(Self {
            tokenizer,
            embeddings,
            encoder,
            family,
        })
    }

    /// The encoder's output size.
    pub fn hidden_size(&self) -> usize {
        self.encoder.output_dim()
    }

    /// How to pool its states into one vector per text: the last real token for the causal
    /// GPT-2 (the only one that has read the whole text), the mean otherwise.
    pub fn pooling(&self) -> Pooling {
        match self.family {
            Family::Gpt2 => Pooling::Last,
            _ => Pooling::Mean,
        }
    }

    /// Sentence embeddings: the states pooled as [`pooling`](Self::pooling) says, then
    /// L2-normalised (sentence-transformers' recipe for mean-pooled models).
    pub fn sentence_embeddings<S: AsRef<str> + Sync>(
        &self,
        texts: &[S],
        max_length: usize,
        batch_size: usize,
    ) -> Result<Vec<Vec<f32>>> {
        let stages = (&self.tokenizer, &self.embeddings, &self.encoder);
        sentence::embeddings(stages, self.pooling(), texts, max_length, batch_size)
    }
}

/// Writes the stages in Hugging Face layout (see [`export_encoder`]), for any family:
/// BERT-layout stages, ModernBERT's or GPT-2's. Stages of different families, or stages no
/// checkpoint has (an LSTM, a learned table), are an error.
pub fn export_model(
    tokenizer: &HfTokenizer,
    embeddings: &AnyEmbedder,
    encoder: &AnyContextual,
    dir: impl AsRef<Path>,
) -> Result<PathBuf> {
    let dir = dir.as_ref();
    let pad = tokenizer.special_tokens().pad;
    match (embeddings, encoder) {
        (AnyEmbedder::Bert(e), AnyContextual::Bert(c)) => export_encoder(tokenizer, e, c, dir),
        (AnyEmbedder::ModernBert(e), AnyContextual::ModernBert(c)) => {
            let config = modernbert::config_json(&e.config(), &c.config(), pad);
            let model = HfModernBert {
                embeddings: e.clone(),
                encoder: c.clone(),
            };
            write_export(tokenizer, &model, Family::ModernBert, config, None, dir)
        }
        (AnyEmbedder::Gpt2(e), AnyContextual::Gpt2(c)) => {
            let config = gpt2::config_json(&e.config(), &c.config());
            let model = HfGpt2 {
                embeddings: e.clone(),
                encoder: c.clone(),
            };
            let limit = e.max_sequence_length();
            write_export(tokenizer, &model, Family::Gpt2, config, limit, dir)
        }
        (AnyEmbedder::DebertaV2(e), AnyContextual::DebertaV2(c)) => {
            let config = deberta::config_json(&e.config(), &c.config(), pad);
            let model = HfDebertaV2 {
                embeddings: e.clone(),
                encoder: c.clone(),
            };
            let limit = e.max_sequence_length();
            write_export(tokenizer, &model, Family::DebertaV2, config, limit, dir)
        }
        _ => Err(TransferError::StageMismatch(
            "only the embeddings and encoder of one pretrained family export to Hugging Face \
             layout"
                .into(),
        )),
    }
}
