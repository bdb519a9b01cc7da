//! Shared by the integration tests (and `examples/imdb.rs`): IMDB reviews streamed from the
//! tarball and tokenized as the gensim reference does.

#![allow(dead_code)]

pub mod imdb;
