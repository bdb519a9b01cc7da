//! Properties every tokenizer keeps on any UTF-8 input: no panic, truncation within the
//! maximum length, padding to the rule, a mask of real positions, offsets into the text.

use std::sync::OnceLock;

use proptest::prelude::*;
use transfer_tokenizer::*;

fn minilm() -> &'static HfTokenizer {
    static T: OnceLock<HfTokenizer> = OnceLock::new();
    T.get_or_init(|| {
        let assets =
            std::env::var("TRANSFER_ASSETS").expect("TRANSFER_ASSETS (set by .cargo/config.toml)");
        HfTokenizer::from_pretrained_dir(format!("{assets}/models/all-MiniLM-L6-v2")).unwrap()
    })
}

fn word_level() -> &'static WordLevelTokenizer {
    static T: OnceLock<WordLevelTokenizer> = OnceLock::new();
    T.get_or_init(|| {
        let corpus = [
            "the movie was great",
            "a dull film, truly dull",
            "Ça va? très bien! 🎬",
        ];
        WordLevelTokenizer::train(&corpus, &VocabularyConfig::default()).unwrap()
    })
}

fn policy() -> impl Strategy<Value = EncodePolicy> {
    let truncation = prop_oneof![
        Just(Truncation::KeepStart),
        Just(Truncation::KeepEnd),
        (0usize..4).prop_map(|start| Truncation::KeepStartAndEnd { start }),
    ];
    let padding = prop_oneof![
        Just(Padding::Longest),
        Just(Padding::MaxLength),
        (1usize..5).prop_map(Padding::MultipleOf),
    ];
    (3usize..24, truncation, padding).prop_map(|(max_length, truncation, padding)| EncodePolicy {
        max_length,
        truncation,
        padding,
    })
}

fn check<T: Tokenizer>(
    tokenizer: &T,
    texts: &[String],
    policy: &EncodePolicy,
) -> Result<(), TestCaseError> {
    let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
    let batch = match tokenizer.encode_batch(&refs, policy) {
        Ok(b) => b,
        // A policy can be invalid (for example keeping more start tokens than fit): that is
        // a typed error, never a panic.
        Err(TokenizerError::InvalidConfig { .. }) => return Ok(()),
        Err(e) => return Err(TestCaseError::fail(e.to_string())),
    };
    let special = tokenizer.special_tokens();
    prop_assert_eq!(batch.batch_size, texts.len());
    prop_assert_eq!(batch.ids.len(), texts.len() * batch.seq_len);
    prop_assert_eq!(batch.attention_mask.len(), batch.ids.len());
    let lengths = batch.lengths();
    let longest = lengths.iter().copied().max().unwrap_or(0);
    match policy.padding {
        Padding::Longest => prop_assert_eq!(batch.seq_len, longest),
        Padding::MaxLength => prop_assert_eq!(batch.seq_len, policy.max_length),
        Padding::MultipleOf(m) => {
            prop_assert_eq!(batch.seq_len % m, 0);
            prop_assert!(batch.seq_len >= longest && batch.seq_len < longest + m);
        }
    }
    for (row, text) in texts.iter().enumerate() {
        let len = lengths[row];
        prop_assert!(len <= policy.max_length);
        let mask = &batch.attention_mask[row * batch.seq_len..(row + 1) * batch.seq_len];
        let ids = &batch.ids[row * batch.seq_len..(row + 1) * batch.seq_len];
        prop_assert!(mask[..len].iter().all(|&m| m) && mask[len..].iter().all(|&m| !m));
        prop_assert!(ids[len..].iter().all(|&id| id == special.pad));
        prop_assert!(ids.iter().all(|&id| (id as usize) < tokenizer.vocab_size()));
        for &(start, end) in &batch.offsets[row] {
            prop_assert!(start <= end && end <= text.len());
            prop_assert!(text.is_char_boundary(start) && text.is_char_boundary(end));
        }
        // Truncation keeps the promised part of the full encoding.
        let full = tokenizer.tokenize(text).ids;
        let content =
            &ids[usize::from(special.cls.is_some())..len - usize::from(special.sep.is_some())];
        prop_assert_eq!(batch.truncated[row], full.len() > content.len());
        match policy.truncation {
            Truncation::KeepStart => prop_assert!(full.starts_with(content)),
            Truncation::KeepEnd => prop_assert!(full.ends_with(content)),
            Truncation::KeepStartAndEnd { start } => {
                let head = start.min(content.len());
                prop_assert!(
                    full.starts_with(&content[..head]) && full.ends_with(&content[head..])
                );
            }
        }
    }
    Ok(())
}

/// Text made to reach every branch of the specialised BERT path: ASCII words and punctuation,
/// every ASCII space and control byte, accents, CJK, unicode spaces and punctuation, added
/// tokens in any case, words past the 100-character limit and words outside the vocabulary.
fn bert_edge_text() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        4 => "[A-Za-z0-9]{1,12}",
        2 => "[!-/:-@\\[-`{-~]{1,3}",
        2 => "[ \t\n\r\x0b\x0c\x00-\x08\x7f]{1,2}",
        1 => Just("<br /><br />".to_string()),
        1 => prop_oneof![Just("[SEP]"), Just("[mask]"), Just("x[CLS]y"), Just("[PA"), Just("D]")]
            .prop_map(String::from),
        1 => prop_oneof![Just("Café"), Just("naïve"), Just("İstanbul"), Just("ΣΑΣ"), Just("e\u{301}")]
            .prop_map(String::from),
        1 => prop_oneof![Just("野口"), Just("\u{a0}"), Just("\u{2019}"), Just("…"), Just("\u{fffd}"), Just("🎬")]
            .prop_map(String::from),
        1 => "[a-z]{95,105}",
        1 => "[qxz]{3,8}",
        1 => any::<String>(),
    ];
    prop::collection::vec(piece, 0..24).prop_map(|pieces| pieces.concat())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn bert_fast_path_gives_the_ids_and_offsets_of_tokenizers(text in bert_edge_text()) {
        let t = minilm();
        prop_assert!(t.is_bert_wordpiece());
        prop_assert_eq!(t.tokenize(&text), t.tokenize_with_pipeline(&text));
    }

    #[test]
    fn word_level_invariants(texts in prop::collection::vec(any::<String>(), 0..5), policy in policy()) {
        check(word_level(), &texts, &policy)?;
    }

    #[test]
    fn wordpiece_invariants(texts in prop::collection::vec(any::<String>(), 0..5), policy in policy()) {
        check(minilm(), &texts, &policy)?;
    }

    #[test]
    fn review_like_text_round_trips_through_decode(words in prop::collection::vec("[a-z]{1,8}", 1..20)) {
        let text = words.join(" ");
        let t = minilm();
        let ids = t.tokenize(&text).ids;
        prop_assert_eq!(t.decode(&ids), text);
    }
}
