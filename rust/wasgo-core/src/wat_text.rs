//! WAT text, converted to a binary module with its cost bounded first.
//!
//! The text parser (`wat`/`wast`) resolves each named branch label (`br $outer`) by walking the
//! stack of blocks open at the branch, innermost first, folded (`(block ...)`) or not
//! (`block ... end`), with no limit on their nesting: a 4 MB file of 300,000 open blocks and as
//! many `br $outer` is about 10^11 steps on whichever thread reads it (the main thread, for a
//! manifest or a mods-folder scan). [`check`] reads the text once, linearly, adding up the block
//! depth at every `$name` (an over-count: a function's or a local's name costs the parser
//! nothing), and refuses text past [`MAX_LABEL_WORK`]; annotations (`(@custom ...)`), which the
//! parser skips, are skipped too. Numeric labels (`br 3`, what `wasm2wat` prints) cost nothing,
//! so deep unnamed nesting passes. Every conversion of WAT text in the core goes through
//! [`to_binary`], which checks first.

use std::borrow::Cow;

/// The most label-resolution work (open unfolded blocks, summed at each `$name`) a WAT text may
/// take: about a tenth of a second of the parser's time.
pub const MAX_LABEL_WORK: u64 = 100_000_000;

/// Refuses WAT text whose label resolution would take more than [`MAX_LABEL_WORK`] steps (one
/// linear pass over the text, skipping comments and strings).
///
/// # Errors
/// The reason, naming the limit and what to do.
pub fn check(text: &[u8]) -> Result<(), String> {
    let mut depth = 0u64;
    let mut work = 0u64;
    // One entry per open parenthesis: whether it opened a folded block (`(block ...)`), whose
    // label the parser keeps on the same stack as an unfolded one's until its `)`.
    let mut parens: Vec<bool> = Vec::new();
    let mut after_open = false;
    let mut i = 0;
    while i < text.len() {
        if let Some(next) = skip_comment(text, i) {
            i = next;
            continue;
        }
        let b = text[i];
        match b {
            b' ' | b'\t' | b'\r' | b'\n' => i += 1,
            // An annotation the parser skips whole (`(@custom ...)`, `(@name ...)`): nothing in
            // it is code, also not an `end`.
            b'(' if text.get(i + 1) == Some(&b'@') => i = skip_group(text, i),
            b'(' => {
                parens.push(false);
                after_open = true;
                i += 1;
            }
            b')' => {
                if parens.pop() == Some(true) {
                    depth = depth.saturating_sub(1);
                }
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
                if word.starts_with(b"$") {
                    work = work.saturating_add(depth);
                    if work > MAX_LABEL_WORK {
                        return Err(format!(
                            "its WAT text names labels inside blocks nested so deep and so often that the text parser would take more than {MAX_LABEL_WORK} steps to resolve them; use numeric labels (`br 3`), nest less, or compile the text to a binary `.wasm` first (`wasm-tools parse`, `wat2wasm`)"
                        ));
                    }
                } else if matches!(word, b"block" | b"loop" | b"if" | b"try" | b"try_table") {
                    depth += 1;
                    if after_open {
                        // Folded: it closes with its parenthesis, not with `end`.
                        if let Some(top) = parens.last_mut() {
                            *top = true;
                        }
                    }
                } else if word == b"end" || word == b"delegate" {
                    // `delegate` ends a `try` as `end` does.
                    depth = depth.saturating_sub(1);
                }
                after_open = false;
            }
        }
    }
    Ok(())
}

/// Past a parenthesised group starting at `at` (its nested groups, strings and comments
/// included).
fn skip_group(text: &[u8], at: usize) -> usize {
    let mut level = 0usize;
    let mut i = at;
    while i < text.len() {
        if let Some(next) = skip_comment(text, i) {
            i = next;
            continue;
        }
        match text[i] {
            b'"' => {
                i = skip_string(text, i);
                continue;
            }
            b'(' => level += 1,
            b')' => {
                level -= 1;
                if level == 0 {
                    return i + 1;
                }
            }
            _ => {}
        }
        i += 1;
    }
    text.len()
}

/// Past the comment starting at `at`, if one does: `;;` to the end of the line, or `(; ... ;)`.
fn skip_comment(text: &[u8], at: usize) -> Option<usize> {
    match (text[at], text.get(at + 1)) {
        (b';', Some(b';')) => Some(
            text[at..]
                .iter()
                .position(|&c| c == b'\n')
                .map_or(text.len(), |p| at + p),
        ),
        (b'(', Some(b';')) => Some(skip_block_comment(text, at)),
        _ => None,
    }
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

    /// `depth` unfolded blocks, the outer one named, with `branches` branches to it innermost.
    fn nested(depth: usize, branches: usize) -> String {
        format!(
            "(module (func block $o {} {} {}))",
            "block ".repeat(depth - 1),
            "br $o ".repeat(branches),
            "end ".repeat(depth)
        )
    }

    #[test]
    fn label_work_is_bounded_and_numeric_labels_or_comments_cost_nothing() {
        // Deep but cheap: a few named branches, or any number of numeric ones.
        assert!(to_binary(nested(5000, 10).as_bytes()).is_ok());
        let numeric = format!(
            "(module (func {} br 3 br 4000 {}))",
            "block ".repeat(5000),
            "end ".repeat(5000)
        );
        assert!(to_binary(numeric.as_bytes()).is_ok());
        // Deep and often: refused before the parser runs.
        let err = to_binary(nested(5000, 30_000).as_bytes()).unwrap_err();
        assert!(err.contains("100000000 steps"), "{err}");
        // Sequential blocks close as they go, `delegate` included.
        let flat = format!("(module (func {}))", "block end ".repeat(10_000));
        assert!(check(flat.as_bytes()).is_ok());
        let tries = format!(
            "(module (func {} {}))",
            "try delegate 0 ".repeat(40_000),
            "block $b br $b end ".repeat(3000)
        );
        assert!(check(tries.as_bytes()).is_ok());
        // Folded blocks count as unfolded ones do, and close with their parenthesis.
        let folded = "(module (func (block (loop (if (i32.const 0) (then))))))";
        assert!(check(folded.as_bytes()).is_ok());
        let deep_folded = format!(
            "(module (func (block $o {} {} {})))",
            "(block ".repeat(5000),
            "(br $o) ".repeat(30_000),
            ")".repeat(5000)
        );
        assert!(check(deep_folded.as_bytes()).is_err());
        let closed_folded = format!(
            "(module (func {} {}))",
            "(block $b (br $b))".repeat(5000),
            "(br 0)".repeat(10)
        );
        assert!(check(closed_folded.as_bytes()).is_ok());
        // An `end` inside an annotation is not code: it closes nothing.
        let hidden_ends = format!(
            "(module (func block $o {} (@x {}) {} {}))",
            "block ".repeat(5000),
            "end ".repeat(5001),
            "br $o ".repeat(30_000),
            "end ".repeat(5001)
        );
        assert!(check(hidden_ends.as_bytes()).is_err());
        // Words in comments and strings are not code.
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
