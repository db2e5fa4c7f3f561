//! WAT text, converted to a binary module with its cost bounded first.
//!
//! The text parser (`wat`/`wast`) resolves each branch label (`br $outer`) by walking the stack
//! of blocks open at the branch, innermost first. Folded blocks (`(block ...)`) are bounded by
//! the parser's own nesting limit, but unfolded ones (`block ... end`) are not: a 4 MB file of
//! 300,000 open `block`s and as many `br $outer` is about 10^11 steps on whichever thread reads
//! it (the main thread, for a manifest or a mods-folder scan). [`check`] reads the text once,
//! linearly, and refuses unfolded nesting past [`MAX_UNFOLDED_DEPTH`]; every conversion of WAT
//! text in the core goes through [`to_binary`], which checks first.

use std::borrow::Cow;

/// The deepest nesting of unfolded `block`/`loop`/`if`/`try`/`try_table` a WAT text may have.
pub const MAX_UNFOLDED_DEPTH: usize = 256;

/// Refuses WAT text whose unfolded blocks nest past [`MAX_UNFOLDED_DEPTH`] (one linear pass
/// over the text, skipping comments and strings).
///
/// # Errors
/// The reason, naming the limit and what to do.
pub fn check(text: &[u8]) -> Result<(), String> {
    let mut depth = 0usize;
    let mut after_open = false;
    let mut i = 0;
    while i < text.len() {
        let b = text[i];
        match b {
            b' ' | b'\t' | b'\r' | b'\n' => i += 1,
            b';' if text.get(i + 1) == Some(&b';') => {
                i = text[i..]
                    .iter()
                    .position(|&c| c == b'\n')
                    .map_or(text.len(), |p| i + p);
            }
            b'(' if text.get(i + 1) == Some(&b';') => i = skip_block_comment(text, i),
            b'(' => {
                after_open = true;
                i += 1;
            }
            b')' => {
                after_open = false;
                i += 1;
            }
            b'"' => {
                i = skip_string(text, i);
                after_open = false;
            }
            _ => {
                let start = i;
                while i < text.len()
                    && !matches!(
                        text[i],
                        b' ' | b'\t' | b'\r' | b'\n' | b'(' | b')' | b'"' | b';'
                    )
                {
                    i += 1;
                }
                if i == start {
                    // A lone `;` (not a comment): part of no word.
                    i += 1;
                    continue;
                }
                let word = &text[start..i];
                if !after_open && matches!(word, b"block" | b"loop" | b"if" | b"try" | b"try_table")
                {
                    depth += 1;
                    if depth > MAX_UNFOLDED_DEPTH {
                        return Err(format!(
                            "its WAT text nests unfolded blocks (`block ... end`) more than {MAX_UNFOLDED_DEPTH} deep, which the text parser cannot read in bounded time; fold them (`(block ...)`) or compile the text to a binary `.wasm` first (`wat2wasm`, `wasm-tools parse`)"
                        ));
                    }
                } else if word == b"end" {
                    depth = depth.saturating_sub(1);
                }
                after_open = false;
            }
        }
    }
    Ok(())
}

/// Past a `(; ... ;)` comment (they nest) starting at `at`.
fn skip_block_comment(text: &[u8], at: usize) -> usize {
    let mut level = 0usize;
    let mut i = at;
    while i + 1 < text.len() {
        match (text[i], text[i + 1]) {
            (b'(', b';') => {
                level += 1;
                i += 2;
            }
            (b';', b')') => {
                level -= 1;
                i += 2;
                if level == 0 {
                    return i;
                }
            }
            _ => i += 1,
        }
    }
    text.len()
}

/// Past a string starting at `at` (its `\` escapes included).
fn skip_string(text: &[u8], at: usize) -> usize {
    let mut i = at + 1;
    while i < text.len() {
        match text[i] {
            b'\\' => i += 2,
            b'"' => return i + 1,
            _ => i += 1,
        }
    }
    text.len()
}

/// A binary module: `bytes` unchanged when they are one, else WAT text converted after
/// [`check`].
///
/// # Errors
/// [`check`]'s reason, or the text parser's.
pub fn to_binary(bytes: &[u8]) -> Result<Cow<'_, [u8]>, String> {
    if bytes.starts_with(b"\0asm") {
        return Ok(Cow::Borrowed(bytes));
    }
    check(bytes)?;
    wat::parse_bytes(bytes).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nested(depth: usize) -> String {
        format!(
            "(module (func block $o {} br $o {}))",
            "block ".repeat(depth - 1),
            "end ".repeat(depth)
        )
    }

    #[test]
    fn unfolded_nesting_is_bounded_and_folded_or_commented_words_do_not_count() {
        assert!(to_binary(nested(MAX_UNFOLDED_DEPTH).as_bytes()).is_ok());
        let err = to_binary(nested(MAX_UNFOLDED_DEPTH + 1).as_bytes()).unwrap_err();
        assert!(err.contains("more than 256 deep"), "{err}");
        // Sequential blocks close as they go: any number of them.
        let flat = format!("(module (func {}))", "block end ".repeat(10_000));
        assert!(to_binary(flat.as_bytes()).is_ok());
        // Folded blocks are the parser's own limit; words in comments and strings are not code.
        let folded = "(module (func (block (loop (if (i32.const 0) (then))))))";
        assert!(check(folded.as_bytes()).is_ok());
        let words = format!(
            "(module ;; {}\n (; {} (; nested ;) ;) (@custom \"x\" \"{}\"))",
            "block ".repeat(300),
            "block ".repeat(300),
            "block ".repeat(300)
        );
        assert!(
            to_binary(words.as_bytes()).is_ok(),
            "{:?}",
            to_binary(words.as_bytes())
        );
    }

    #[test]
    fn binary_passes_through_and_bad_text_says_why() {
        let binary = wat::parse_str("(module)").unwrap();
        assert!(matches!(to_binary(&binary), Ok(Cow::Borrowed(_))));
        assert!(to_binary(b"(module (func (i32.bogus)))").is_err());
        // Unterminated comments and strings end the scan instead of running past the text.
        assert!(check(b"(module (; never closed").is_ok());
        assert!(check(b"(module \"never closed").is_ok());
        assert!(check(b"(module \"ends in a backslash\\").is_ok());
    }
}
