//! URL parsing and whitelist matching: never a panic; a parsed URL prints as text that parses to
//! the same URL; a URL the whitelist allows has the entry's scheme, host and port, and its path
//! is the entry's path or lies below it on a segment boundary.

use super::harness::{run, text_from};
use wasgo_core::urls::{Url, Whitelist};

const PIECES: &[&str] = &[
    "http://",
    "https://",
    "HTTP://",
    "hTTps://",
    "ftp://",
    "//",
    "/",
    "\\",
    "@",
    ":",
    ":80",
    ":443",
    ":8080",
    ":0",
    ":65536",
    "..",
    ".",
    "%2e",
    "%2E",
    "%2f",
    "%5c",
    "%61",
    "%",
    "%zz",
    "?",
    "#",
    "&",
    "=",
    " ",
    "\t",
    "\0",
    "a",
    "api",
    "v1",
    "example.com",
    "EXAMPLE.com.",
    "evil.com",
    "127.0.0.1",
    "0x7f.1",
    "2130706433",
    "127.1",
    "010.0.0.1",
    "[::1]",
    "[::ffff:127.0.0.1]",
    "localhost",
    "user:pass",
    "é",
    "xn--e1a",
    "_",
    "-",
];

/// The path of `url` lies at or below `prefix` (a normalised entry path) on a segment boundary.
fn under(path: &str, prefix: &str) -> bool {
    let prefix = prefix.trim_end_matches('/');
    prefix.is_empty()
        || path == prefix
        || path
            .strip_prefix(prefix)
            .is_some_and(|rest| rest.starts_with('/'))
}

#[test]
fn urls_and_whitelist() {
    run("urls_and_whitelist", 30_000, 256, |u| {
        let text = text_from(u, PIECES);
        let entry = text_from(u, PIECES);
        let reference = text_from(u, PIECES);
        let parsed = Url::parse(&text);
        if let Ok(url) = &parsed {
            let again = Url::parse(&url.to_string())
                .unwrap_or_else(|e| panic!("`{url}` (from {text:?}) does not parse again: {e}"));
            assert_eq!(&again, url, "printing {text:?} is not canonical");
            let _ = url.join(&reference);
            let _ = url.request_target();
        }
        let (list, _) = Whitelist::parse([entry.as_str()]);
        let checked = list.check(&text);
        assert_eq!(
            checked.is_ok(),
            parsed.as_ref().is_ok_and(|u| list.allows(u))
        );
        if let Ok(url) = checked {
            let origin = Url::parse(entry.trim()).expect("an entry that parsed is a URL");
            assert_eq!(
                url.scheme(),
                origin.scheme(),
                "{text:?} allowed by {entry:?}"
            );
            assert_eq!(url.host(), origin.host(), "{text:?} allowed by {entry:?}");
            assert_eq!(url.port(), origin.port(), "{text:?} allowed by {entry:?}");
            assert!(
                under(url.path(), origin.path()),
                "{text:?} (path `{}`) allowed by {entry:?} (path `{}`)",
                url.path(),
                origin.path()
            );
        }
    });
}
