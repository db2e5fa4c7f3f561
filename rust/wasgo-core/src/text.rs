//! Cutting text a mod or a server supplied down to a length that is safe to keep or show. A
//! leaf: it knows no other module.

/// The longest start of `text` of at most `max` bytes that ends on a character boundary.
pub fn prefix(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_prefix_ends_on_a_character_boundary() {
        assert_eq!(super::prefix("abc", 10), "abc");
        assert_eq!(super::prefix("abc", 2), "ab");
        // `é` takes two bytes: cutting inside it keeps what comes before.
        assert_eq!(super::prefix("aé", 2), "a");
        assert_eq!(super::prefix("é", 0), "");
    }
}
