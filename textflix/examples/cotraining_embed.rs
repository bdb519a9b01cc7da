// Scratch study behind the co-training note in docs/results/textflix/README.md: MiniLM sentence
// embeddings (256 tokens) of the test set and a 12k unlabelled pool, cached to $EMBEDDINGS
// (`emb_test.f32`, `emb_pool.f32`: little-endian f32 rows of 384) for `cotraining_run`.
// libtorch CPU by default (20 min on 2 cores); DEVICE=cpu|tch|cuda|cuda:N picks another device.
//   mkdir /tmp/emb
//   EMBEDDINGS=/tmp/emb cargo run --release -p transfer-textflix --features tch --example cotraining_embed
use std::io::Write;

use transfer_nlp::pipeline::data::imdb::{Imdb, ImdbParts};
use transfer_nlp::pipeline::data::rng::SplitMix64;
use transfer_nlp::pipeline::io::assets::asset_dir;
use transfer_nlp::pipeline::io::hf::PretrainedEncoder;
use transfer_nlp::pipeline::runtime::device::parse_device;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let out =
        std::env::var("EMBEDDINGS").map_err(|_| "set EMBEDDINGS to the embeddings' directory")?;
    let imdb = Imdb::load(Imdb::default_path()?, ImdbParts::ALL)?;
    let device = parse_device(&std::env::var("DEVICE").unwrap_or_else(|_| "tch".into()))?;
    let model = PretrainedEncoder::load(asset_dir()?.join("models/all-MiniLM-L6-v2"), &device)?;
    let mut order: Vec<usize> = (0..imdb.unsup.len()).collect();
    SplitMix64::new(7).shuffle(&mut order);
    let pool: Vec<&str> = order[..12_000]
        .iter()
        .map(|&i| imdb.unsup[i].text.as_str())
        .collect();
    let test: Vec<&str> = imdb.test.iter().map(|r| r.text.as_str()).collect();
    for (name, texts) in [("pool", pool), ("test", test)] {
        let t = std::time::Instant::now();
        let mut f =
            std::io::BufWriter::new(std::fs::File::create(format!("{out}/emb_{name}.f32"))?);
        for chunk in texts.chunks(2000) {
            let e = model.sentence_embeddings(chunk, 256, 32)?;
            for row in e {
                for v in row {
                    f.write_all(&v.to_le_bytes())?;
                }
            }
            f.flush()?;
            eprintln!(
                "{name}: +{} ({:.0}s)",
                chunk.len(),
                t.elapsed().as_secs_f64()
            );
        }
    }
    Ok(())
}
