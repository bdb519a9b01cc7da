//! The word2vec text and binary formats: exact round trips, atomic writes, errors that name
//! the file and line.

use std::path::{Path, PathBuf};
use transfer_word2vec::format::{load_binary, load_text, save_binary, save_text};
use transfer_word2vec::{Word2Vec, Word2VecConfig, Word2VecError};

/// A fresh directory for one test.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("w2v-format-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn files(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = (std::fs::read_dir(dir).unwrap())
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// Awkward values: signed zero, subnormals, extremes, long decimals, non-ASCII words.
fn sample() -> (Vec<String>, Vec<f32>) {
    let words = ["the", "naïve", "über-cool", "x'y", "日本"]
        .map(String::from)
        .to_vec();
    let mut vectors = vec![
        0.0,
        -0.0,
        1e-45,
        -1.17e-38,
        f32::MAX,
        f32::MIN,
        0.1,
        1.0 / 3.0,
        -123456.79,
        7e-8,
    ];
    vectors.extend((0..5).map(|i| (i as f32 * 1.7).sin() / 97.0));
    (words, vectors)
}

fn bits(v: &[f32]) -> Vec<u32> {
    v.iter().map(|x| x.to_bits()).collect()
}

#[test]
fn binary_round_trip_is_exact_plain_and_gzipped() {
    let dir = scratch("binary");
    let (words, vectors) = sample();
    for name in ["v.bin", "v.bin.gz"] {
        let path = dir.join(name);
        save_binary(&path, &words, &vectors, 3).unwrap();
        let back = load_binary(&path).unwrap();
        assert_eq!((&back.words, back.dim), (&words, 3));
        assert_eq!(bits(&back.vectors), bits(&vectors));
    }
    let raw = std::fs::read(dir.join("v.bin")).unwrap();
    assert!(raw.starts_with(b"5 3\nthe "));
    assert_eq!(
        raw.len(),
        4 + 5 * (3 * 4 + 2) + words.iter().map(|w| w.len()).sum::<usize>()
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn text_round_trip_is_exact_to_the_printed_precision() {
    let dir = scratch("text");
    let (words, vectors) = sample();
    for name in ["v.txt", "v.txt.gz"] {
        let path = dir.join(name);
        save_text(&path, &words, &vectors, 3).unwrap();
        let back = load_text(&path).unwrap();
        assert_eq!((&back.words, back.dim), (&words, 3));
        // The shortest decimal that reads back to the same f32 is printed: exact.
        assert_eq!(bits(&back.vectors), bits(&vectors));
    }
    let text = std::fs::read_to_string(dir.join("v.txt")).unwrap();
    assert!(text.starts_with("5 3\nthe 0 -0 0.000000000000000000000000000000000000000000001\n"));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_trained_model_reads_back_from_both_formats() {
    let dir = scratch("model");
    let corpus = vec![vec!["a", "b", "c", "d"]; 30];
    let config = Word2VecConfig {
        dim: 7,
        min_count: 1,
        threads: 1,
        ..Default::default()
    };
    let model = Word2Vec::fit(&config, &corpus).unwrap();
    model.save_text(dir.join("m.txt")).unwrap();
    model.save_binary(dir.join("m.bin.gz")).unwrap();
    for back in [
        load_text(dir.join("m.txt")),
        load_binary(dir.join("m.bin.gz")),
    ] {
        let back = back.unwrap();
        assert_eq!(back.words, model.vocabulary.words());
        assert_eq!(bits(&back.vectors), bits(&model.vectors));
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn writes_are_atomic_and_leave_no_temporary_file() {
    let dir = scratch("atomic");
    let path = dir.join("v.txt");
    save_text(&path, &["old"], &[1.0], 1).unwrap();
    save_binary(dir.join("v.bin"), &["a", "b"], &[1.0, 2.0], 1).unwrap();
    assert_eq!(files(&dir), ["v.bin", "v.txt"]);
    // A failed write (a word the format cannot hold) leaves the old file as it was.
    let err = save_text(&path, &["ok", "two words"], &[1.0, 2.0], 1).unwrap_err();
    assert!(
        matches!(&err, Word2VecError::Format { line: 3, .. }),
        "{err:?}"
    );
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "1 1\nold 1\n");
    // A successful one replaces it whole.
    save_text(&path, &["new"], &[2.5], 1).unwrap();
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "1 1\nnew 2.5\n");
    assert_eq!(files(&dir), ["v.bin", "v.txt"]);
    std::fs::remove_dir_all(&dir).unwrap();
}

fn format_error_line(result: Result<impl std::fmt::Debug, Word2VecError>, path: &Path) -> usize {
    match result.unwrap_err() {
        Word2VecError::Format { path: p, line, .. } if p == path => line,
        other => panic!("{other:?}"),
    }
}

#[test]
fn malformed_files_are_format_errors_naming_path_and_line() {
    let dir = scratch("malformed");
    let path = dir.join("bad.txt");
    let cases: [(&[u8], usize); 6] = [
        (b"2 two\na 1 2\n", 1),
        (b"2 2\na 1 2\nb 1\n", 3),
        (b"2 2\na 1 2\nb 1 x\n", 3),
        (b"3 2\na 1 2\nb 1 2\n", 4),
        (b"1 2\na 1 2\nb 1 2\n", 3),
        (b"", 1),
    ];
    for (text, line) in cases {
        std::fs::write(&path, text).unwrap();
        assert_eq!(format_error_line(load_text(&path), &path), line, "{text:?}");
    }
    let bin = dir.join("bad.bin");
    save_binary(&bin, &["a", "b"], &[1.0, 2.0, 3.0, 4.0], 2).unwrap();
    // "2 2\n", then "a " + 8 bytes + "\n" per record: cut inside a vector, after a
    // record, and inside a word.
    let whole = std::fs::read(&bin).unwrap();
    for (cut, line) in [(whole.len() - 3, 3), (4 + 3, 2), (4 + 11, 3), (4 + 12, 3)] {
        std::fs::write(&bin, &whole[..cut]).unwrap();
        assert_eq!(
            format_error_line(load_binary(&bin), &bin),
            line,
            "cut at {cut}"
        );
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
