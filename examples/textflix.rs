//! The Textflix study in its quick form, the README's main job: IMDB learning curves of
//! NB-SVM, word-vector sums and fine-tuned MiniLM on CPU in about 10 minutes on 2 cores
//! (`StudyConfig::quick` says what it subsamples). The full study: `transfer textflix`.
//!
//! cargo run --release --example textflix -- [--out runs/textflix-quick] [--device cpu]
//!
//! Rerunning with the same `--out` resumes, skipping finished cells.

use std::path::PathBuf;

use transfer_nlp::pipeline::assets::asset_dir;
use transfer_nlp::textflix::{StudyConfig, run};

fn arg(name: &str, default: &str) -> String {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
        .unwrap_or_else(|| default.to_string())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let out = PathBuf::from(arg("--out", "runs/textflix-quick"));
    let mut config = StudyConfig::quick(&asset_dir()?);
    config.device = arg("--device", "cpu");
    run(&config, &out, true)?;
    let table = out.join("results.md");
    let text = std::fs::read_to_string(&table).map_err(|e| format!("{}: {e}", table.display()))?;
    println!("{text}");
    println!("plots: {}", out.join("learning_curves.png").display());
    Ok(())
}
