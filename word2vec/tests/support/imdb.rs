#![allow(dead_code)]

//! IMDB reviews from `aclImdb_v1.tar.gz`, read in archive order without unpacking, and the
//! reference's tokenizer: lowercase, `<br />` removed, tokens `[a-z0-9']+`.

use flate2::read::GzDecoder;
use std::io::Read;
use std::path::PathBuf;

/// Where the shared assets are: `$TRANSFER_ASSETS` (cargo sets it in this workspace), else
/// the workspace's `../shared`.
pub fn assets() -> PathBuf {
    std::env::var_os("TRANSFER_ASSETS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared"))
}

/// The library's word tokenization (lowercase, `<br />` dropped, `[a-z0-9']+`).
pub fn tokenize(text: &str) -> Vec<String> {
    transfer_word2vec::words(text)
}

/// Calls `f` with each review's text from the directories `dirs` (such as `"train/pos"`),
/// in archive order, at most `per_dir` from each; stops reading once every directory is
/// full.
pub fn for_each_review(dirs: &[&str], per_dir: usize, mut f: impl FnMut(&str)) {
    let path = assets().join("data/aclImdb_v1.tar.gz");
    let file = std::fs::File::open(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut archive = tar::Archive::new(GzDecoder::new(std::io::BufReader::new(file)));
    let mut taken = vec![0usize; dirs.len()];
    let mut text = Vec::new();
    for entry in archive.entries().expect("a tar archive") {
        let mut entry = entry.expect("a tar entry");
        let name = entry.path().expect("a path").to_string_lossy().into_owned();
        let Some(rest) = name.strip_prefix("aclImdb/") else {
            continue;
        };
        let Some(d) = dirs.iter().position(|d| {
            rest.strip_prefix(d)
                .and_then(|r| r.strip_prefix('/'))
                .is_some_and(|file| file.ends_with(".txt") && !file.contains('/'))
        }) else {
            continue;
        };
        if taken[d] == per_dir {
            if taken.iter().all(|&t| t == per_dir) {
                break;
            }
            continue;
        }
        taken[d] += 1;
        text.clear();
        entry.read_to_end(&mut text).expect("a review");
        f(&String::from_utf8_lossy(&text));
    }
}

/// The first `per_dir` reviews of each of `dirs`, tokenized.
pub fn reviews(dirs: &[&str], per_dir: usize) -> Vec<Vec<String>> {
    let mut docs = Vec::new();
    for_each_review(dirs, per_dir, |text| docs.push(tokenize(text)));
    docs
}

#[test]
fn tokenizer_matches_the_reference_pattern() {
    assert_eq!(
        tokenize("It's GREAT!<br /><br />10/10, a must-see."),
        ["it's", "great", "10", "10", "a", "must", "see"]
    );
}
