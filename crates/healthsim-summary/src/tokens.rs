//! Token counting with a real BPE tokenizer, so the budgets of ARCHITECTURE.md ("The agent's contract") are measured, not guessed.
//!
//! The encoding is OpenAI's **cl100k_base** (the ranks are embedded in `tiktoken-rs`, nothing is
//! downloaded). Claude's tokenizer is not public; cl100k_base is a close, widely used stand-in
//! and the budgets leave headroom for the difference.

use once_cell::sync::Lazy;
use tiktoken_rs::CoreBPE;

/// The cl100k_base encoder, built once on first use (building it parses ~100k ranks).
static CL100K_BASE: Lazy<Option<CoreBPE>> = Lazy::new(|| tiktoken_rs::cl100k_base().ok());

/// Number of cl100k_base tokens in `text` (special-token text is counted as ordinary text).
///
/// The ranks are embedded in the binary, so building the encoder cannot fail in practice; if it
/// ever did, the count falls back to a deliberately pessimistic estimate of one token per two
/// bytes, so a budget check errs on the side of trimming more.
pub fn count_tokens(text: &str) -> usize {
    match CL100K_BASE.as_ref() {
        Some(bpe) => bpe.encode_ordinary(text).len(),
        None => text.len().div_ceil(2),
    }
}

#[cfg(test)]
mod tests {
    use super::count_tokens;

    fn check(text: &str, expected: usize) {
        assert_eq!(count_tokens(text), expected, "tokens of {text:?}");
    }

    #[test]
    fn counts_cl100k_base_tokens() {
        check("", 0);
        check("hello world", 2);
        check("{\"patients\":3}", 5);
        check("<|endoftext|>", 7);
    }
}
