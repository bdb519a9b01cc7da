// Scratch study (2026-11-28): bert-nbsvm-cotrain's NB-SVM student on saved MiniLM scores.
// The scores came from a one-off build of the runner whose `bert_nbsvm_cotrain` wrote the pool,
// MiniLM's pool log-odds, the sample and the held-out reviews with MiniLM's log-odds to
// `$TRANSFER_DUMP/dump-<seed>.json` (`--held-out 2000 --st-unlabelled 20000`). Run as an example:
// `cotrain_study <seed> grid|weights|ext`. ("weights" is void: combine_scores divides each model
// by its spread, so scaling MiniLM's scores changes nothing.)
use transfer_nlp::pipeline::classifiers::{NbSvm, NbSvmConfig};
use transfer_nlp::pipeline::data::{Example, Target};
use transfer_nlp::pipeline::data::imdb::{Imdb, ImdbParts};
use transfer_nlp::pipeline::training::self_training::most_confident_by_score;
use transfer_nlp::textflix::combine_scores;

#[derive(serde::Deserialize)]
struct Dump {
    pool: Vec<String>,
    pool_scores: Vec<f64>,
    sample: Vec<Example>,
    test: Vec<Example>,
    test_scores: Vec<f64>,
}

fn pos(e: &Example) -> bool {
    matches!(e.target, Target::Class(1))
}

fn acc(scores: &[f64], ex: &[Example]) -> f64 {
    scores
        .iter()
        .zip(ex)
        .filter(|(s, e)| (**s > 0.0) == pos(e))
        .count() as f64
        / ex.len() as f64
}

fn centred(s: &[f64], reference: &[f64]) -> Vec<f64> {
    combine_scores(&[s.to_vec()], &[reference.to_vec()], true)
}

fn fit(ex: &[Example], seed: u64, c: f64) -> NbSvm {
    let t: Vec<&str> = ex.iter().map(|e| e.text.as_str()).collect();
    let p: Vec<bool> = ex.iter().map(pos).collect();
    NbSvm::fit(
        &t,
        &p,
        &NbSvmConfig {
            seed,
            c,
            ..Default::default()
        },
    )
    .unwrap()
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let seed: u64 = args[1].parse().unwrap();
    let what = args.get(2).cloned().unwrap_or("grid".into());
    let d: Dump = serde_json::from_str(
        &std::fs::read_to_string(format!("/work/dumps/dump-{seed}.json")).unwrap(),
    )
    .unwrap();
    let test: Vec<&str> = d.test.iter().map(|e| e.text.as_str()).collect();
    let scale: Vec<&str> = d.pool[..2000].iter().map(|s| s.as_str()).collect();
    let net_scale = d.pool_scores[..2000].to_vec();
    println!(
        "seed {seed} minilm alone centred {:.4}",
        acc(&centred(&d.test_scores, &net_scale), &d.test)
    );
    let base = fit(&d.sample, seed, 0.1);
    println!(
        "seed {seed} nbsvm alone centred {:.4}",
        acc(
            &centred(&base.decisions(&test), &base.decisions(&scale)),
            &d.test
        )
    );
    let unsup: Vec<String> = if what == "ext" {
        let imdb = Imdb::load(Imdb::default_path().unwrap(), ImdbParts::ALL).unwrap();
        imdb.unsup.iter().map(|r| r.text.clone()).collect()
    } else {
        vec![]
    };
    let grid: Vec<(usize, usize, f64, f64)> = match what.as_str() {
        "grid" => {
            let mut g = vec![];
            for pool in [10_000, 15_000, 20_000] {
                for per in [3000, 5000, 7000] {
                    if 2 * per < pool {
                        g.push((pool, per, 1.0, 0.1));
                    }
                }
            }
            g
        }
        "weights" => vec![
            (20_000, 5000, 0.5, 0.1),
            (20_000, 5000, 2.0, 0.1),
            (20_000, 5000, 1.0, 0.3),
            (20_000, 5000, 1.0, 0.03),
        ],
        _ => vec![(20_000, 5000, 1.0, 0.1), (15_000, 3000, 1.0, 0.1)],
    };
    for (pool_n, per, w, c) in grid {
        let pool: Vec<&str> = d.pool[..pool_n].iter().map(|s| s.as_str()).collect();
        let net_pool: Vec<f64> = d.pool_scores[..pool_n].iter().map(|s| s * w).collect();
        let mut linear = fit(&d.sample, seed, c);
        for round in 1..=5 {
            let g = [net_pool.clone(), linear.decisions(&pool)];
            let comb = combine_scores(&g, &g, true);
            let mut ex = d.sample.clone();
            ex.extend(
                most_confident_by_score(&comb, per)
                    .into_iter()
                    .map(|(i, k)| Example::class(pool[i], k)),
            );
            linear = fit(&ex, seed, c);
            let (lt, ls) = (linear.decisions(&test), linear.decisions(&scale));
            let alone = acc(&centred(&lt, &ls), &d.test);
            let tog = acc(
                &combine_scores(
                    &[d.test_scores.clone(), lt.clone()],
                    &[net_scale.clone(), ls.clone()],
                    true,
                ),
                &d.test,
            );
            println!(
                "R\t{seed}\tpool {pool_n}\tper {per}\tw {w}\tc {c}\tround {round}\talone {alone:.4}\ttogether {tog:.4}"
            );
        }
        if what == "ext" {
            for per_ext in [5000, 10_000, 15_000] {
                let all: Vec<&str> = unsup.iter().map(|s| s.as_str()).collect();
                let dec = linear.decisions(&all);
                let c2 = combine_scores(&[dec.clone()], &[dec.clone()], true);
                let mut ex = d.sample.clone();
                ex.extend(
                    most_confident_by_score(&c2, per_ext)
                        .into_iter()
                        .map(|(i, k)| Example::class(all[i], k)),
                );
                let s2 = fit(&ex, seed, c);
                let (lt, ls) = (s2.decisions(&test), s2.decisions(&scale));
                println!(
                    "E\t{seed}\tpool {pool_n}\tper {per}\text {per_ext}\talone {:.4}",
                    acc(&centred(&lt, &ls), &d.test)
                );
            }
        }
    }
}
