// Scratch: co-training of NB-SVM (bigrams) and logistic regression on frozen MiniLM embeddings at n = 100.
use burn::prelude::*;
use ndarray::{Array2, ArrayView2, Axis};
use transfer::baselines::{LogisticRegression, NbSvm, NbSvmConfig};
use transfer::hf::PretrainedBert;
use transfer::imdb::{Imdb, ImdbParts, Sentiment, balanced_sample};
use transfer::rng::SplitMix64;
use transfer::self_training::most_confident_by_score;

fn read(path: &str, rows: usize) -> Array2<f64> {
    let b = std::fs::read(path).unwrap();
    let v: Vec<f64> = b.chunks(4).map(|c| f32::from_le_bytes(c.try_into().unwrap()) as f64).collect();
    Array2::from_shape_vec((rows, v.len() / rows), v).unwrap()
}
fn stats(v: &[f64]) -> (f64, f64) {
    let mut s = v.to_vec();
    s.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let m = v.iter().sum::<f64>() / v.len() as f64;
    let sd = (v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / v.len() as f64).sqrt();
    (s[s.len() / 2], sd)
}
fn acc(scores: &[f64], truth: &[bool]) -> f64 {
    scores.iter().zip(truth).filter(|(s, y)| (**s > 0.0) == **y).count() as f64 / truth.len() as f64
}
/// Centre on the pool's median, scale by its spread.
fn norm(test: &[f64], pool: &[f64]) -> (Vec<f64>, Vec<f64>) {
    let (c, s) = stats(pool);
    (test.iter().map(|x| (x - c) / s).collect(), pool.iter().map(|x| (x - c) / s).collect())
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let rounds: usize = args.get(1).map(|s| s.parse().unwrap()).unwrap_or(4);
    let per_class: usize = args.get(2).map(|s| s.parse().unwrap()).unwrap_or(0); // 0 = all
    let beta: f64 = args.get(3).map(|s| s.parse().unwrap()).unwrap_or(0.25);
    let c_lr: f64 = args.get(4).map(|s| s.parse().unwrap()).unwrap_or(10.0);
    let n: usize = args.get(5).map(|s| s.parse().unwrap()).unwrap_or(100);
    let imdb = Imdb::load(Imdb::default_path().unwrap(), ImdbParts::ALL).unwrap();
    let mut order: Vec<usize> = (0..imdb.unsup.len()).collect();
    SplitMix64::new(7).shuffle(&mut order);
    let pool: Vec<&str> = order[..12_000].iter().map(|&i| imdb.unsup[i].text.as_str()).collect();
    let test: Vec<&str> = imdb.test.iter().map(|r| r.text.as_str()).collect();
    let truth: Vec<bool> = imdb.test.iter().map(|r| r.sentiment == Some(Sentiment::Positive)).collect();
    let e_pool = read(&format!("{}/emb_pool.f32", std::env::var("EMBEDDINGS").unwrap()), 12_000);
    let e_test = read(&format!("{}/emb_test.f32", std::env::var("EMBEDDINGS").unwrap()), 25_000);
    #[allow(deprecated)]
    let model = PretrainedBert::load(transfer::assets::asset_dir().unwrap().join("models/all-MiniLM-L6-v2"), &Device::libtorch()).unwrap();
    for seed in 0..3u64 {
        let sample = balanced_sample(&imdb.train, n, seed).unwrap();
        let lt: Vec<&str> = sample.iter().map(|r| r.text.as_str()).collect();
        let ly: Vec<bool> = sample.iter().map(|r| r.sentiment == Some(Sentiment::Positive)).collect();
        let le = model.sentence_embeddings(&lt, 256, 32).unwrap();
        let le = Array2::from_shape_vec((n, 384), le.into_iter().flatten().map(|x| x as f64).collect()).unwrap();
        let cfg = NbSvmConfig { beta, seed, ..NbSvmConfig::default() };
        let (mut xt, mut xy, mut xe) = (lt.clone(), ly.clone(), le.clone());
        for round in 0..=rounds {
            let nb = NbSvm::fit(&xt, &xy, &cfg).unwrap();
            let lr = LogisticRegression::fit(xe.view(), &xy, c_lr);
            let (nt, np) = norm(&nb.decisions(&test), &nb.decisions(&pool));
            let (et, ep) = norm(&lr.decision(e_test.view()).to_vec(), &lr.decision(e_pool.view()).to_vec());
            let both_t: Vec<f64> = nt.iter().zip(&et).map(|(a, b)| a + b).collect();
            let both_p: Vec<f64> = np.iter().zip(&ep).map(|(a, b)| a + b).collect();
            println!("seed {seed} round {round}: nbsvm {:.4} emb-lr {:.4} together {:.4}", acc(&nt, &truth), acc(&et, &truth), acc(&both_t, &truth));
            // Next round's training set: the labelled reviews and the ensemble's guesses.
            let picked: Vec<(usize, bool)> = if per_class == 0 {
                both_p.iter().enumerate().map(|(i, &s)| (i, s > 0.0)).collect()
            } else {
                most_confident_by_score(&both_p, per_class).into_iter().map(|(i, c)| (i, c == 1)).collect()
            };
            xt = lt.clone();
            xy = ly.clone();
            let mut rows: Vec<ArrayView2<f64>> = vec![le.view()];
            let idx: Vec<usize> = picked.iter().map(|p| p.0).collect();
            let sel = e_pool.select(Axis(0), &idx);
            rows.push(sel.view());
            xe = ndarray::concatenate(Axis(0), &rows).unwrap();
            for (i, y) in picked { xt.push(pool[i]); xy.push(y); }
        }
    }
}
