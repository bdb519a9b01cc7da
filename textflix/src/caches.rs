//! The models trained once per run and cached in the output directory: ULMFiT's language model
//! (`ulmfit-lm/`) and the domain-adapted MiniLM (`bert-mlm/`), each beside the settings it was
//! trained with, which a later run must match.

use std::path::Path;

use burn::prelude::*;
use serde::Serialize;
use transfer_nlp::pipeline::data::rng::SplitMix64;
use transfer_nlp::pipeline::io::hf::PretrainedEncoder;
use transfer_nlp::pipeline::pretraining::language_model::{
    LanguageModelConfig, LanguageModelReport, LanguageModelTraining, LstmLanguageModel,
    train_language_model,
};
use transfer_nlp::pipeline::pretraining::masked_lm::{
    MaskedLanguageModel, MaskedLmTraining, train_masked_lm,
};
use transfer_nlp::pipeline::{TransferError, load_weights, save_weights, write_atomic};
use transfer_nlp::tokenizer::{Tokenizer, VocabularyConfig, WordLevelTokenizer};

use crate::context::{Context, texts};
use crate::recipes::Model;

/// Fails if the model cached beside `path` was trained with other settings than `settings`:
/// reusing it would mix two studies in one table.
fn check_cached_settings(path: &Path, settings: &serde_json::Value) -> Result<(), TransferError> {
    epochs_to_continue(path, settings, None).map(|_| ())
}

/// As [`check_cached_settings`], except that when the saved settings differ from `settings`
/// only in fewer of the epochs named `epochs` (a number), returns how many more to train.
fn epochs_to_continue(
    path: &Path,
    settings: &serde_json::Value,
    epochs: Option<&str>,
) -> Result<usize, TransferError> {
    let Ok(bytes) = std::fs::read(path) else {
        return Ok(0);
    };
    let saved: serde_json::Value =
        serde_json::from_slice(&bytes).map_err(|e| TransferError::format(path, e))?;
    if &saved == settings {
        return Ok(0);
    }
    if let Some(key) = epochs {
        let count = |v: &serde_json::Value| v[key].as_u64().unwrap_or(0) as usize;
        let (had, wanted) = (count(&saved), count(settings));
        let mut same = saved.clone();
        same[key] = settings[key].clone();
        if &same == settings && had < wanted {
            return Ok(wanted - had);
        }
    }
    Err(TransferError::format(
        path,
        format!(
            "the model here was trained with {saved}, this run asks for {settings}: use \
             another output directory"
        ),
    ))
}

/// Writes a model trained once per run into `dir`: `settings.json` (what
/// [`check_cached_settings`] compares), `model.safetensors` and `report.json`.
fn save_cached<M: Module, R: Serialize>(
    dir: &Path,
    settings: &serde_json::Value,
    model: &M,
    report: &R,
) -> Result<(), TransferError> {
    std::fs::create_dir_all(dir).map_err(|e| TransferError::io(dir, e))?;
    write_atomic(
        &dir.join("settings.json"),
        &serde_json::to_vec_pretty(settings).expect("settings"),
    )?;
    save_weights(model, &dir.join("model.safetensors"))?;
    write_atomic(
        &dir.join("report.json"),
        &serde_json::to_vec_pretty(report).expect("report"),
    )
}

impl<'a> Context<'a> {
    /// MiniLM after masked-LM training on the unlabelled reviews, trained once per run and
    /// cached in `out/bert-mlm/`.
    pub fn adapted_bert(&self) -> Result<&MaskedLanguageModel, TransferError> {
        if let Some(model) = self.adapted_bert.get() {
            return Ok(model);
        }
        let s = &self.config.mlm;
        let dir = self.out.join("bert-mlm");
        let (settings_path, weights_path) =
            (dir.join("settings.json"), dir.join("model.safetensors"));
        let settings = serde_json::json!({
            "model_dir": self.config.bert.model_dir,
            "steps": s.steps,
            "batch_size": s.batch_size,
            "max_length": s.max_length,
            "learning_rate": s.learning_rate,
        });
        let bert = PretrainedEncoder::load(self.config.bert.model_source(), &self.device)?;
        let mut model = MaskedLanguageModel::new(bert.embeddings, bert.encoder, 0, &self.device);
        if weights_path.is_file() {
            check_cached_settings(&settings_path, &settings)?;
            load_weights(&mut model, &weights_path)?;
            eprintln!("bert-mlm: reusing the adapted model in {}", dir.display());
        } else {
            let training = MaskedLmTraining {
                steps: s.steps,
                batch_size: s.batch_size,
                max_length: s.max_length,
                learning_rate: s.learning_rate,
                progress: self.progress,
                ..MaskedLmTraining::default()
            };
            let (trained, report) = train_masked_lm(
                model,
                &bert.tokenizer,
                self.unlabelled,
                &training,
                &self.device,
            )?;
            eprintln!(
                "bert-mlm: {} steps of {} reviews, {:.0}s, masked-token loss {:.2} -> {:.2}",
                report.steps, s.batch_size, report.seconds, report.first_loss, report.last_loss
            );
            save_cached(&dir, &settings, &trained, &report)?;
            model = trained;
        }
        let _ = self.adapted_bert.set(model);
        Ok(self.adapted_bert.get().expect("set above"))
    }

    /// The language model, trained once per run and cached in `out/ulmfit-lm/`.
    pub fn language_model(
        &self,
    ) -> Result<&(WordLevelTokenizer, LstmLanguageModel), TransferError> {
        if let Some(lm) = self.language_model.get() {
            return Ok(lm);
        }
        let s = &self.config.ulmfit;
        let dir = self.out.join("ulmfit-lm");
        let (tokenizer_path, weights_path) =
            (dir.join("tokenizer.json"), dir.join("model.safetensors"));
        let config = |vocab_size| LanguageModelConfig {
            vocab_size,
            dim: s.dim,
            num_layers: s.num_layers,
            dropout: s.dropout,
        };
        let settings_path = dir.join("settings.json");
        let settings = s.language_model_settings();
        let lm = if weights_path.is_file() && tokenizer_path.is_file() {
            let more_epochs = epochs_to_continue(&settings_path, &settings, Some("lm_epochs"))?;
            let tokenizer = WordLevelTokenizer::load(&tokenizer_path)?;
            let mut model = LstmLanguageModel::new(&config(tokenizer.vocab_size()), &self.device)?;
            load_weights(&mut model, &weights_path)?;
            if more_epochs == 0 {
                eprintln!("ulmfit: reusing the language model in {}", dir.display());
            } else {
                model = self.continue_language_model(model, &tokenizer, &dir, more_epochs)?;
            }
            (tokenizer, model)
        } else {
            let vocab = VocabularyConfig {
                min_count: 3,
                max_size: s.vocab_size,
                lowercase: true,
            };
            let corpus = self.language_model_corpus();
            let tokenizer = WordLevelTokenizer::train(&corpus, &vocab)?;
            let model = LstmLanguageModel::new(&config(tokenizer.vocab_size()), &self.device)?;
            let training = LanguageModelTraining {
                epochs: s.lm_epochs,
                learning_rate: s.lm_learning_rate,
                batch_size: s.lm_batch_size,
                max_tokens: s.lm_tokens,
                progress: self.progress,
                ..LanguageModelTraining::default()
            };
            let (model, report) =
                train_language_model(model, &tokenizer, &corpus, &training, &self.device)?;
            eprintln!(
                "ulmfit: language model on {} tokens, {} steps, {:.0}s, training perplexity {:.0}",
                report.tokens,
                report.steps,
                report.seconds,
                report.perplexity()
            );
            // The tokenizer first: a model is reused only when both files are there.
            std::fs::create_dir_all(&dir).map_err(|e| TransferError::io(dir.clone(), e))?;
            tokenizer.save(&tokenizer_path)?;
            save_cached(&dir, &settings, &model, &report)?;
            (tokenizer, model)
        };
        let _ = self.language_model.set(lm);
        Ok(self.language_model.get().expect("set above"))
    }

    /// The unlabelled reviews and the training reviews without their labels, mixed (seeded) so
    /// that a token budget samples both.
    fn language_model_corpus(&self) -> Vec<&'a str> {
        let mut corpus: Vec<&str> = self.unlabelled.iter().map(String::as_str).collect();
        corpus.extend(texts(self.train));
        let mut order: Vec<usize> = (0..corpus.len()).collect();
        SplitMix64::new(7).shuffle(&mut order);
        order.into_iter().map(|i| corpus[i]).collect()
    }

    /// Trains the language model cached in `dir` for `more_epochs` further epochs over the same
    /// tokens (a fresh schedule, the softmax bias as trained) and saves it with the settings
    /// and report of the whole training. Refused when `results.json` already holds `ulmfit` or
    /// `ulmfit-st` cells: they were made with the shorter-trained model.
    fn continue_language_model(
        &self,
        model: LstmLanguageModel,
        tokenizer: &WordLevelTokenizer,
        dir: &Path,
        more_epochs: usize,
    ) -> Result<LstmLanguageModel, TransferError> {
        let results = self.out.join("results.json");
        if crate::results::read(&results)?
            .iter()
            .any(|c| Model::all().any(|m| m.recipe().uses_language_model() && m.name() == c.model))
        {
            return Err(TransferError::format(
                &results,
                format!(
                    "has ULMFiT cells made with the language model in {} before {more_epochs} \
                     more epochs: continue it in another output directory (copy ulmfit-lm/ there)",
                    dir.display()
                ),
            ));
        }
        let s = &self.config.ulmfit;
        let report_path = dir.join("report.json");
        let before: LanguageModelReport = serde_json::from_slice(
            &std::fs::read(&report_path).map_err(|e| TransferError::io(&report_path, e))?,
        )
        .map_err(|e| TransferError::format(&report_path, e))?;
        eprintln!(
            "ulmfit: training the language model in {} for {more_epochs} more epochs",
            dir.display()
        );
        let training = LanguageModelTraining {
            epochs: more_epochs,
            learning_rate: s.lm_learning_rate,
            batch_size: s.lm_batch_size,
            max_tokens: s.lm_tokens,
            unigram_bias: false,
            progress: self.progress,
            ..LanguageModelTraining::default()
        };
        let corpus = self.language_model_corpus();
        let (model, after) =
            train_language_model(model, tokenizer, &corpus, &training, &self.device)?;
        let report = LanguageModelReport {
            tokens: after.tokens,
            steps: before.steps + after.steps,
            epoch_losses: [before.epoch_losses, after.epoch_losses].concat(),
            seconds: before.seconds + after.seconds,
        };
        eprintln!(
            "ulmfit: language model now {} epochs, {} steps, training perplexity {:.0}",
            report.epoch_losses.len(),
            report.steps,
            report.perplexity()
        );
        save_cached(dir, &s.language_model_settings(), &model, &report)?;
        Ok(model)
    }
}
