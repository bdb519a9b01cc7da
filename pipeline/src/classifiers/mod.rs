//! The two baselines of the Textflix study, without Burn: NB-SVM (Wang & Manning 2012) on
//! binarised unigrams and bigrams, and word-vector sums with logistic regression.

pub mod ensemble;
mod logistic;
mod nbsvm;
mod sparse;
mod tokens;
mod word_vector_sum;

pub use logistic::LogisticRegression;
pub use nbsvm::{NbSvm, NbSvmConfig};
pub use tokens::baseline_tokens;
pub use word_vector_sum::WordVectorSum;
