use crate::error::{Result, Word2VecError};
use flate2::read::MultiGzDecoder;
use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};

/// Sentences of tokens that can be streamed again for each epoch.
///
/// Implement [`Corpus::sentences`]; override [`Corpus::for_each_sentence`] to stream
/// without allocating a `String` per token, or to report read errors (training calls it).
///
/// ```
/// use transfer_word2vec::Corpus;
/// let corpus = vec![vec!["a".to_string(), "b".to_string()], vec!["c".to_string()]];
/// assert_eq!(corpus.sentences().count(), 2);
/// let mut tokens = 0;
/// corpus.for_each_sentence(&mut |s| tokens += s.len())?;
/// assert_eq!(tokens, 3);
/// # Ok::<(), transfer_word2vec::Word2VecError>(())
/// ```
pub trait Corpus {
    /// One pass over the sentences.
    fn sentences(&self) -> Box<dyn Iterator<Item = Vec<String>> + '_>;

    /// Calls `f` with each sentence's tokens, in order; one pass.
    fn for_each_sentence(&self, f: &mut dyn FnMut(&[&str])) -> Result<()> {
        for sentence in self.sentences() {
            let tokens: Vec<&str> = sentence.iter().map(String::as_str).collect();
            f(&tokens);
        }
        Ok(())
    }
}

/// One sentence's tokens; implemented for slices, arrays and `Vec`s of anything that is
/// `AsRef<str>`, so `Vec<Vec<String>>`, `&[Vec<&str>]` and `[[&str; N]; M]` are corpora.
pub trait Sentence {
    fn tokens(&self) -> impl Iterator<Item = &str>;
}

impl<W: AsRef<str>> Sentence for [W] {
    fn tokens(&self) -> impl Iterator<Item = &str> {
        self.iter().map(AsRef::as_ref)
    }
}

impl<W: AsRef<str>> Sentence for Vec<W> {
    fn tokens(&self) -> impl Iterator<Item = &str> {
        self.iter().map(AsRef::as_ref)
    }
}

impl<W: AsRef<str>, const N: usize> Sentence for [W; N] {
    fn tokens(&self) -> impl Iterator<Item = &str> {
        self.iter().map(AsRef::as_ref)
    }
}

impl<T: Sentence + ?Sized> Sentence for &T {
    fn tokens(&self) -> impl Iterator<Item = &str> {
        (**self).tokens()
    }
}

impl<S: Sentence> Corpus for [S] {
    fn sentences(&self) -> Box<dyn Iterator<Item = Vec<String>> + '_> {
        Box::new(self.iter().map(|s| s.tokens().map(str::to_owned).collect()))
    }

    fn for_each_sentence(&self, f: &mut dyn FnMut(&[&str])) -> Result<()> {
        let mut tokens: Vec<&str> = Vec::new();
        for sentence in self {
            tokens.clear();
            tokens.extend(sentence.tokens());
            f(&tokens);
        }
        Ok(())
    }
}

impl<S: Sentence> Corpus for Vec<S> {
    fn sentences(&self) -> Box<dyn Iterator<Item = Vec<String>> + '_> {
        self.as_slice().sentences()
    }

    fn for_each_sentence(&self, f: &mut dyn FnMut(&[&str])) -> Result<()> {
        self.as_slice().for_each_sentence(f)
    }
}

impl<S: Sentence, const N: usize> Corpus for [S; N] {
    fn sentences(&self) -> Box<dyn Iterator<Item = Vec<String>> + '_> {
        self.as_slice().sentences()
    }

    fn for_each_sentence(&self, f: &mut dyn FnMut(&[&str])) -> Result<()> {
        self.as_slice().for_each_sentence(f)
    }
}

/// A text file with one sentence a line and tokens split on whitespace, read again for each
/// epoch; gzip-compressed when the path ends with `.gz`.
///
/// ```no_run
/// use transfer_word2vec::{Corpus, TextCorpus};
/// let corpus = TextCorpus::new("corpus.txt");
/// corpus.for_each_sentence(&mut |tokens| println!("{}", tokens.len()))?;
/// # Ok::<(), transfer_word2vec::Word2VecError>(())
/// ```
#[derive(Clone, Debug)]
pub struct TextCorpus {
    path: PathBuf,
    words: bool,
}

impl TextCorpus {
    /// The corpus in the file at `path` (opened at each pass).
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self {
            path: path.into(),
            words: false,
        }
    }

    /// Each line split into its [`words`](crate::words) (lowercase, `[a-z0-9']+`) instead of
    /// at whitespace: raw text needs no tokenizing beforehand.
    pub fn with_word_tokens(mut self) -> Self {
        self.words = true;
        self
    }

    fn split<'a>(&self, line: &'a str) -> Vec<&'a str> {
        if self.words {
            crate::tokens::spans(line).collect()
        } else {
            line.split_whitespace().collect()
        }
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn open(&self) -> Result<Box<dyn BufRead>> {
        let file = File::open(&self.path).map_err(|e| Word2VecError::io(&self.path, e))?;
        let gz = self.path.extension().is_some_and(|e| e == "gz");
        Ok(if gz {
            Box::new(BufReader::with_capacity(1 << 16, MultiGzDecoder::new(file)))
        } else {
            Box::new(BufReader::with_capacity(1 << 16, file))
        })
    }
}

impl Corpus for TextCorpus {
    /// The lines' tokens; a read error or a line that is not UTF-8 ends the pass early
    /// (use [`Corpus::for_each_sentence`], as training does, to get the error).
    fn sentences(&self) -> Box<dyn Iterator<Item = Vec<String>> + '_> {
        let Ok(reader) = self.open() else {
            return Box::new(std::iter::empty());
        };
        Box::new((reader.lines().map_while(|line| line.ok())).map(|line| {
            let line = if self.words {
                crate::tokens::normalise(&line)
            } else {
                line
            };
            self.split(&line).into_iter().map(str::to_owned).collect()
        }))
    }

    fn for_each_sentence(&self, f: &mut dyn FnMut(&[&str])) -> Result<()> {
        let mut reader = self.open()?;
        let mut line = Vec::new();
        for number in 1.. {
            line.clear();
            let read = reader.read_until(b'\n', &mut line);
            if read.map_err(|e| Word2VecError::io(&self.path, e))? == 0 {
                break;
            }
            let text = std::str::from_utf8(&line)
                .map_err(|e| Word2VecError::format(&self.path, number, e.to_string()))?;
            let lower;
            let text = if self.words {
                lower = crate::tokens::normalise(text);
                &lower
            } else {
                text
            };
            f(&self.split(text));
        }
        Ok(())
    }
}
