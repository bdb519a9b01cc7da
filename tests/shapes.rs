//! The shape contract of every stage, on random batch sizes, lengths, sizes and masks.

use burn::prelude::*;
use proptest::prelude::*;
use transfer_nlp::contextual::{BagOfEmbeddings, Lstm, LstmConfig};
use transfer_nlp::embedder::{LearnedEmbedding, LearnedEmbeddingConfig};
use transfer_nlp::predictor::{
    PooledClassifier, PooledClassifierConfig, PooledRegressor, PooledRegressorConfig, Pooling,
    Targets,
};
use transfer_nlp::{ContextualEmbedder, Predictor, TokenEmbedder};

/// A random mask with at least one real position per row, real positions first.
fn mask(lengths: &[usize], seq: usize, device: &Device) -> Tensor<2, Bool> {
    let data: Vec<bool> = lengths
        .iter()
        .flat_map(|&l| (0..seq).map(move |j| j < l))
        .collect();
    Tensor::from_data(TensorData::new(data, [lengths.len(), seq]), device)
}

fn finite(t: Tensor<3>) -> bool {
    t.into_data()
        .try_to_vec::<f32>()
        .unwrap()
        .iter()
        .all(|x| x.is_finite())
}

fn batch() -> impl Strategy<Value = (usize, Vec<usize>)> {
    (1usize..12).prop_flat_map(|seq| (Just(seq), prop::collection::vec(1..=seq, 1..5)))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn embedder_maps_ids_to_vectors((seq, lengths) in batch(), vocab in 1usize..50, dim in 1usize..9) {
        let device = Device::flex();
        let e = LearnedEmbedding::from_config(&LearnedEmbeddingConfig::new(vocab, dim), &device).unwrap();
        let ids: Vec<i64> = (0..lengths.len() * seq).map(|i| (i * 7 % vocab) as i64).collect();
        let out = e.forward(Tensor::from_data(TensorData::new(ids, [lengths.len(), seq]), &device));
        prop_assert_eq!(out.dims(), [lengths.len(), seq, dim]);
        prop_assert_eq!((e.dim(), e.vocab_size()), (dim, vocab));
    }

    #[test]
    fn contextual_embedders_keep_batch_and_length(
        (seq, lengths) in batch(), input in 1usize..6, hidden in 1usize..6,
        layers in 1usize..3, bidirectional in any::<bool>(),
    ) {
        let device = Device::flex();
        let x = Tensor::<3>::random([lengths.len(), seq, input], burn::tensor::Distribution::Normal(0.0, 1.0), &device);
        let m = mask(&lengths, seq, &device);
        let config = LstmConfig::new(input, hidden).with_num_layers(layers).with_bidirectional(bidirectional).with_dropout(0.1);
        let lstm = Lstm::from_config(&config, &device).unwrap();
        let out = lstm.forward(x.clone(), m.clone());
        prop_assert_eq!(out.dims(), [lengths.len(), seq, lstm.output_dim()]);
        prop_assert_eq!(lstm.output_dim(), hidden * if bidirectional { 2 } else { 1 });
        prop_assert!(finite(out));
        let bag = BagOfEmbeddings::new(input);
        prop_assert_eq!(bag.forward(x, m).dims(), [lengths.len(), seq, input]);
    }

    #[test]
    fn predictors_map_states_to_outputs(
        (seq, lengths) in batch(), dim in 1usize..6, classes in 2usize..5,
        pooling in prop_oneof![Just(Pooling::Mean), Just(Pooling::Max), Just(Pooling::First), Just(Pooling::Last), Just(Pooling::Concat)],
        hidden in prop::option::of(1usize..5),
    ) {
        let device = Device::flex();
        let states = Tensor::<3>::random([lengths.len(), seq, dim], burn::tensor::Distribution::Normal(0.0, 1.0), &device);
        let m = mask(&lengths, seq, &device);
        let config = PooledClassifierConfig::new(dim, classes).with_pooling(pooling).with_hidden_dim(hidden);
        let head = PooledClassifier::from_config(&config, &device).unwrap();
        let logits = head.forward(states.clone(), m.clone());
        prop_assert_eq!(logits.dims(), [lengths.len(), classes]);
        let labels: Vec<i64> = (0..lengths.len()).map(|i| (i % classes) as i64).collect();
        let loss = head.loss(logits, Targets::Classes(Tensor::from_data(TensorData::new(labels, [lengths.len()]), &device)));
        prop_assert!(loss.into_scalar::<f32>().is_finite());
        prop_assert_eq!(head.config(), config);

        let reg = PooledRegressor::from_config(&PooledRegressorConfig::new(dim).with_pooling(pooling), &device).unwrap();
        let values = reg.forward(states, m);
        prop_assert_eq!(values.dims(), [lengths.len(), 1]);
        let loss = reg.loss(values.clone(), Targets::Values(values.zeros_like()));
        prop_assert!(loss.into_scalar::<f32>() >= 0.0);
    }
}

#[test]
fn bidirectional_lstm_ignores_padding() {
    // The same text alone and padded in a batch gets the same states at its real positions.
    let device = Device::flex();
    let lstm = Lstm::from_config(
        &LstmConfig::new(3, 4)
            .with_bidirectional(true)
            .with_num_layers(2),
        &device,
    )
    .unwrap();
    let x = Tensor::<3>::random(
        [1, 4, 3],
        burn::tensor::Distribution::Normal(0.0, 1.0),
        &device,
    );
    let alone = lstm.forward(x.clone(), mask(&[4], 4, &device));
    let padded_x = Tensor::cat(vec![x, Tensor::<3>::ones([1, 3, 3], &device) * 9.0], 1);
    let padded = lstm
        .forward(padded_x, mask(&[4], 7, &device))
        .slice([0..1, 0..4]);
    let a = alone.into_data().try_to_vec::<f32>().unwrap();
    let b = padded.into_data().try_to_vec::<f32>().unwrap();
    assert!(
        a.iter().zip(&b).all(|(x, y)| (x - y).abs() < 1e-5),
        "{a:?}\n{b:?}"
    );
}

#[test]
fn lstm_with_other_dropout_keeps_its_weights_and_refuses_a_probability_of_one() {
    let device = Device::flex();
    let lstm = Lstm::from_config(&LstmConfig::new(3, 4).with_num_layers(2), &device).unwrap();
    let x = Tensor::<3>::random(
        [2, 5, 3],
        burn::tensor::Distribution::Normal(0.0, 1.0),
        &device,
    );
    let before = lstm.forward(x.clone(), mask(&[5, 3], 5, &device));
    let err = lstm.clone().with_dropout(1.0).unwrap_err().to_string();
    assert!(err.contains("dropout"), "{err}");
    let lstm = lstm.with_dropout(0.4).unwrap();
    assert_eq!(lstm.config().dropout, 0.4);
    // Dropout acts only while training: inference is unchanged.
    let after = lstm.forward(x, mask(&[5, 3], 5, &device));
    assert_eq!(
        before.into_data().try_to_vec::<f32>().unwrap(),
        after.into_data().try_to_vec::<f32>().unwrap()
    );
}
