//! Load a saved model and predict: every class's name and probability for each text.
//!
//! Loads what `transfer train --out DIR` (any --arch) or `examples/own_data.rs --out DIR`
//! saved, as an `AnyPipeline`, the type that holds any of the library's stages.
//!
//! ```sh
//! cargo run --example own_data -- --out runs/reviews
//! cargo run --example load_and_predict -- runs/reviews "A wonderful, moving film." "Dull."
//! ```
//!
//! Without texts it predicts two reviews of its own. Exits with status 1 when the model cannot
//! be loaded, is not a classifier, or gives probabilities that are not a distribution.

use std::path::PathBuf;

use clap::Parser;
use transfer_nlp::AnyPipeline;
use transfer_nlp::burn::prelude::Device;

#[derive(Parser)]
struct Args {
    /// The directory a pipeline was saved to.
    model: PathBuf,
    /// The texts to classify.
    texts: Vec<String>,
}

fn main() {
    if let Err(e) = run(Args::parse()) {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}

fn run(args: Args) -> Result<(), Box<dyn std::error::Error>> {
    let pipeline = AnyPipeline::load(&args.model, &Device::flex())?;
    let texts = if args.texts.is_empty() {
        vec![
            "A wonderful, moving film with a brilliant cast.".to_string(),
            "Dull, badly acted and far too long. Avoid it.".to_string(),
        ]
    } else {
        args.texts
    };
    for (text, prediction) in texts.iter().zip(pipeline.predict(&texts)?) {
        let class = prediction
            .as_class()
            .ok_or("not a classifier: this example prints class probabilities")?;
        println!("{text}");
        println!("  -> {} ({:.1} %)", class.label, 100.0 * class.probability);
        for (label, p) in pipeline.labels().iter().zip(&class.probabilities) {
            println!("     {label}: {p:.3}");
        }
        let total: f32 = class.probabilities.iter().sum();
        if (total - 1.0).abs() > 1e-3 || class.probabilities.len() != pipeline.labels().len() {
            return Err(format!(
                "probabilities {:?} are not a distribution",
                class.probabilities
            )
            .into());
        }
    }
    Ok(())
}
