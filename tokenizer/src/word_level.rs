use std::collections::HashMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::{Encoding, SpecialTokens, Tokenizer, TokenizerError};

const PAD: &str = "[PAD]";
const UNK: &str = "[UNK]";

/// How [`WordLevelTokenizer::train`] builds its vocabulary.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VocabularyConfig {
    /// Words seen fewer times are left out (they become `[UNK]`).
    pub min_count: usize,
    /// At most this many entries, special tokens included; the most frequent words win.
    pub max_size: usize,
    pub lowercase: bool,
}

impl Default for VocabularyConfig {
    fn default() -> Self {
        Self {
            min_count: 1,
            max_size: 50_000,
            lowercase: true,
        }
    }
}

/// Words and punctuation with a vocabulary built from a corpus.
///
/// Splitting: HTML line breaks (`<br />`, `<br/>`, `<br>`) and whitespace separate words; a
/// word is a run of letters and digits, with apostrophes inside it (`isn't`); every other
/// character (punctuation, symbols, emoji) is a token of its own. Ids 0 and 1 are `[PAD]` and
/// `[UNK]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WordLevelTokenizer {
    vocab: Vec<String>,
    index: HashMap<String, u32>,
    lowercase: bool,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct WordLevelFile {
    #[serde(rename = "type")]
    kind: String,
    lowercase: bool,
    vocab: Vec<String>,
}

pub(crate) const WORD_LEVEL_KIND: &str = "word_level";

impl WordLevelTokenizer {
    /// Builds the vocabulary from `corpus`: words ordered by count (ties alphabetically).
    pub fn train<S: AsRef<str>>(
        corpus: &[S],
        config: &VocabularyConfig,
    ) -> Result<Self, TokenizerError> {
        if corpus.is_empty() {
            return Err(TokenizerError::EmptyCorpus);
        }
        if config.max_size < 3 {
            return Err(TokenizerError::InvalidConfig {
                field: "max_size",
                message: format!(
                    "{} leaves no room for words after [PAD] and [UNK]",
                    config.max_size
                ),
            });
        }
        let mut counts: HashMap<String, usize> = HashMap::new();
        for text in corpus {
            let text = text.as_ref();
            for_each_word(text, |start, end| {
                *counts
                    .entry(normalize(&text[start..end], config.lowercase))
                    .or_default() += 1;
            });
        }
        let mut words: Vec<(String, usize)> = counts
            .into_iter()
            .filter(|(w, c)| *c >= config.min_count.max(1) && w != PAD && w != UNK)
            .collect();
        words.sort_unstable_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        words.truncate(config.max_size - 2);
        let vocab = [PAD.to_string(), UNK.to_string()]
            .into_iter()
            .chain(words.into_iter().map(|(w, _)| w))
            .collect();
        Self::from_vocab(vocab, config.lowercase, Path::new("<trained>"))
    }

    fn from_vocab(
        vocab: Vec<String>,
        lowercase: bool,
        path: &Path,
    ) -> Result<Self, TokenizerError> {
        for (id, token) in [PAD, UNK].iter().enumerate() {
            if vocab.get(id).map(String::as_str) != Some(token) {
                return Err(TokenizerError::MissingSpecialToken {
                    path: path.into(),
                    token: format!("{token} at id {id}"),
                });
            }
        }
        let mut index = HashMap::with_capacity(vocab.len());
        for (id, token) in vocab.iter().enumerate() {
            if let Some(first) = index.insert(token.clone(), id as u32) {
                return Err(TokenizerError::DuplicateToken {
                    path: path.into(),
                    token: token.clone(),
                    first,
                    second: id as u32,
                });
            }
        }
        Ok(Self {
            vocab,
            index,
            lowercase,
        })
    }

    /// The vocabulary, indexed by id.
    pub fn vocab(&self) -> &[String] {
        &self.vocab
    }

    /// The tokenizer with `words` added at the end of its vocabulary, in order, leaving out
    /// those it has (after lowercasing, when it lowercases): e.g. every word of pretrained
    /// vectors, so that words the training texts lack still get their own id and vector.
    ///
    /// ```
    /// use transfer_tokenizer::{Tokenizer, VocabularyConfig, WordLevelTokenizer};
    ///
    /// let trained = WordLevelTokenizer::train(&["a fine film"], &VocabularyConfig::default())?;
    /// let extended = trained.with_words(["superb", "Film", "superb"]);
    /// assert_eq!(extended.vocab_size(), 2 + 3 + 1);
    /// assert_eq!(extended.token_to_id("superb"), Some(5));
    /// assert_eq!(extended.tokenize("A superb film").ids, [2, 5, 3]);
    /// # Ok::<(), transfer_tokenizer::TokenizerError>(())
    /// ```
    pub fn with_words<S: AsRef<str>>(mut self, words: impl IntoIterator<Item = S>) -> Self {
        for word in words {
            let word = normalize(word.as_ref(), self.lowercase);
            if word.is_empty() || self.index.contains_key(&word) {
                continue;
            }
            self.index.insert(word.clone(), self.vocab.len() as u32);
            self.vocab.push(word);
        }
        self
    }
}

impl Tokenizer for WordLevelTokenizer {
    fn tokenize(&self, text: &str) -> Encoding {
        let mut encoding = Encoding::default();
        for_each_word(text, |start, end| {
            let word = normalize(&text[start..end], self.lowercase);
            encoding
                .ids
                .push(self.index.get(&word).copied().unwrap_or(1));
            encoding.offsets.push((start, end));
        });
        encoding
    }

    fn special_tokens(&self) -> SpecialTokens {
        SpecialTokens {
            pad: 0,
            unk: Some(1),
            cls: None,
            sep: None,
            mask: None,
        }
    }

    fn vocab_size(&self) -> usize {
        self.vocab.len()
    }

    fn token_to_id(&self, token: &str) -> Option<u32> {
        self.index.get(token).copied()
    }

    fn id_to_token(&self, id: u32) -> Option<String> {
        self.vocab.get(id as usize).cloned()
    }

    fn decode(&self, ids: &[u32]) -> String {
        ids.iter()
            .filter(|&&id| id != 0)
            .map(|&id| self.vocab.get(id as usize).map_or(UNK, String::as_str))
            .collect::<Vec<_>>()
            .join(" ")
    }

    fn save(&self, path: &Path) -> Result<(), TokenizerError> {
        let file = WordLevelFile {
            kind: WORD_LEVEL_KIND.into(),
            lowercase: self.lowercase,
            vocab: self.vocab.clone(),
        };
        let json = serde_json::to_vec(&file).map_err(|e| TokenizerError::Format {
            path: path.into(),
            message: e.to_string(),
        })?;
        std::fs::write(path, json).map_err(|e| TokenizerError::io(path, e))
    }

    fn load(path: &Path) -> Result<Self, TokenizerError> {
        let bytes = std::fs::read(path).map_err(|e| TokenizerError::io(path, e))?;
        let file: WordLevelFile =
            serde_json::from_slice(&bytes).map_err(|e| TokenizerError::Format {
                path: path.into(),
                message: e.to_string(),
            })?;
        if file.kind != WORD_LEVEL_KIND {
            return Err(TokenizerError::Format {
                path: path.into(),
                message: format!("type is {:?}, expected {WORD_LEVEL_KIND:?}", file.kind),
            });
        }
        Self::from_vocab(file.vocab, file.lowercase, path)
    }
}

fn normalize(word: &str, lowercase: bool) -> String {
    if lowercase {
        word.to_lowercase()
    } else {
        word.to_string()
    }
}

/// Length in bytes of an HTML line break starting at `rest`, if there is one.
fn line_break_len(rest: &str) -> Option<usize> {
    let bytes = rest.as_bytes();
    if bytes.len() < 4 || !bytes[..3].eq_ignore_ascii_case(b"<br") {
        return None;
    }
    let mut i = 3;
    while i < bytes.len() && (bytes[i] == b' ' || bytes[i] == b'/') {
        i += 1;
    }
    (i < bytes.len() && bytes[i] == b'>').then_some(i + 1)
}

/// The byte ranges of the words and punctuation of `text`, split as [`WordLevelTokenizer`]
/// splits it: HTML line breaks and whitespace separate words, a word is a run of letters and
/// digits with apostrophes inside it, and any other character stands alone.
///
/// ```
/// let text = "Isn't it GREAT?!<br />Yes";
/// let words: Vec<&str> = transfer_tokenizer::word_spans(text)
///     .into_iter()
///     .map(|(start, end)| &text[start..end])
///     .collect();
/// assert_eq!(words, ["Isn't", "it", "GREAT", "?", "!", "Yes"]);
/// ```
pub fn word_spans(text: &str) -> Vec<(usize, usize)> {
    let mut spans = Vec::new();
    for_each_word(text, |start, end| spans.push((start, end)));
    spans
}

/// Calls `emit(start, end)` with the byte range of every token of `text`.
fn for_each_word(text: &str, mut emit: impl FnMut(usize, usize)) {
    let mut chars = text.char_indices().peekable();
    while let Some((start, c)) = chars.next() {
        if c.is_whitespace() {
            continue;
        }
        if c == '<'
            && let Some(len) = line_break_len(&text[start..])
        {
            while chars.peek().is_some_and(|&(i, _)| i < start + len) {
                chars.next();
            }
            continue;
        }
        if !c.is_alphanumeric() {
            emit(start, start + c.len_utf8());
            continue;
        }
        let mut end = start + c.len_utf8();
        while let Some(&(i, next)) = chars.peek() {
            let inner_apostrophe = (next == '\'' || next == '’')
                && text[i + next.len_utf8()..]
                    .chars()
                    .next()
                    .is_some_and(char::is_alphanumeric);
            if next.is_alphanumeric() || inner_apostrophe {
                end = i + next.len_utf8();
                chars.next();
            } else {
                break;
            }
        }
        emit(start, end);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::EncodePolicy;

    fn words(text: &str) -> Vec<&str> {
        let mut out = Vec::new();
        for_each_word(text, |s, e| out.push(&text[s..e]));
        out
    }

    #[test]
    fn splits_words_punctuation_and_line_breaks() {
        assert_eq!(
            words("Isn't it GREAT?!<br /><br />Yes—10/10 🎬"),
            [
                "Isn't", "it", "GREAT", "?", "!", "Yes", "—", "10", "/", "10", "🎬"
            ]
        );
        assert_eq!(words("a<br>b<BR/>c <br / > d"), ["a", "b", "c", "d"]);
        assert_eq!(
            words("<b>bold</b>"),
            ["<", "b", ">", "bold", "<", "/", "b", ">"]
        );
        assert_eq!(words("rock 'n' roll"), ["rock", "'", "n", "'", "roll"]);
    }

    #[test]
    fn vocabulary_respects_min_count_and_max_size() {
        let corpus = ["b a a c", "a b d", "e"];
        let config = VocabularyConfig {
            min_count: 2,
            max_size: 10,
            lowercase: true,
        };
        let t = WordLevelTokenizer::train(&corpus, &config).unwrap();
        assert_eq!(t.vocab(), ["[PAD]", "[UNK]", "a", "b"]);
        let small = VocabularyConfig {
            max_size: 3,
            min_count: 1,
            ..config
        };
        let t = WordLevelTokenizer::train(&corpus, &small).unwrap();
        assert_eq!(t.vocab(), ["[PAD]", "[UNK]", "a"]);
        assert!(matches!(
            WordLevelTokenizer::train::<&str>(&[], &config),
            Err(TokenizerError::EmptyCorpus)
        ));
    }

    #[test]
    fn offsets_point_into_the_original_text() {
        let text = "Café<br />NAÏVE, ok";
        let t = WordLevelTokenizer::train(&[text], &VocabularyConfig::default()).unwrap();
        let e = t.tokenize(text);
        let pieces: Vec<_> = e.offsets.iter().map(|&(s, e)| &text[s..e]).collect();
        assert_eq!(pieces, ["Café", "NAÏVE", ",", "ok"]);
        assert_eq!(t.decode(&e.ids), "café naïve , ok");
    }

    #[test]
    fn save_and_load_round_trip_and_reject_bad_files() {
        let dir = std::env::temp_dir().join(format!("wl-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let t = WordLevelTokenizer::train(&["x y z y"], &VocabularyConfig::default()).unwrap();
        let path = dir.join("tokenizer.json");
        t.save(&path).unwrap();
        let loaded = WordLevelTokenizer::load(&path).unwrap();
        assert_eq!(loaded, t);
        let policy = EncodePolicy::new(8);
        assert_eq!(
            loaded.encode_batch(&["y q"], &policy).unwrap(),
            t.encode_batch(&["y q"], &policy).unwrap()
        );

        std::fs::write(
            &path,
            r#"{"type":"word_level","lowercase":true,"vocab":["[PAD]","[UNK]"],"extra":1}"#,
        )
        .unwrap();
        let err = WordLevelTokenizer::load(&path).unwrap_err().to_string();
        assert!(
            err.contains("tokenizer.json") && err.contains("extra"),
            "{err}"
        );
        std::fs::write(
            &path,
            r#"{"type":"word_level","lowercase":true,"vocab":["[PAD]","[UNK]","a","a"]}"#,
        )
        .unwrap();
        assert!(matches!(
            WordLevelTokenizer::load(&path),
            Err(TokenizerError::DuplicateToken { .. })
        ));
        let missing = dir.join("absent.json");
        let err = WordLevelTokenizer::load(&missing).unwrap_err().to_string();
        assert!(err.contains("absent.json"), "{err}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
