// The probe behind the classifier-recipe table in docs/results/textflix/README.md (ULMFiT).
// An example of transfer-textflix; run it on a language model saved by a study run:
//   transfer textflix --quick --models ulmfit --transfer-sizes 10,100,500,1000 --transfer-seeds 1 \
//       --test-size 1000 --set ulmfit.lm_tokens=3000000 --device tch --out /tmp/ulm3
//   cargo build --release -p transfer-textflix --features tch --example ulmfit_probe
//   LM=/tmp/ulm3/ulmfit-lm EPOCHS=4 target/release/examples/ulmfit_probe \
//       1000:0.01:nogradual 1000:0.01:nodisc 1000:0.01:nogradual,nodisc \
//       1000:0.01:nogradual,nodisc,random 1000:0.01:frozen 1000:0.01:frozen,linear
//   LM=/tmp/ulm3/ulmfit-lm EPOCHS=8 target/release/examples/ulmfit_probe 1000:0.01 100:0.01 100:0.02
//   LM=/tmp/ulm3/ulmfit-lm EPOCHS=4 target/release/examples/ulmfit_probe 100:0.01:nogradual,nodisc \
//       100:0.003:nogradual,nodisc 100:0.01:frozen
// (`cargo run --release -p transfer-textflix --features tch --example ulmfit_probe -- SPEC…` builds
// and runs in one step; the binary lies under $CARGO_TARGET_DIR/release/examples/ when that is set.)
// (The table's "4 epochs (before)" row is the study run's own n = 1,000 cell.)
// Each argument is n:learning-rate:flags; accuracy on 1,000 balanced test reviews, or with DEV=1
// on 1,000 balanced training reviews outside the sample (tuning without the test set). Other
// knobs: SEEDS (samples and runs 0..k), EPOCHS, MIN_STEPS, BATCH, MAXLEN, HEAD_DROPOUT, DISC,
// DEVICE (cpu, tch, cuda or cuda:N; default tch, libtorch on CPU).
// The n = 100 dev-set table (12 M-token language model of runs/ulmfit-cpu):
//   LM=runs/ulmfit-cpu/ulmfit-lm DEV=1 SEEDS=3 EPOCHS=8 target/release/examples/ulmfit_probe \
//       100:0.01 100:0.003 100:0.03 100:0.01:nogradual 100:0.01:nodisc 100:0.01:mean
//   (and the same 100:0.01 with MIN_STEPS=100, BATCH=16, HEAD_DROPOUT=0.5)
// The classifier-dropout table (2-epoch language model of runs/ulmfit-cpu-e2s, 5,000 held-out
// training reviews; a spec's flags may set epochs=, maxlen=, hd= head and ld= LSTM dropout;
// PER_EPOCH=1 scores the held-out reviews after every epoch too):
//   LM=runs/ulmfit-cpu-e2s/ulmfit-lm DEV=1 DEV_SIZE=5000 PER_EPOCH=1 EPOCHS=8 MIN_STEPS=100 \
//       MAXLEN=400 target/release/examples/ulmfit_probe 10000:0.01 10000:0.01:hd=0.5,ld=0.4
//   LM=runs/ulmfit-cpu-e2s/ulmfit-lm DEV=1 DEV_SIZE=5000 SEEDS=3 EPOCHS=8 MIN_STEPS=100 \
//       MAXLEN=400 target/release/examples/ulmfit_probe 100:0.01:hd=0.5,ld=0.4 100:0.01 \
//       1000:0.01:hd=0.5,ld=0.4 1000:0.01
use transfer_nlp::contextual::ContextualEmbedder;
use transfer_nlp::pipeline::data::imdb::{Imdb, ImdbParts, Review, balanced_sample};
use transfer_nlp::pipeline::pretraining::language_model::{LanguageModelConfig, LstmLanguageModel};
use transfer_nlp::pipeline::runtime::device::parse_device;
use transfer_nlp::pipeline::{LrSchedule, Stage, TrainConfig, TransferPipeline, load_weights};
use transfer_nlp::predictor::{PooledClassifier, PooledClassifierConfig, Pooling};
use transfer_nlp::tokenizer::{EncodePolicy, Tokenizer, Truncation, WordLevelTokenizer};
use transfer_nlp::{Example, Predictor};

type Error = Box<dyn std::error::Error>;

/// `n` balanced reviews drawn with `seed`, as examples.
fn examples(reviews: &[Review], n: usize, seed: u64) -> Result<Vec<Example>, Error> {
    Ok(balanced_sample(reviews, n, seed)?
        .iter()
        .filter_map(|r| r.example())
        .collect())
}

fn parse(what: &str, value: &str) -> Result<f64, Error> {
    value
        .parse::<f64>()
        .map_err(|_| format!("{what}: cannot parse {value:?}").into())
}

/// The environment variable `key` as a number, or `default` when it is unset.
fn env(key: &str, default: f64) -> Result<f64, Error> {
    std::env::var(key)
        .ok()
        .map_or(Ok(default), |v| parse(key, &v))
}

fn main() -> Result<(), Error> {
    let device = parse_device(&std::env::var("DEVICE").unwrap_or_else(|_| "tch".into()))?;
    let imdb = Imdb::load(Imdb::default_path()?, ImdbParts::LABELLED)?;
    // DEV=1: score on 1,000 balanced *training* reviews left out of the sample (for tuning
    // without the test set); SEEDS=k: samples and runs with seeds 0..k.
    let dev = std::env::var("DEV").is_ok();
    let seeds = env("SEEDS", 1.0)? as u64;
    let test = examples(&imdb.test, 1000, 0)?;
    let dir = std::path::PathBuf::from(
        std::env::var("LM").map_err(|_| "set LM to a saved language model's directory")?,
    );
    let tokenizer = WordLevelTokenizer::load(&dir.join("tokenizer.json"))?;
    let cfg = LanguageModelConfig {
        vocab_size: tokenizer.vocab_size(),
        dim: env("DIM", 128.0)? as usize,
        num_layers: env("LAYERS", 2.0)? as usize,
        dropout: 0.2,
    };
    for spec in std::env::args().skip(1) {
        // spec: n:lr:flags
        let parts: Vec<&str> = spec.split(':').collect();
        if parts.len() < 2 {
            return Err(format!("{spec:?}: expected n:learning-rate[:flags]").into());
        }
        let n: usize = parts[0]
            .parse()
            .map_err(|_| format!("{spec:?}: cannot parse n"))?;
        let lr = parse(&spec, parts[1])?;
        let variant = parts.get(2).copied().unwrap_or("");
        // Per-spec overrides of the environment's knobs: flags such as epochs=5, maxlen=1000,
        // hd=0.5 (head dropout), ld=0.4 (dropout between LSTM layers).
        let knob = |key: &str, default: f64| -> Result<f64, Error> {
            variant
                .split(',')
                .find_map(|f| f.strip_prefix(&format!("{key}=")))
                .map_or(Ok(default), |v| parse(key, v))
        };
        for seed in 0..seeds {
            let sample = balanced_sample(&imdb.train, n, seed)?;
            let train: Vec<Example> = sample.iter().filter_map(|r| r.example()).collect();
            let test = if dev {
                let taken: std::collections::HashSet<_> =
                    sample.iter().map(|r| (r.sentiment, r.id)).collect();
                let rest: Vec<_> = imdb
                    .train
                    .iter()
                    .filter(|r| !taken.contains(&(r.sentiment, r.id)))
                    .cloned()
                    .collect();
                examples(&rest, env("DEV_SIZE", 1000.0)? as usize, 1_000 + seed)?
            } else {
                test.clone()
            };
            let cfg = LanguageModelConfig {
                dropout: knob("ld", env("LSTM_DROPOUT", 0.2)?)?,
                ..cfg.clone()
            };
            let mut lm = LstmLanguageModel::new(&cfg, &device)?;
            if !variant.contains("random") {
                load_weights(&mut lm, &dir.join("model.safetensors"))?;
            }
            let pooling = if variant.contains("mean") {
                Pooling::Mean
            } else {
                Pooling::Concat
            };
            let hidden = if variant.contains("linear") {
                None
            } else {
                Some(50)
            };
            let head = PooledClassifier::from_config(
                &PooledClassifierConfig::new(lm.lstm.output_dim(), 2)
                    .with_pooling(pooling)
                    .with_hidden_dim(hidden)
                    .with_dropout(knob("hd", env("HEAD_DROPOUT", 0.2)?)?),
                &device,
            )?;
            let mut pipeline = TransferPipeline::new(
                tokenizer.clone(),
                lm.embedder.clone(),
                lm.lstm.clone(),
                head,
                &device,
            )?
            .with_encode_policy(
                EncodePolicy::new(knob("maxlen", env("MAXLEN", 256.0)?)? as usize)
                    .with_truncation(Truncation::KeepEnd),
            )?;
            if variant.contains("frozen") {
                pipeline.freeze(Stage::Embedder);
                pipeline.freeze(Stage::Contextual);
            }
            let mut config = TrainConfig {
                epochs: knob("epochs", env("EPOCHS", 4.0)?)? as usize,
                min_steps: env("MIN_STEPS", 30.0)? as usize,
                batch_size: (env("BATCH", 32.0)? as usize).min(n),
                learning_rate: lr,
                schedule: if variant.contains("bert") {
                    LrSchedule::WarmupLinearDecay {
                        warmup_fraction: 0.1,
                    }
                } else {
                    LrSchedule::SlantedTriangular {
                        cut_fraction: 0.1,
                        ratio: 32.0,
                    }
                },
                weight_decay: 0.01,
                max_grad_norm: Some(1.0),
                gradual_unfreezing: !variant.contains("nogradual"),
                seed,
                progress: false,
                ..TrainConfig::default()
            };
            if !variant.contains("nodisc") {
                config = config.with_discriminative_rates(env("DISC", 2.6)?);
            }
            // PER_EPOCH=1: score the held-out reviews after every epoch as well.
            let report = if std::env::var("PER_EPOCH").is_ok() {
                pipeline.train_with_validation(&train, Some(&test), &config)?
            } else {
                pipeline.train(&train, &config)?
            };
            for e in &report.epochs {
                if let Some(v) = &e.validation {
                    println!(
                        "  epoch {}: held-out accuracy {:.4}",
                        e.epoch,
                        v.accuracy.unwrap_or(0.0)
                    );
                }
            }
            let m = pipeline.evaluate(&test)?;
            println!(
                "n {n} seed {seed} lr {lr} {variant}: accuracy {:.3} steps {} losses {:?} ({:.0}s)",
                m.accuracy.ok_or("no accuracy for a classifier")?,
                report.steps,
                report
                    .epochs
                    .iter()
                    .map(|e| (e.train_loss * 1000.0).round() / 1000.0)
                    .collect::<Vec<_>>(),
                report.seconds
            );
        }
    }
    Ok(())
}
