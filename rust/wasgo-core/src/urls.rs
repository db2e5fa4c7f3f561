//! URLs a level-2 mod may reach: strict parsing of `http`/`https` URLs and matching against the
//! project setting `wasgo/safety/url_whitelist`.
//!
//! A URL is parsed into a canonical [`Url`] before anything compares it, and the canonical form
//! is also what the request sends, so what is checked is what goes on the wire. Parsing refuses
//! rather than guesses:
//!
//! - only `http://` and `https://` (scheme case-insensitive), ASCII only, no spaces, control
//!   characters or backslashes anywhere, at most [`MAX_URL_BYTES`];
//! - no userinfo (`http://allowed@evil/` is refused outright, whatever is before the `@`);
//! - the host is lowercased and one trailing dot is dropped; it must be a DNS name
//!   (`[a-z0-9_-]` labels), a dotted-quad IPv4 address or a bracketed IPv6 address; a host that
//!   looks numeric but is not a plain dotted quad (`0x7f.1`, `2130706433`, `127.1`, `010.0.0.1`)
//!   and any `%` in the authority are refused;
//! - the port is decimal, 1 to 65535; a missing one is the scheme's default (80, 443), so
//!   `http://h/` and `http://h:80/` are the same URL;
//! - in the path, percent-encoded unreserved characters are decoded (`%61` is `a`, `%2e` is
//!   `.`), other escapes are kept with uppercase hex, and encoded `/`, `\` or control characters
//!   are refused; then `.` and `..` segments are resolved, and a `..` above the root is refused,
//!   as is a `.` or `..` with `;` parameters (`..;x`, which servers that drop parameters resolve);
//! - the fragment (`#...`) is dropped, the query is kept (checked for legal characters).
//!
//! A whitelist entry is parsed the same way (it must not have a query). A URL matches an entry
//! when scheme, host and port are equal and its path is the entry's path or lies below it on a
//! segment boundary: the entry `http://h/api` allows `/api` and `/api/x`, not `/apix`.

use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};

/// The longest URL a mod may pass, in bytes.
pub const MAX_URL_BYTES: usize = 2048;

/// `http` or `https`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scheme {
    Http,
    Https,
}

impl Scheme {
    /// 80 or 443.
    pub fn default_port(self) -> u16 {
        match self {
            Scheme::Http => 80,
            Scheme::Https => 443,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Scheme::Http => "http",
            Scheme::Https => "https",
        }
    }
}

/// Why a URL was refused. The message names the URL and the rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UrlError(pub String);

impl fmt::Display for UrlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UrlError {}

/// A parsed, canonical `http`/`https` URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Url {
    scheme: Scheme,
    /// Lowercase, no trailing dot; an IPv6 address in brackets.
    host: String,
    port: u16,
    /// Normalised, starts with `/`.
    path: String,
    /// Without the `?`.
    query: Option<String>,
}

fn refuse<T>(url: &str, why: impl fmt::Display) -> Result<T, UrlError> {
    Err(UrlError(format!(
        "URL `{}` is refused: {why}",
        url.escape_debug()
    )))
}

fn is_unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~')
}

/// Characters a path segment may hold literally (RFC 3986 `pchar` without `%`).
fn is_pchar(b: u8) -> bool {
    is_unreserved(b)
        || matches!(
            b,
            b'!' | b'$'
                | b'&'
                | b'\''
                | b'('
                | b')'
                | b'*'
                | b'+'
                | b','
                | b';'
                | b'='
                | b':'
                | b'@'
        )
}

fn hex_value(b: u8) -> Option<u8> {
    (b as char).to_digit(16).map(|d| d as u8)
}

impl Url {
    /// Parses and normalises `text`.
    ///
    /// # Errors
    /// A [`UrlError`] naming the rule the URL breaks (see the module docs).
    pub fn parse(text: &str) -> Result<Url, UrlError> {
        if text.len() > MAX_URL_BYTES {
            // The first 64 bytes, cut at a character's start (the text may be any UTF-8: a
            // redirect's `Location` comes from the server).
            return refuse(
                crate::text::prefix(text, 64),
                format_args!("it is longer than {MAX_URL_BYTES} bytes"),
            );
        }
        if !text.is_ascii() {
            return refuse(
                text,
                "it contains non-ASCII characters (percent-encode them)",
            );
        }
        if let Some(c) = text.bytes().find(|b| *b <= b' ' || *b == 0x7f) {
            return refuse(
                text,
                format_args!("it contains a space or control character (byte {c:#04x})"),
            );
        }
        if text.contains('\\') {
            return refuse(text, "it contains a backslash");
        }
        let Some((scheme, rest)) = text.split_once("://") else {
            return refuse(text, "it must start with `http://` or `https://`");
        };
        let scheme = match scheme.to_ascii_lowercase().as_str() {
            "http" => Scheme::Http,
            "https" => Scheme::Https,
            _ => {
                return refuse(
                    text,
                    format_args!("the scheme `{scheme}` is not `http` or `https`"),
                )
            }
        };
        let rest = rest.split('#').next().unwrap_or("");
        let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
        let (authority, tail) = rest.split_at(authority_end);
        if authority.contains('@') {
            return refuse(
                text,
                "it has userinfo (`user@host`), which WasGo never sends",
            );
        }
        if authority.contains('%') {
            return refuse(text, "its host is percent-encoded");
        }
        let (host, port) = parse_authority(text, authority)?;
        let port = match port {
            None => scheme.default_port(),
            Some(p) => parse_port(text, p)?,
        };
        let (raw_path, query) = match tail.split_once('?') {
            Some((p, q)) => (p, Some(q)),
            None => (tail, None),
        };
        let path = normalize_path(text, raw_path)?;
        let query = match query {
            Some(q) => Some(normalize_query(text, q)?),
            None => None,
        };
        Ok(Url {
            scheme,
            host,
            port,
            path,
            query,
        })
    }

    pub fn scheme(&self) -> Scheme {
        self.scheme
    }

    /// The lowercase host; IPv6 addresses in brackets.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The host as a socket API wants it (IPv6 without brackets).
    pub fn connect_host(&self) -> &str {
        self.host.trim_start_matches('[').trim_end_matches(']')
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The normalised path (starts with `/`).
    pub fn path(&self) -> &str {
        &self.path
    }

    pub fn query(&self) -> Option<&str> {
        self.query.as_deref()
    }

    /// What goes on the request line: the path and the query.
    pub fn request_target(&self) -> String {
        match &self.query {
            Some(q) => format!("{}?{q}", self.path),
            None => self.path.clone(),
        }
    }

    /// `scheme://host:port` (the port always written).
    fn origin(&self) -> String {
        format!("{}://{}:{}", self.scheme.as_str(), self.host, self.port)
    }

    /// Resolves a redirect's `Location` against this URL: absolute, scheme-relative (`//h/p`),
    /// absolute-path (`/p`), query-only (`?q`) or relative (`p`, `../p`).
    ///
    /// # Errors
    /// A [`UrlError`] when the result is not a URL WasGo accepts.
    pub fn join(&self, reference: &str) -> Result<Url, UrlError> {
        let has_scheme = reference.split_once(':').is_some_and(|(s, _)| {
            !s.is_empty()
                && s.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'))
                && s.as_bytes()[0].is_ascii_alphabetic()
        });
        let absolute = if has_scheme {
            reference.to_string()
        } else if reference.starts_with("//") {
            format!("{}:{reference}", self.scheme.as_str())
        } else if reference.starts_with('/') {
            format!("{}{reference}", self.origin())
        } else if reference.starts_with('?') || reference.is_empty() || reference.starts_with('#') {
            format!("{}{}{reference}", self.origin(), self.path)
        } else {
            let dir = &self.path[..=self.path.rfind('/').unwrap_or(0)];
            format!("{}{dir}{reference}", self.origin())
        };
        Url::parse(&absolute)
    }
}

impl fmt::Display for Url {
    /// The canonical form: the port only when it is not the scheme's default.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}://{}", self.scheme.as_str(), self.host)?;
        if self.port != self.scheme.default_port() {
            write!(f, ":{}", self.port)?;
        }
        write!(f, "{}", self.request_target())
    }
}

fn parse_authority<'a>(
    text: &str,
    authority: &'a str,
) -> Result<(String, Option<&'a str>), UrlError> {
    if let Some(inner) = authority.strip_prefix('[') {
        let Some((addr, after)) = inner.split_once(']') else {
            return refuse(text, "its IPv6 host has no closing `]`");
        };
        let port = match after {
            "" => None,
            p => Some(
                p.strip_prefix(':')
                    .map_or_else(|| refuse(text, "unexpected text after the IPv6 host"), Ok)?,
            ),
        };
        let Ok(ip) = addr.parse::<Ipv6Addr>() else {
            return refuse(text, format_args!("`[{addr}]` is not an IPv6 address"));
        };
        return Ok((format!("[{ip}]"), port));
    }
    let (host, port) = match authority.split_once(':') {
        Some((h, p)) => (h, Some(p)),
        None => (authority, None),
    };
    let mut host = host.to_ascii_lowercase();
    if host.ends_with('.') {
        host.pop();
    }
    check_host(text, &host)?;
    Ok((host, port))
}

fn check_host(text: &str, host: &str) -> Result<(), UrlError> {
    if host.is_empty() {
        return refuse(text, "it has no host");
    }
    if host.len() > 253 {
        return refuse(text, "its host is longer than 253 bytes");
    }
    let labels: Vec<&str> = host.split('.').collect();
    for label in &labels {
        if label.is_empty() {
            return refuse(text, "its host has an empty label (`..`)");
        }
        if label.len() > 63 {
            return refuse(text, "a label of its host is longer than 63 bytes");
        }
        if !label
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
        {
            return refuse(
                text,
                format_args!("its host `{host}` has characters a host name cannot have"),
            );
        }
    }
    // A name whose last label is numeric (or hex-like `0x..`) is read as an IPv4 address by
    // resolvers; only the plain dotted-quad form is accepted, so one address has one spelling.
    let last = labels[labels.len() - 1];
    let numeric = last.bytes().all(|b| b.is_ascii_digit())
        || (last.starts_with("0x") && last[2..].bytes().all(|b| b.is_ascii_hexdigit()));
    if numeric {
        let canonical = host
            .parse::<Ipv4Addr>()
            .ok()
            .filter(|ip| ip.to_string() == host);
        if canonical.is_none() {
            return refuse(text, format_args!("its host `{host}` looks like an IP address but is not a plain dotted quad such as `127.0.0.1`"));
        }
    }
    Ok(())
}

fn parse_port(text: &str, port: &str) -> Result<u16, UrlError> {
    if port.is_empty() || port.len() > 5 || !port.bytes().all(|b| b.is_ascii_digit()) {
        return refuse(
            text,
            format_args!("its port `{port}` is not a number from 1 to 65535"),
        );
    }
    match port.parse::<u32>() {
        Ok(p @ 1..=65535) => Ok(p as u16),
        _ => refuse(
            text,
            format_args!("its port `{port}` is not a number from 1 to 65535"),
        ),
    }
}

/// Decodes `%XX` of unreserved characters, uppercases other escapes, resolves `.` and `..`.
fn normalize_path(text: &str, raw: &str) -> Result<String, UrlError> {
    if raw.is_empty() {
        return Ok("/".into());
    }
    debug_assert!(raw.starts_with('/'));
    let mut segments: Vec<String> = Vec::new();
    let parts: Vec<&str> = raw[1..].split('/').collect();
    let mut trailing_slash = false;
    for (i, part) in parts.iter().enumerate() {
        let last = i + 1 == parts.len();
        let segment = decode_segment(text, part)?;
        // `..;x` is `..` to servers that drop a segment's `;` parameters before resolving
        // (Tomcat, Spring): it would climb out of a whitelisted path prefix there.
        let bare = segment.split(';').next().unwrap_or("");
        if (bare == "." || bare == "..") && bare != segment {
            return refuse(
                text,
                format_args!("its path has the segment `{segment}`, a `.` or `..` with parameters"),
            );
        }
        match segment.as_str() {
            "." => trailing_slash = last,
            ".." => {
                if segments.pop().is_none() {
                    return refuse(text, "its path climbs above the root with `..`");
                }
                trailing_slash = last;
            }
            _ => {
                segments.push(segment);
                trailing_slash = false;
            }
        }
    }
    let mut path = format!("/{}", segments.join("/"));
    if trailing_slash && path != "/" {
        path.push('/');
    }
    Ok(path)
}

fn decode_segment(text: &str, part: &str) -> Result<String, UrlError> {
    let bytes = part.as_bytes();
    let mut out = String::with_capacity(part.len());
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b == b'%' {
            let (Some(hi), Some(lo)) = (
                bytes.get(i + 1).and_then(|b| hex_value(*b)),
                bytes.get(i + 2).and_then(|b| hex_value(*b)),
            ) else {
                return refuse(
                    text,
                    "its path has a `%` that is not followed by two hex digits",
                );
            };
            let decoded = hi * 16 + lo;
            if is_unreserved(decoded) {
                out.push(decoded as char);
            } else if decoded == b'/' || decoded == b'\\' || decoded < 0x20 || decoded == 0x7f {
                return refuse(
                    text,
                    format_args!(
                        "its path has an encoded `/`, `\\` or control character (`%{:02X}`)",
                        decoded
                    ),
                );
            } else {
                out.push_str(&format!("%{decoded:02X}"));
            }
            i += 3;
        } else if is_pchar(b) {
            out.push(b as char);
            i += 1;
        } else {
            return refuse(
                text,
                format_args!(
                    "its path contains `{}`, which must be percent-encoded",
                    b as char
                ),
            );
        }
    }
    Ok(out)
}

fn normalize_query(text: &str, raw: &str) -> Result<String, UrlError> {
    let bytes = raw.as_bytes();
    let mut out = String::with_capacity(raw.len());
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b == b'%' {
            let (Some(hi), Some(lo)) = (
                bytes.get(i + 1).and_then(|b| hex_value(*b)),
                bytes.get(i + 2).and_then(|b| hex_value(*b)),
            ) else {
                return refuse(
                    text,
                    "its query has a `%` that is not followed by two hex digits",
                );
            };
            out.push_str(&format!("%{:02X}", hi * 16 + lo));
            i += 3;
        } else if is_pchar(b) || b == b'/' || b == b'?' {
            out.push(b as char);
            i += 1;
        } else {
            return refuse(
                text,
                format_args!(
                    "its query contains `{}`, which must be percent-encoded",
                    b as char
                ),
            );
        }
    }
    Ok(out)
}

/// One entry of the whitelist: an origin and a path prefix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WhitelistEntry {
    scheme: Scheme,
    host: String,
    port: u16,
    /// Normalised, without a trailing `/` (except the root `/`).
    prefix: String,
}

impl WhitelistEntry {
    /// Parses one `wasgo/safety/url_whitelist` entry.
    ///
    /// # Errors
    /// A message when the entry is not a URL WasGo accepts or has a query.
    pub fn parse(entry: &str) -> Result<WhitelistEntry, UrlError> {
        let url =
            Url::parse(entry.trim()).map_err(|e| UrlError(format!("whitelist entry: {}", e.0)))?;
        if url.query.is_some() {
            return Err(UrlError(format!("whitelist entry `{entry}` has a query; entries are a scheme, host, port and path prefix")));
        }
        let mut prefix = url.path;
        while prefix.len() > 1 && prefix.ends_with('/') {
            prefix.pop();
        }
        Ok(WhitelistEntry {
            scheme: url.scheme,
            host: url.host,
            port: url.port,
            prefix,
        })
    }

    /// Whether `url` is on this entry's origin and inside its path prefix.
    pub fn allows(&self, url: &Url) -> bool {
        self.scheme == url.scheme
            && self.host == url.host
            && self.port == url.port
            && (self.prefix == "/"
                || url.path == self.prefix
                || url
                    .path
                    .strip_prefix(&self.prefix)
                    .is_some_and(|rest| rest.starts_with('/')))
    }
}

impl fmt::Display for WhitelistEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}://{}:{}{}",
            self.scheme.as_str(),
            self.host,
            self.port,
            self.prefix
        )
    }
}

/// The URLs level-2 networking may reach. Empty (the default) allows nothing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Whitelist {
    entries: Vec<WhitelistEntry>,
}

impl Whitelist {
    /// Parses the setting's entries; entries that do not parse are left out and described in
    /// the second value (the glue prints them as warnings).
    pub fn parse<S: AsRef<str>>(entries: impl IntoIterator<Item = S>) -> (Whitelist, Vec<String>) {
        let mut list = Whitelist::default();
        let mut problems = Vec::new();
        for entry in entries {
            match WhitelistEntry::parse(entry.as_ref()) {
                Ok(e) => list.entries.push(e),
                Err(e) => problems.push(e.0),
            }
        }
        (list, problems)
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn allows(&self, url: &Url) -> bool {
        self.entries.iter().any(|e| e.allows(url))
    }

    /// Parses `text` and checks it against the list.
    ///
    /// # Errors
    /// The reason, ready for `wasgo.last_error`.
    pub fn check(&self, text: &str) -> Result<Url, UrlError> {
        let url = Url::parse(text)?;
        self.check_url(url)
    }

    /// Checks an already parsed URL (a redirect target).
    ///
    /// # Errors
    /// The reason, ready for `wasgo.last_error`.
    pub fn check_url(&self, url: Url) -> Result<Url, UrlError> {
        if self.allows(&url) {
            return Ok(url);
        }
        if self.entries.is_empty() {
            return Err(UrlError(format!("URL `{url}` is refused: the project's `wasgo/safety/url_whitelist` is empty, so mods may reach no URL")));
        }
        Err(UrlError(format!(
            "URL `{url}` is refused: it matches no entry of `wasgo/safety/url_whitelist` (scheme, host, port and path prefix must all match)"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(entries: &[&str]) -> Whitelist {
        let (list, problems) = Whitelist::parse(entries);
        assert!(problems.is_empty(), "{problems:?}");
        list
    }

    #[test]
    fn parses_and_normalises() {
        let u = Url::parse("HTTP://Example.COM./a/./b/../c?x=1#frag").unwrap();
        assert_eq!(
            (u.scheme(), u.host(), u.port(), u.path(), u.query()),
            (Scheme::Http, "example.com", 80, "/a/c", Some("x=1"))
        );
        assert_eq!(u.to_string(), "http://example.com/a/c?x=1");
        assert_eq!(Url::parse("https://h").unwrap().path(), "/");
        assert_eq!(
            Url::parse("https://h:443/").unwrap(),
            Url::parse("https://h/").unwrap()
        );
        assert_eq!(
            Url::parse("http://h/%61pi/%7e%2E/x").unwrap().path(),
            "/api/~./x"
        );
        assert_eq!(Url::parse("http://h/a%3ab").unwrap().path(), "/a%3Ab");
        assert_eq!(
            Url::parse("http://[::1]:8080/x").unwrap().connect_host(),
            "::1"
        );
        assert_eq!(Url::parse("http://[0:0::1]/").unwrap().host(), "[::1]");
        assert_eq!(Url::parse("http://h/a/").unwrap().path(), "/a/");
        assert_eq!(Url::parse("http://h/a/b/..").unwrap().path(), "/a/");
    }

    #[test]
    fn tricks_are_refused() {
        for bad in [
            "ftp://h/",
            "file:///etc/passwd",
            "//h/x",
            "http:/h/x",
            "http://user@h/",
            "http://allowed.com@evil.com/",
            "http://:pw@h/",
            "http://h%2ecom/",
            "http://h/a\\..\\b",
            "http://h\\@evil/",
            "http://h/a b",
            "http://h/\u{e9}",
            "http://h/%2f..",
            "http://h/%5c",
            "http://h/%00",
            "http://h/%zz",
            "http://h/..",
            "http://h/a/../../b",
            "http://h/%2e%2e/x",
            "http://h:0/",
            "http://h:65536/",
            "http://h:+80/",
            "http://h:/",
            "http://h:80:81/",
            "http://0x7f.1/",
            "http://2130706433/",
            "http://127.1/",
            "http://010.0.0.1/",
            "http://h..com/",
            "http://h_ok.com/<x>",
            "http:///x",
            "http://[::1/",
            "http://[zz]/",
        ] {
            assert!(
                Url::parse(bad).is_err(),
                "{bad:?} should be refused, got {:?}",
                Url::parse(bad)
            );
        }
        assert!(Url::parse(&format!("http://h/{}", "a".repeat(MAX_URL_BYTES))).is_err());
        // Too long and not ASCII, a character across byte 64 (a redirect's `Location` is any
        // UTF-8): refused, the message cut before that character.
        let long = format!("http://{}é{}", "a".repeat(56), "a".repeat(2100));
        assert!(!long.is_char_boundary(64));
        let e = Url::parse(&long).unwrap_err();
        assert!(e.to_string().contains("longer than"), "{e}");
        // `.` and `..` with `;` parameters are refused (servers that drop parameters would
        // resolve them); other segments may carry parameters.
        for bad in [
            "http://h/api/..;/admin",
            "http://h/api/%2e%2e;x/admin",
            "http://h/api/.;/x",
        ] {
            let e = Url::parse(bad).unwrap_err();
            assert!(e.to_string().contains("with parameters"), "{bad}: {e}");
        }
        assert_eq!(
            Url::parse("http://h/api/v1;jsessionid=1/x").unwrap().path(),
            "/api/v1;jsessionid=1/x"
        );
    }

    #[test]
    fn whitelist_checks_scheme_host_port_and_path_prefix_on_segments() {
        let wl = list(&["http://127.0.0.1:8000/api", "https://Example.com./pub/"]);
        for ok in [
            "http://127.0.0.1:8000/api",
            "http://127.0.0.1:8000/api/",
            "http://127.0.0.1:8000/api/x/y?z=1",
            "http://127.0.0.1:8000/x/../api/ok",
            "http://127.0.0.1:8000/%61pi/x",
            "https://example.com/pub",
            "https://EXAMPLE.com.:443/pub/a",
        ] {
            assert!(
                wl.check(ok).is_ok(),
                "{ok} should be allowed: {:?}",
                wl.check(ok)
            );
        }
        for refused in [
            "http://127.0.0.1:8001/api",
            "https://127.0.0.1:8000/api",
            "http://localhost:8000/api",
            "http://127.0.0.1/api",
            "http://127.0.0.1:8000/apix",
            "http://127.0.0.1:8000/API",
            "http://127.0.0.1:8000/",
            "http://127.0.0.1:8000/api/../secret",
            "http://127.0.0.1:8000/api/%2e%2e/secret",
            "http://127.0.0.1:8000@evil.com/api",
            "http://evil.com/?http://127.0.0.1:8000/api",
            "http://example.com/pub",
            "https://example.com:8443/pub",
            "https://sub.example.com/pub",
            "https://example.com/public",
        ] {
            assert!(wl.check(refused).is_err(), "{refused} should be refused");
        }
    }

    #[test]
    fn root_entry_allows_the_whole_origin_and_empty_list_allows_nothing() {
        let wl = list(&["http://h:9/"]);
        assert!(wl.check("http://h:9/anything/at/all").is_ok());
        assert!(Whitelist::default()
            .check("http://h/")
            .unwrap_err()
            .0
            .contains("is empty"));
    }

    #[test]
    fn bad_entries_are_reported_and_skipped() {
        let (wl, problems) =
            Whitelist::parse(["http://ok/", "http://u@h/", "http://h/?q=1", "nonsense"]);
        assert_eq!(problems.len(), 3, "{problems:?}");
        assert!(wl.check("http://ok/x").is_ok());
    }

    #[test]
    fn redirects_resolve_against_the_current_url() {
        let base = Url::parse("http://h:8000/api/a/b?q").unwrap();
        assert_eq!(
            base.join("/api/c").unwrap().to_string(),
            "http://h:8000/api/c"
        );
        assert_eq!(base.join("c").unwrap().to_string(), "http://h:8000/api/a/c");
        assert_eq!(
            base.join("../c").unwrap().to_string(),
            "http://h:8000/api/c"
        );
        assert_eq!(
            base.join("?x").unwrap().to_string(),
            "http://h:8000/api/a/b?x"
        );
        assert_eq!(
            base.join("//other/p").unwrap().to_string(),
            "http://other/p"
        );
        assert_eq!(
            base.join("https://o:1/p").unwrap().to_string(),
            "https://o:1/p"
        );
        assert!(base.join("../../../../x").is_err());
        assert!(base.join("javascript:alert(1)").is_err());
        assert!(base.join("http://a@b/").is_err());
    }
}
