//! Word vectors trained here on IMDB reviews become a token embedder: the trained model is a
//! `WordVectors`, aligned to a tokenizer's ids by `embedding_for`, row for row.

mod common;

use burn::prelude::*;
use common::*;
use transfer_nlp::embedder::{OovPolicy, WordVectors};
use transfer_nlp::tokenizer::{Tokenizer, VocabularyConfig, WordLevelTokenizer};
use transfer_nlp::word2vec::{TokenizedTexts, Word2Vec, Word2VecConfig};

#[test]
fn vectors_trained_on_reviews_embed_a_tokenizers_vocabulary() {
    let _rng = exclusive_rng();
    let train = examples(false, 1000, 1);
    let texts: Vec<&str> = train.iter().map(|e| e.text.as_str()).collect();
    let corpus = TokenizedTexts::new(texts.clone());
    let config = Word2VecConfig {
        dim: 32,
        epochs: 2,
        threads: 1,
        ..Default::default()
    };
    let model = Word2Vec::fit(&config, &corpus).unwrap();
    let great = model.vector("great").unwrap().to_vec();
    let vectors = WordVectors::from(model.clone());
    assert_eq!((vectors.len(), vectors.dim()), (model.vocabulary.len(), 32));
    assert_eq!(vectors.get("great").unwrap(), great.as_slice());

    let tokenizer = WordLevelTokenizer::train(
        &texts,
        &VocabularyConfig {
            min_count: 5,
            max_size: 20_000,
            lowercase: true,
        },
    )
    .unwrap();
    let device = Device::flex();
    device.seed(1);
    let (embedding, coverage) = vectors
        .embedding_for(&tokenizer, OovPolicy::Zeros, &device)
        .unwrap();
    assert!(coverage.fraction() > 0.8, "{coverage:?}");
    let id = tokenizer.token_to_id("great").unwrap() as usize;
    let table = params(&embedding);
    assert_eq!(&table[id * 32..(id + 1) * 32], great.as_slice());
}
