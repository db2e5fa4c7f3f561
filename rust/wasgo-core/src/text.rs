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

/// Whether `c` is a control character or an invisible Unicode format character (the bidi
/// overrides and isolates that reorder what follows, zero-width characters, the soft hyphen, the
/// byte-order mark, the combining grapheme joiner, the Hangul fillers, the tag characters and
/// the variation selectors but the two that choose an emoji's look, U+FE0E and U+FE0F):
/// characters a name from a module must not bring into text a person reads (two mods' names
/// that differ only in them look the same in a mod list).
pub fn is_hidden(c: char) -> bool {
    c.is_control()
        || matches!(c,
            '\u{00AD}'
            | '\u{034F}'
            | '\u{061C}'
            | '\u{115F}'
            | '\u{1160}'
            | '\u{180E}'
            | '\u{3164}'
            | '\u{FE00}'..='\u{FE0D}'
            | '\u{FFA0}'
            | '\u{E0000}'..='\u{E007F}'
            | '\u{E0100}'..='\u{E01EF}'
            | '\u{200B}'..='\u{200F}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2060}'..='\u{2064}'
            | '\u{2066}'..='\u{206F}'
            | '\u{2028}'
            | '\u{2029}'
            | '\u{FEFF}'
            | '\u{FFF9}'..='\u{FFFB}')
}

/// The first character of `text` WasGo does not pass Godot from a mod (below level 3), if any.
/// A `name` (a StringName or NodePath value, a node path, a member, signal, class or event name)
/// takes no hidden character at all ([`is_hidden`]); other text takes no control character but
/// the tab and the line breaks (`\n`, `\r`). Godot copies names, and often texts, into its log
/// as they are when a call fails (`The InputMap action "..." doesn't exist`), so an escape
/// sequence there would reach the terminal or the log file of the player and the developer:
/// clearing the screen, rewriting the line before it, or writing a line of its own.
pub fn refused_char(text: &str, name: bool) -> Option<char> {
    if name {
        // The zero-width non-joiner and joiner are parts of ordinary Persian and Indic words
        // and of emoji sequences; they neither break a line nor reorder text.
        text.chars()
            .find(|&c| is_hidden(c) && !matches!(c, '\u{200C}' | '\u{200D}'))
    } else {
        text.chars()
            .find(|&c| c.is_control() && !matches!(c, '\t' | '\n' | '\r'))
    }
}

/// One line of text a mod supplied as it may be printed beside WasGo's own lines (the console,
/// the log file): every hidden character ([`is_hidden`]: line breaks, carriage returns, escape
/// sequences, the line and paragraph separators, bidi overrides) written as a `\u{..}` escape,
/// tabs kept, so the text can neither start a line of its own that reads like WasGo's nor hide
/// or reorder what comes before it. No copy when there is nothing to escape.
pub fn printable_line(text: &str) -> std::borrow::Cow<'_, str> {
    let escaped = |c: char| c != '\t' && is_hidden(c);
    if !text.chars().any(escaped) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    push_escaped(&mut out, text, escaped);
    std::borrow::Cow::Owned(out)
}

/// Appends `text` to `out`, each character `escaped` picks written as a `\u{..}` escape.
fn push_escaped(out: &mut String, text: &str, escaped: impl Fn(char) -> bool) {
    for c in text.chars() {
        if escaped(c) {
            out.push_str(&c.escape_unicode().to_string());
        } else {
            out.push(c);
        }
    }
}

/// The most of a name from a module (an import's, a waPC operation's) that messages and signals
/// show.
pub const MAX_SHOWN_NAME: usize = 256;

/// The most of a mod's own text a trap message keeps (`wasgo.abort`, a Go panic): it is printed
/// as WasGo's own error.
pub const MAX_TRAP_TEXT: usize = 4096;

/// `text` as it may be shown to a person (an editor warning, a log line): hidden characters
/// ([`is_hidden`]) written as `\u{..}` escapes, at most `max` bytes of it kept (then `…`).
pub fn shown(text: &str, max: usize) -> String {
    let cut = prefix(text, max);
    let mut out = String::with_capacity(cut.len() + 3);
    push_escaped(&mut out, cut, is_hidden);
    if cut.len() < text.len() {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn shown_text_escapes_what_hides_or_reorders_and_is_cut() {
        assert_eq!(super::shown("process", 64), "process");
        assert_eq!(super::shown("a\nb", 64), "a\\u{a}b");
        assert_eq!(super::shown("evil\u{202E}txt", 64), "evil\\u{202e}txt");
        assert_eq!(super::shown("abcdef", 3), "abc…");
        assert!(super::is_hidden('\u{2066}') && !super::is_hidden('é'));
    }

    #[test]
    fn a_printable_line_cannot_start_another_line_or_hide_its_start() {
        assert!(matches!(
            super::printable_line("plain\ttext é"),
            std::borrow::Cow::Borrowed("plain\ttext é")
        ));
        assert_eq!(
            super::printable_line("x\n\nWARNING: WasGo: granted"),
            "x\\u{a}\\u{a}WARNING: WasGo: granted"
        );
        for sneaky in [
            '\r', '\u{1b}', '\u{2028}', '\u{2029}', '\u{85}', '\u{202e}', '\u{b}',
        ] {
            let line = format!("a{sneaky}b");
            assert!(!super::printable_line(&line).contains(sneaky), "{sneaky:?}");
        }
    }

    #[test]
    fn names_take_no_hidden_character_and_texts_no_control_but_tab_and_line_breaks() {
        use super::refused_char;
        assert_eq!(refused_char("ui_accept", true), None);
        assert_eq!(refused_char("Ünïcode/Pfad", true), None);
        // Persian with a zero-width non-joiner, an emoji sequence with a joiner.
        assert_eq!(refused_char("می\u{200C}خواهم", true), None);
        assert_eq!(refused_char("👩\u{200D}🚀", true), None);
        for (text, c) in [
            ("x\u{1b}[2J", '\u{1b}'),
            ("a\nWARNING: x", '\n'),
            ("a\tb", '\t'),
            ("evil\u{202e}txt", '\u{202e}'),
            ("zero\u{200b}width", '\u{200b}'),
            ("tag\u{E0041}", '\u{E0041}'),
            ("filler\u{3164}", '\u{3164}'),
            ("hangul\u{115F}", '\u{115F}'),
            ("cgj\u{034F}", '\u{034F}'),
            ("vs\u{FE00}", '\u{FE00}'),
            ("vs\u{E0100}", '\u{E0100}'),
            ("half\u{FFA0}", '\u{FFA0}'),
        ] {
            assert_eq!(refused_char(text, true), Some(c), "{text:?}");
        }
        // The emoji presentation selector stays (a heart as an emoji).
        assert_eq!(refused_char("\u{2764}\u{FE0F}", true), None);
        // Texts keep their tabs and line breaks (Windows line ends too) and bidi marks.
        for text in ["two\nlines", "a\tb", "crlf\r\n", "\u{202e}arabic"] {
            assert_eq!(refused_char(text, false), None, "{text:?}");
        }
        for (text, c) in [
            ("\u{1b}[2Jcleared", '\u{1b}'),
            ("bell\u{7}", '\u{7}'),
            ("back\u{8}space", '\u{8}'),
            ("nul\0", '\0'),
            ("del\u{7f}", '\u{7f}'),
            ("csi\u{9b}2J", '\u{9b}'),
        ] {
            assert_eq!(refused_char(text, false), Some(c), "{text:?}");
        }
    }

    #[test]
    fn a_prefix_ends_on_a_character_boundary() {
        assert_eq!(super::prefix("abc", 10), "abc");
        assert_eq!(super::prefix("abc", 2), "ab");
        // `é` takes two bytes: cutting inside it keeps what comes before.
        assert_eq!(super::prefix("aé", 2), "a");
        assert_eq!(super::prefix("é", 0), "");
    }
}
