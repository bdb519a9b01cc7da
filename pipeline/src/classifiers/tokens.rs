/// The baselines' tokenization (the same as the scikit-learn reference): lowercase, HTML line
/// breaks removed, then runs of `[a-z0-9']` and single other non-space characters.
pub fn baseline_tokens(text: &str) -> Vec<String> {
    let lower = text.to_lowercase().replace("<br />", " ");
    let mut tokens = Vec::new();
    let mut word = String::new();
    for c in lower.chars() {
        if c.is_ascii_lowercase() || c.is_ascii_digit() || c == '\'' {
            word.push(c);
            continue;
        }
        if !word.is_empty() {
            tokens.push(std::mem::take(&mut word));
        }
        if !c.is_whitespace() {
            tokens.push(c.to_string());
        }
    }
    if !word.is_empty() {
        tokens.push(word);
    }
    tokens
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_like_the_reference_regex() {
        // [a-z0-9']+|[^\sa-z0-9']
        assert_eq!(
            baseline_tokens("Don't GO!<br />It's 10/10 — café"),
            ["don't", "go", "!", "it's", "10", "/", "10", "—", "caf", "é"]
        );
    }
}
