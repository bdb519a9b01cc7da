// Scratch: MiniLM sentence embeddings (256 tokens) of the test set and a 10k unlabelled pool, cached.
use std::io::Write;
use transfer::hf::PretrainedBert;
use transfer::imdb::{Imdb, ImdbParts};
use transfer::rng::SplitMix64;
use burn::prelude::*;

fn main() {
    let imdb = Imdb::load(Imdb::default_path().unwrap(), ImdbParts::ALL).unwrap();
    let device = Device::libtorch();
    let model = PretrainedBert::load(transfer::assets::asset_dir().unwrap().join("models/all-MiniLM-L6-v2"), &device).unwrap();
    let mut order: Vec<usize> = (0..imdb.unsup.len()).collect();
    SplitMix64::new(7).shuffle(&mut order);
    let pool: Vec<&str> = order[..12_000].iter().map(|&i| imdb.unsup[i].text.as_str()).collect();
    let test: Vec<&str> = imdb.test.iter().map(|r| r.text.as_str()).collect();
    let train: Vec<&str> = imdb.train.iter().map(|r| r.text.as_str()).collect();
    let _ = train;
    for (name, texts) in [("pool", pool), ("test", test)] {
        let t = std::time::Instant::now();
        let mut f = std::io::BufWriter::new(std::fs::File::create(format!("{}/emb_{name}.f32", std::env::var("EMBEDDINGS").unwrap())).unwrap());
        for chunk in texts.chunks(2000) {
            let e = model.sentence_embeddings(chunk, 256, 32).unwrap();
            for row in e { for v in row { f.write_all(&v.to_le_bytes()).unwrap(); } }
            f.flush().unwrap();
            eprintln!("{name}: +{} ({:.0}s)", chunk.len(), t.elapsed().as_secs_f64());
        }
    }
}
