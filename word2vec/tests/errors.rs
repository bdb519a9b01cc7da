//! Every failure is a typed error that names what went wrong.

use std::path::Path;
use transfer_word2vec::format::{load_binary, load_text, save_text};
use transfer_word2vec::{TextCorpus, Vocabulary, Word2Vec, Word2VecConfig, Word2VecError};

fn tiny() -> Vec<Vec<&'static str>> {
    vec![vec!["a", "b", "a", "c"], vec!["b", "a"]]
}

fn config() -> Word2VecConfig {
    Word2VecConfig {
        dim: 4,
        min_count: 1,
        threads: 1,
        ..Default::default()
    }
}

#[test]
fn an_empty_corpus_is_a_typed_error() {
    let empty: Vec<Vec<String>> = Vec::new();
    let blank_lines = vec![Vec::<String>::new(); 3];
    for corpus in [&empty, &blank_lines] {
        assert!(matches!(
            Vocabulary::build(corpus, 1),
            Err(Word2VecError::EmptyCorpus)
        ));
        assert!(matches!(
            Word2Vec::fit(&config(), corpus),
            Err(Word2VecError::EmptyCorpus)
        ));
        let vocabulary = Vocabulary::build(tiny(), 1).unwrap();
        let trained = Word2Vec::train(&config(), vocabulary, corpus);
        assert!(
            matches!(trained, Err(Word2VecError::EmptyCorpus)),
            "{trained:?}"
        );
    }
    let message = Word2VecError::EmptyCorpus.to_string();
    assert!(message.contains("empty"), "{message}");
}

#[test]
fn a_vocabulary_emptied_by_min_count_says_so() {
    let err = Vocabulary::build(tiny(), 4).unwrap_err();
    assert!(
        matches!(
            err,
            Word2VecError::EmptyVocabulary {
                min_count: 4,
                distinct: 3
            }
        ),
        "{err:?}"
    );
    let message = err.to_string();
    assert!(
        message.contains("min_count 4") && message.contains("3 distinct"),
        "{message}"
    );
    let fit = Word2Vec::fit(
        &Word2VecConfig {
            min_count: 4,
            ..config()
        },
        &tiny(),
    );
    assert!(matches!(fit, Err(Word2VecError::EmptyVocabulary { .. })));
    assert_eq!(Vocabulary::build(tiny(), 3).unwrap().words(), ["a"]);
}

#[test]
fn each_bad_setting_names_its_field_and_value() {
    type Break = fn(&mut Word2VecConfig);
    let cases: [(Break, &str, &str); 11] = [
        (|c| c.dim = 0, "dim", "0"),
        (|c| c.window = 0, "window", "0"),
        (|c| c.negative = 0, "negative", "0"),
        (|c| c.epochs = 0, "epochs", "0"),
        (|c| c.sample = -0.5, "sample", "-0.5"),
        (|c| c.sample = f64::NAN, "sample", "NaN"),
        (|c| c.alpha = 0.0, "alpha", "0"),
        (|c| c.alpha = -0.1, "alpha", "-0.1"),
        (|c| c.min_alpha = 0.5, "min_alpha", "0.5"),
        (|c| c.min_alpha = -0.001, "min_alpha", "-0.001"),
        (|c| c.threads = 0, "threads", "0"),
    ];
    for (breaks, name, shown) in cases {
        let mut bad = config();
        breaks(&mut bad);
        let err = bad.validate().unwrap_err();
        match &err {
            Word2VecError::BadSetting { field, value, .. } => {
                assert_eq!((*field, value.as_str()), (name, shown));
            }
            other => panic!("{name}: {other:?}"),
        }
        let message = err.to_string();
        assert!(
            message.contains(name) && message.contains(shown),
            "{message}"
        );
        let vocabulary = Vocabulary::build(tiny(), 1).unwrap();
        let trained = Word2Vec::train(&bad, vocabulary, &tiny());
        assert!(
            matches!(trained, Err(Word2VecError::BadSetting { .. })),
            "{name}"
        );
    }
    // Hierarchical softmax alone is a valid output layer.
    let hs_only = Word2VecConfig {
        negative: 0,
        hs: true,
        ..config()
    };
    hs_only.validate().unwrap();
    config().validate().unwrap();
    Word2VecConfig::default().validate().unwrap();
}

#[test]
fn io_errors_name_the_path() {
    let missing = Path::new("/nonexistent/w2v/corpus.txt");
    let corpus_err = Word2Vec::fit(&config(), &TextCorpus::new(missing)).unwrap_err();
    let load_errs = [
        load_text(missing).unwrap_err(),
        load_binary(missing).unwrap_err(),
    ];
    let save_err = save_text(missing, &["a"], &[1.0], 1).unwrap_err();
    for err in [corpus_err].into_iter().chain(load_errs).chain([save_err]) {
        match &err {
            Word2VecError::Io { path, .. } => assert_eq!(path, missing),
            other => panic!("{other:?}"),
        }
        assert!(
            err.to_string().contains("/nonexistent/w2v/corpus.txt"),
            "{err}"
        );
    }
}

#[test]
fn a_corpus_line_that_is_not_utf8_is_a_format_error_with_its_line() {
    let dir = std::env::temp_dir().join(format!("w2v-errors-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("corpus.txt");
    std::fs::write(&path, b"a b c\nb c\nc \xff d\n").unwrap();
    let err = Word2Vec::fit(&config(), &TextCorpus::new(&path)).unwrap_err();
    match &err {
        Word2VecError::Format { path: p, line, .. } => assert_eq!((p, *line), (&path, 3)),
        other => panic!("{other:?}"),
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
