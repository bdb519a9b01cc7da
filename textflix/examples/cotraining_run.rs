// Scratch study behind the co-training note in docs/results/textflix/README.md: co-training of
// NB-SVM (bigrams) and logistic regression on frozen MiniLM embeddings at n = 100, 3 seeds, on
// the embeddings `cotraining_embed` cached to $EMBEDDINGS. The labelled sample is embedded here
// (libtorch CPU by default; DEVICE=cpu|tch|cuda|cuda:N picks another device).
// Arguments, all optional: rounds (4), per-class guesses kept (0 = the whole pool), NB-SVM beta
// (0.25), logistic regression C (10), n (100).
//   EMBEDDINGS=/tmp/emb cargo run --release -p transfer-textflix --features tch --example cotraining_run -- 3 2000 0.25 10   # 80.0
//   EMBEDDINGS=/tmp/emb cargo run --release -p transfer-textflix --features tch --example cotraining_run -- 4 0 0.25 10      # 79.1
use ndarray::{Array2, ArrayView2, Axis};
use transfer_nlp::pipeline::classifiers::{LogisticRegression, NbSvm, NbSvmConfig};
use transfer_nlp::pipeline::data::imdb::{Imdb, ImdbParts, Sentiment, balanced_sample};
use transfer_nlp::pipeline::data::rng::SplitMix64;
use transfer_nlp::pipeline::io::assets::asset_dir;
use transfer_nlp::pipeline::io::hf::PretrainedEncoder;
use transfer_nlp::pipeline::runtime::device::parse_device;
use transfer_nlp::pipeline::training::self_training::most_confident_by_score;

type Error = Box<dyn std::error::Error>;

fn read(path: &str, rows: usize) -> Result<Array2<f64>, Error> {
    let b = std::fs::read(path).map_err(|e| format!("{path}: {e}"))?;
    let v: Vec<f64> = b
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]) as f64)
        .collect();
    Ok(Array2::from_shape_vec((rows, v.len() / rows), v)?)
}
fn stats(v: &[f64]) -> (f64, f64) {
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    let m = v.iter().sum::<f64>() / v.len() as f64;
    let sd = (v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / v.len() as f64).sqrt();
    (s[s.len() / 2], sd)
}
fn acc(scores: &[f64], truth: &[bool]) -> f64 {
    scores
        .iter()
        .zip(truth)
        .filter(|(s, y)| (**s > 0.0) == **y)
        .count() as f64
        / truth.len() as f64
}
/// Centre on the pool's median, scale by its spread.
fn norm(test: &[f64], pool: &[f64]) -> (Vec<f64>, Vec<f64>) {
    let (c, s) = stats(pool);
    (
        test.iter().map(|x| (x - c) / s).collect(),
        pool.iter().map(|x| (x - c) / s).collect(),
    )
}
/// Positional argument `i`, or `default` when it is absent.
fn arg<T: std::str::FromStr>(args: &[String], i: usize, default: T) -> Result<T, Error> {
    match args.get(i) {
        Some(s) => s
            .parse()
            .map_err(|_| format!("argument {i}: cannot parse {s:?}").into()),
        None => Ok(default),
    }
}

fn main() -> Result<(), Error> {
    let args: Vec<String> = std::env::args().collect();
    let rounds: usize = arg(&args, 1, 4)?;
    let per_class: usize = arg(&args, 2, 0)?; // 0 = all
    let beta: f64 = arg(&args, 3, 0.25)?;
    let c_lr: f64 = arg(&args, 4, 10.0)?;
    let n: usize = arg(&args, 5, 100)?;
    let embeddings = std::env::var("EMBEDDINGS")
        .map_err(|_| "set EMBEDDINGS to cotraining_embed's directory")?;
    let imdb = Imdb::load(Imdb::default_path()?, ImdbParts::ALL)?;
    let mut order: Vec<usize> = (0..imdb.unsup.len()).collect();
    SplitMix64::new(7).shuffle(&mut order);
    let pool: Vec<&str> = order[..12_000]
        .iter()
        .map(|&i| imdb.unsup[i].text.as_str())
        .collect();
    let test: Vec<&str> = imdb.test.iter().map(|r| r.text.as_str()).collect();
    let truth: Vec<bool> = imdb
        .test
        .iter()
        .map(|r| r.sentiment == Some(Sentiment::Positive))
        .collect();
    let e_pool = read(&format!("{embeddings}/emb_pool.f32"), 12_000)?;
    let e_test = read(&format!("{embeddings}/emb_test.f32"), 25_000)?;
    let device = parse_device(&std::env::var("DEVICE").unwrap_or_else(|_| "tch".into()))?;
    let model = PretrainedEncoder::load(asset_dir()?.join("models/all-MiniLM-L6-v2"), &device)?;
    for seed in 0..3u64 {
        let sample = balanced_sample(&imdb.train, n, seed)?;
        let lt: Vec<&str> = sample.iter().map(|r| r.text.as_str()).collect();
        let ly: Vec<bool> = sample
            .iter()
            .map(|r| r.sentiment == Some(Sentiment::Positive))
            .collect();
        let le = model.sentence_embeddings(&lt, 256, 32)?;
        let le = Array2::from_shape_vec(
            (n, e_pool.ncols()),
            le.into_iter().flatten().map(|x| x as f64).collect(),
        )?;
        let cfg = NbSvmConfig {
            beta,
            seed,
            ..NbSvmConfig::default()
        };
        let (mut xt, mut xy, mut xe) = (lt.clone(), ly.clone(), le.clone());
        for round in 0..=rounds {
            let nb = NbSvm::fit(&xt, &xy, &cfg)?;
            let lr = LogisticRegression::fit(xe.view(), &xy, c_lr);
            let (nt, np) = norm(&nb.decisions(&test), &nb.decisions(&pool));
            let (et, ep) = norm(
                &lr.decision(e_test.view()).to_vec(),
                &lr.decision(e_pool.view()).to_vec(),
            );
            let both_t: Vec<f64> = nt.iter().zip(&et).map(|(a, b)| a + b).collect();
            let both_p: Vec<f64> = np.iter().zip(&ep).map(|(a, b)| a + b).collect();
            println!(
                "seed {seed} round {round}: nbsvm {:.4} emb-lr {:.4} together {:.4}",
                acc(&nt, &truth),
                acc(&et, &truth),
                acc(&both_t, &truth)
            );
            // Next round's training set: the labelled reviews and the ensemble's guesses.
            let picked: Vec<(usize, bool)> = if per_class == 0 {
                both_p
                    .iter()
                    .enumerate()
                    .map(|(i, &s)| (i, s > 0.0))
                    .collect()
            } else {
                most_confident_by_score(&both_p, per_class)
                    .into_iter()
                    .map(|(i, c)| (i, c == 1))
                    .collect()
            };
            xt = lt.clone();
            xy = ly.clone();
            let mut rows: Vec<ArrayView2<f64>> = vec![le.view()];
            let idx: Vec<usize> = picked.iter().map(|p| p.0).collect();
            let sel = e_pool.select(Axis(0), &idx);
            rows.push(sel.view());
            xe = ndarray::concatenate(Axis(0), &rows)?;
            for (i, y) in picked {
                xt.push(pool[i]);
                xy.push(y);
            }
        }
    }
    Ok(())
}
