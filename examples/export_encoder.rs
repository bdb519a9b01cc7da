//! Any supported transformer checkpoint in, the same model out in Hugging Face layout: loads a
//! model directory by its `config.json`'s `model_type` (BERT, RoBERTa, XLM-RoBERTa, CamemBERT,
//! DistilBERT, ELECTRA, MPNet, ModernBERT, GPT-2) and exports it again in its family's names,
//! as a fine-tuned pipeline's stages would be. Prints what it read and wrote as one JSON line.
//!
//! cargo run --release --example export_encoder -- MODEL_DIR OUT_DIR

use std::path::PathBuf;

use burn::module::Module;
use burn::prelude::Device;
use transfer_nlp::pipeline::io::hf::{PretrainedModel, export_model};

#[derive(clap::Parser)]
struct Args {
    /// A model directory in Hugging Face layout, or a Hub id in the Hugging Face cache.
    model: String,
    /// Where to write config.json, tokenizer.json and model.safetensors.
    out: PathBuf,
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Args = clap::Parser::parse();
    let model = PretrainedModel::load(&args.model, &Device::flex())?;
    export_model(
        &model.tokenizer,
        &model.embeddings,
        &model.encoder,
        &args.out,
    )?;
    let parameters = model.embeddings.num_params() + model.encoder.num_params();
    println!(
        "{}",
        serde_json::json!({
            "model": args.model,
            "family": model.family,
            "model_type": model.family.model_type(),
            "hidden_size": model.hidden_size(),
            "parameters": parameters,
            "out": args.out,
        })
    );
    Ok(())
}
