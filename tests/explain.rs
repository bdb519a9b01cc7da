//! Word attributions: integrated gradients against Captum on MiniLM, completeness, the word
//! merging of WordPiece pieces, and every method on every pipeline family the app serves
//! (bag of embeddings, BiLSTM, MiniLM) and on NB-SVM.

mod common;

use burn::prelude::*;
use common::*;
use transfer_nlp::pipeline::classifiers::{NbSvm, NbSvmConfig};
use transfer_nlp::pipeline::explain::{
    Baseline, ClassProbabilities, Explanation, IntegratedGradientsConfig, Method, Quadrature,
    faithfulness, merge_into_words, occlusion, random_explanation,
};
use transfer_nlp::pipeline::io::hf::PretrainedEncoder;
use transfer_nlp::pipeline::{TokenAttribution, load_weights};
use transfer_nlp::predictor::{PooledClassifier, PooledClassifierConfig, Pooling};
use transfer_nlp::tokenizer::{EncodePolicy, word_spans};
use transfer_nlp::*;

fn ig(steps: usize) -> Method {
    Method::IntegratedGradients(IntegratedGradientsConfig {
        steps,
        ..IntegratedGradientsConfig::default()
    })
}

/// MiniLM under the head `scripts/captum_ig.py` wrote (mean pooling, linear).
fn minilm_with_fixture_head(device: &Device) -> AnyPipeline {
    let bert = PretrainedEncoder::load(minilm_dir(), device).unwrap();
    let mut head = PooledClassifier::from_config(
        &PooledClassifierConfig::new(384, 2).with_pooling(Pooling::Mean),
        device,
    )
    .unwrap();
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/captum/head.safetensors");
    load_weights(&mut head, &path).unwrap();
    TransferPipeline::new(
        bert.tokenizer.into(),
        bert.embeddings.into(),
        bert.encoder.into(),
        head.into(),
        device,
    )
    .unwrap()
    .with_encode_policy(EncodePolicy::new(128))
    .unwrap()
}

#[test]
fn integrated_gradients_match_captum_on_minilm() {
    let fixture: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/captum/ig.json"),
        )
        .unwrap(),
    )
    .unwrap();
    let device = Device::flex();
    let pipeline = minilm_with_fixture_head(&device);
    let class = fixture["class"].as_u64().unwrap() as usize;
    let steps = fixture["steps"].as_u64().unwrap() as usize;
    for row in fixture["texts"].as_array().unwrap() {
        let text = row["text"].as_str().unwrap();
        let ours = &pipeline.explain(&[text], class, &ig(steps)).unwrap()[0];
        // Captum's token scores, merged into words as ours are.
        let tokens: Vec<TokenAttribution> = row["offsets"]
            .as_array()
            .unwrap()
            .iter()
            .zip(row["scores"].as_array().unwrap())
            .map(|(o, s)| TokenAttribution {
                start: o[0].as_u64().unwrap() as usize,
                end: o[1].as_u64().unwrap() as usize,
                score: s.as_f64().unwrap() as f32,
            })
            .collect();
        let captum = merge_into_words(text, &tokens);
        assert_eq!(ours.words.len(), captum.len());
        let largest = captum.iter().map(|w| w.score.abs()).fold(0.0f32, f32::max);
        for (a, b) in ours.words.iter().zip(&captum) {
            let gap = (a.score - b.score).abs();
            assert!(
                gap <= 2e-3 * largest,
                "{:?}: ours {} Captum {} (largest {largest})",
                &text[a.start..a.end],
                a.score,
                b.score
            );
        }
        let delta = row["delta"].as_f64().unwrap() as f32;
        assert!(
            (ours.delta.unwrap() - delta).abs() < 2e-3,
            "{:?} vs {delta}",
            ours.delta
        );
        let p = row["probability"].as_f64().unwrap() as f32;
        assert!((ours.probabilities[class] - p).abs() < 1e-4);
    }
}

#[test]
fn integrated_gradients_add_up_to_the_change_in_probability() {
    let device = Device::flex();
    let pipeline = minilm_with_fixture_head(&device);
    let text = "Unbelievably overacted yet strangely watchable.";
    let error = |steps: usize, quadrature: Quadrature, baseline: Baseline| {
        let method = Method::IntegratedGradients(IntegratedGradientsConfig {
            steps,
            quadrature,
            baseline,
            batch_size: 7,
        });
        let e = &pipeline.explain(&[text], 0, &method).unwrap()[0];
        let total: f32 = e.words.iter().map(|w| w.score).sum();
        let delta = e.delta.unwrap();
        assert!(delta.is_finite() && total.is_finite());
        assert!(total.abs() > 0.1, "a change to explain: {total}");
        delta.abs()
    };
    // Completeness: the scores sum to p(text) − p(baseline) up to the quadrature's error,
    // which shrinks as the points grow.
    let coarse = error(4, Quadrature::Trapezoid, Baseline::Padding);
    let fine = error(64, Quadrature::GaussLegendre, Baseline::Padding);
    assert!(fine < 1e-3 && fine < coarse, "{fine} vs {coarse}");
    // From all-zero embeddings the path is steeper: more points are needed.
    let zeros = [64, 256].map(|steps| error(steps, Quadrature::GaussLegendre, Baseline::Zeros));
    assert!(zeros[1] < 0.05 && zeros[1] < zeros[0], "{zeros:?}");
}

#[test]
fn wordpiece_pieces_are_merged_into_the_words_of_the_text() {
    let device = Device::flex();
    let pipeline = minilm_with_fixture_head(&device);
    let text = "Unbelievably overacted, yet watchable!<br /><br />Truly.";
    let tokens = &pipeline.attribute(&[text], 1).unwrap()[0].tokens;
    let pieces: Vec<&str> = tokens.iter().map(|t| &text[t.start..t.end]).collect();
    assert!(pieces.len() > word_spans(text).len(), "{pieces:?}");
    let explanation = &pipeline
        .explain(&[text], 1, &Method::GradientTimesInput)
        .unwrap()[0];
    let words: Vec<&str> = explanation
        .words
        .iter()
        .map(|w| &text[w.start..w.end])
        .collect();
    assert_eq!(
        words,
        [
            "Unbelievably",
            "overacted",
            ",",
            "yet",
            "watchable",
            "!",
            "Truly",
            "."
        ]
    );
    // Each word's score is the sum of its pieces'.
    let sum_of = |word: &str| -> f32 {
        let (start, end) = explanation
            .words
            .iter()
            .find(|w| &text[w.start..w.end] == word)
            .map(|w| (w.start, w.end))
            .unwrap();
        tokens
            .iter()
            .filter(|t| t.start >= start && t.end <= end)
            .map(|t| t.score)
            .sum()
    };
    for w in &explanation.words {
        let word = &text[w.start..w.end];
        assert!((w.score - sum_of(word)).abs() < 1e-6, "{word}");
    }
}

/// Checks what every method must give: every word scored, finite, and the probabilities
/// `predict` gives.
fn check_methods(pipeline: &AnyPipeline, texts: &[&str]) -> Vec<Vec<Explanation>> {
    let predictions = pipeline.predict(texts).unwrap();
    [Method::GradientTimesInput, ig(8), Method::Occlusion]
        .iter()
        .map(|method| {
            let explanations = pipeline.explain(texts, 1, method).unwrap();
            for ((e, text), prediction) in explanations.iter().zip(texts).zip(&predictions) {
                let spans: Vec<(usize, usize)> = e.words.iter().map(|w| (w.start, w.end)).collect();
                assert_eq!(spans, word_spans(text), "{method}");
                assert!(e.words.iter().all(|w| w.score.is_finite()), "{method}");
                let expected = &prediction.as_class().unwrap().probabilities;
                for (a, b) in e.probabilities.iter().zip(expected) {
                    assert!((a - b).abs() < 1e-4, "{method}: {a} vs {b}");
                }
            }
            explanations
        })
        .collect()
}

fn score(e: &Explanation, text: &str, word: &str) -> f32 {
    e.words
        .iter()
        .find(|w| text[w.start..w.end].eq_ignore_ascii_case(word))
        .map(|w| w.score)
        .unwrap()
}

#[test]
fn every_method_explains_the_bag_and_the_bilstm_trained_on_imdb() {
    let _rng = exclusive_rng();
    let device = Device::flex();
    let train = examples(false, 1000, 1);
    let texts = [
        "An excellent, wonderful film. I loved every minute.",
        "Awful. The worst, most boring movie I have ever seen.",
    ];
    for arch in [Arch::Bag, Arch::BiLstm] {
        let mut pipeline = word_pipeline(&train, arch, &device);
        let config = TrainConfig {
            epochs: 4,
            batch_size: 32,
            learning_rate: 0.02,
            schedule: LrSchedule::Constant,
            seed: 3,
            ..TrainConfig::default()
        };
        pipeline.train(&train, &config).unwrap();
        for explanations in check_methods(&pipeline, &texts) {
            // Towards "positive": the clear words push the right way under every method.
            let (good, bad) = (&explanations[0], &explanations[1]);
            assert!(score(good, texts[0], "excellent") > 0.0, "{arch:?}");
            assert!(score(bad, texts[1], "worst") < 0.0, "{arch:?}");
        }
    }
}

#[test]
fn every_method_explains_minilm() {
    let device = Device::flex();
    let pipeline = minilm_with_fixture_head(&device);
    check_methods(&pipeline, &["A superb score.", "Dull and far too long."]);
}

#[test]
fn occlusion_explains_nbsvm_and_faithfulness_ranks_it_above_random() {
    let train = examples(false, 1000, 1);
    let texts: Vec<&str> = train.iter().map(|e| e.text.as_str()).collect();
    let positive: Vec<bool> = train.iter().map(|e| e.target == Target::Class(1)).collect();
    let nbsvm = NbSvm::fit(&texts, &positive, &NbSvmConfig::default()).unwrap();
    let test = examples(true, 20, 2);
    let (mut ours, mut random) = (0.0, 0.0);
    for example in &test {
        let text = example.text.as_str();
        let p = &nbsvm.class_probabilities(&[text.to_string()]).unwrap()[0];
        let class = usize::from(p[1] > p[0]);
        let explanation = &occlusion(&nbsvm, &[text], class).unwrap()[0];
        assert_eq!(explanation.words.len(), word_spans(text).len());
        let [f] = faithfulness(&nbsvm, text, explanation, &[0.1]).unwrap()[..] else {
            panic!()
        };
        let [r] =
            faithfulness(&nbsvm, text, &random_explanation(text, class, 7), &[0.1]).unwrap()[..]
        else {
            panic!()
        };
        assert!(f.comprehensiveness.is_finite() && f.sufficiency.is_finite());
        ours += f.comprehensiveness;
        random += r.comprehensiveness;
    }
    assert!(
        ours > random + 0.05 * test.len() as f64,
        "occlusion {ours} vs random {random}"
    );
    assert!(
        faithfulness(
            &nbsvm,
            "a film",
            &random_explanation("a film", 1, 1),
            &[0.0]
        )
        .is_err()
    );
}
