//! What comes before fine-tuning: language models trained on unlabelled text, whose stages
//! then become a classifier's.

pub mod language_model;
pub mod masked_lm;
