//! The word tokenization of the study's gensim reference: lowercase, `<br />` dropped, runs
//! of `a-z`, `0-9` and `'` kept.

use crate::corpus::Corpus;
use crate::error::Result;

/// The words of `text`.
///
/// ```
/// assert_eq!(transfer_word2vec::words("It's GREAT.<br />Really, 10/10!"), ["it's", "great", "really", "10", "10"]);
/// ```
pub fn words(text: &str) -> Vec<String> {
    let lower = normalise(text);
    spans(&lower).map(str::to_owned).collect()
}

/// Lowercased, with `<br />` replaced by a space.
pub(crate) fn normalise(text: &str) -> String {
    text.to_lowercase().replace("<br />", " ")
}

/// The token runs of an already lowercased text.
pub(crate) fn spans(lower: &str) -> impl Iterator<Item = &str> {
    let is_token = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '\'';
    lower
        .split(move |c: char| !is_token(c))
        .filter(|t| !t.is_empty())
}

/// Texts (reviews, tickets, notes) as a corpus: each text one sentence of its [`words`],
/// tokenized again on every pass instead of held as tokens.
///
/// ```
/// use transfer_word2vec::{Corpus, TokenizedTexts};
/// let corpus = TokenizedTexts::new(vec!["A fine film.", "A dull<br />film."]);
/// let sentences: Vec<Vec<String>> = corpus.sentences().collect();
/// assert_eq!(sentences[1], ["a", "dull", "film"]);
/// ```
#[derive(Clone, Debug)]
pub struct TokenizedTexts<S> {
    texts: Vec<S>,
}

impl<S: AsRef<str>> TokenizedTexts<S> {
    pub fn new(texts: Vec<S>) -> Self {
        Self { texts }
    }

    pub fn len(&self) -> usize {
        self.texts.len()
    }

    pub fn is_empty(&self) -> bool {
        self.texts.is_empty()
    }
}

impl<S: AsRef<str>> Corpus for TokenizedTexts<S> {
    fn sentences(&self) -> Box<dyn Iterator<Item = Vec<String>> + '_> {
        Box::new(self.texts.iter().map(|t| words(t.as_ref())))
    }

    fn for_each_sentence(&self, f: &mut dyn FnMut(&[&str])) -> Result<()> {
        for text in &self.texts {
            let lower = normalise(text.as_ref());
            let tokens: Vec<&str> = spans(&lower).collect();
            f(&tokens);
        }
        Ok(())
    }
}
