//! The HTTP redirect policy, as a pure function next to the URL whitelist ([`crate::urls`]).
//!
//! The game's HTTP host follows redirects by hand with [`follow`]: the target is resolved against
//! the current URL and must pass the same whitelist as the first request; at most
//! [`MAX_REDIRECTS`] hops; 303 — and 301/302 for anything but `GET` — continue as a `GET`
//! without body, as browsers do; 307 and 308 keep the method and the body.

use crate::http::{HttpMethod, MAX_REDIRECTS};
use crate::urls::{Url, Whitelist};

/// Whether `code` is a redirect the host follows.
pub fn is_redirect(code: i32) -> bool {
    matches!(code, 301 | 302 | 303 | 307 | 308)
}

/// Where a request goes after a redirect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hop {
    pub url: Url,
    pub method: HttpMethod,
    /// Whether the request body is sent again.
    pub send_body: bool,
}

/// Why a redirect is not followed (the request ends with -3).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RedirectError {
    #[error("it was redirected more than {MAX_REDIRECTS} times (last from `{from}`)")]
    TooMany { from: String },
    #[error("`{from}` redirected to `{location}`, which is refused: {reason}")]
    Refused {
        from: String,
        location: String,
        reason: String,
    },
}

/// The next hop of a request at `current` (sent with `method`, `send_body`) that answered
/// redirect `code` to `location`, after `hops` redirects already followed.
///
/// # Errors
/// [`RedirectError::TooMany`] past [`MAX_REDIRECTS`]; [`RedirectError::Refused`] when the
/// location does not resolve or the whitelist refuses it.
pub fn follow(
    current: &Url,
    method: HttpMethod,
    send_body: bool,
    code: i32,
    location: &str,
    hops: u32,
    whitelist: &Whitelist,
) -> Result<Hop, RedirectError> {
    if hops >= MAX_REDIRECTS {
        return Err(RedirectError::TooMany {
            from: current.to_string(),
        });
    }
    let url = current
        .join(location)
        .and_then(|u| whitelist.check_url(u))
        .map_err(|e| RedirectError::Refused {
            from: current.to_string(),
            location: location.escape_debug().to_string(),
            reason: e.to_string(),
        })?;
    let as_get = code == 303 || (matches!(code, 301 | 302) && method != HttpMethod::Get);
    Ok(Hop {
        url,
        method: if as_get { HttpMethod::Get } else { method },
        send_body: send_body && !as_get,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list() -> Whitelist {
        Whitelist::parse(["https://api.example.com/v1/"]).0
    }

    fn at(url: &str) -> Url {
        Url::parse(url).unwrap()
    }

    #[test]
    fn a_relative_location_inside_the_whitelist_is_followed() {
        let hop = follow(
            &at("https://api.example.com/v1/a"),
            HttpMethod::Get,
            false,
            302,
            "b?x=1",
            0,
            &list(),
        )
        .unwrap();
        assert_eq!(hop.url.to_string(), "https://api.example.com/v1/b?x=1");
        assert_eq!(hop.method, HttpMethod::Get);
    }

    #[test]
    fn a_location_outside_the_whitelist_is_refused() {
        let from = at("https://api.example.com/v1/a");
        for location in [
            "https://evil.example/",
            "/v2/x",
            "http://api.example.com/v1/a",
            "//evil.example/v1/",
        ] {
            let e = follow(&from, HttpMethod::Get, false, 301, location, 0, &list());
            assert!(
                matches!(e, Err(RedirectError::Refused { .. })),
                "{location}: {e:?}"
            );
        }
    }

    #[test]
    fn more_than_max_redirects_is_refused() {
        let from = at("https://api.example.com/v1/a");
        assert!(follow(
            &from,
            HttpMethod::Get,
            false,
            302,
            "b",
            MAX_REDIRECTS - 1,
            &list()
        )
        .is_ok());
        let e = follow(
            &from,
            HttpMethod::Get,
            false,
            302,
            "b",
            MAX_REDIRECTS,
            &list(),
        );
        assert!(matches!(e, Err(RedirectError::TooMany { .. })));
    }

    #[test]
    fn see_other_and_moved_posts_become_gets_without_body() {
        let from = at("https://api.example.com/v1/a");
        for code in [301, 302, 303] {
            let hop = follow(&from, HttpMethod::Post, true, code, "b", 0, &list()).unwrap();
            assert_eq!(
                (hop.method, hop.send_body),
                (HttpMethod::Get, false),
                "{code}"
            );
        }
        for code in [307, 308] {
            let hop = follow(&from, HttpMethod::Post, true, code, "b", 0, &list()).unwrap();
            assert_eq!(
                (hop.method, hop.send_body),
                (HttpMethod::Post, true),
                "{code}"
            );
        }
        let hop = follow(&from, HttpMethod::Put, true, 303, "b", 0, &list()).unwrap();
        assert_eq!(hop.method, HttpMethod::Get);
    }

    #[test]
    fn only_the_five_redirect_codes_are_followed() {
        for code in [301, 302, 303, 307, 308] {
            assert!(is_redirect(code));
        }
        for code in [200, 300, 304, 305, 306, 309, 404] {
            assert!(!is_redirect(code));
        }
    }
}
