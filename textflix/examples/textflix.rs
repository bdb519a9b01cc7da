//! The Textflix study in its quick form, the README's main job: IMDB learning curves of
//! NB-SVM, word-vector sums and fine-tuned MiniLM on CPU in about 8 minutes on 2 cores
//! (`StudyConfig::quick` says what it subsamples). The full study and its variants:
//! `transfer textflix --config …` (package `transfer-cli`).
//!
//! cargo run --release --example textflix -- [--out runs/textflix-quick] [--device cpu]
//!
//! Rerunning with the same `--out` resumes, skipping finished cells.

use std::path::PathBuf;

use transfer_nlp::pipeline::io::assets::asset_dir;
use transfer_textflix::{StudyConfig, run};

#[derive(clap::Parser)]
struct Args {
    /// Where the results go; rerunning with the same directory resumes.
    #[arg(long, default_value = "runs/textflix-quick")]
    out: PathBuf,
    /// cpu, tch, cuda or cuda:N (for BERT).
    #[arg(long, default_value = "cpu")]
    device: String,
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    transfer_nlp::pipeline::runtime::allocator::keep_freed_memory();
    let args = <Args as clap::Parser>::parse();
    let out = args.out;
    let mut config = StudyConfig::quick(&asset_dir()?);
    config.device = args.device;
    run(&config, &out, true)?;
    let table = out.join("results.md");
    let text = std::fs::read_to_string(&table).map_err(|e| format!("{}: {e}", table.display()))?;
    println!("{text}");
    println!("plots: {}", out.join("learning_curves.png").display());
    Ok(())
}
