//! Level-2 HTTP: `wasgo.http_request` and `wasgo.http_body`.
//!
//! The core checks everything a mod can get wrong or abuse — the `network` permission, the
//! method, the body size, the URL against the whitelist ([`crate::urls`]), the number of
//! requests in flight — and hands an [`HttpCall`] to the game's [`HttpHost`] (the Godot glue;
//! from `main` the hand-over goes through the [`MainThreadBridge`](crate::bridge::MainThreadBridge)).
//! The host runs it with [`crate::http_wire::Exchange`] over Godot's non-blocking streams, which
//! follows redirects only to whitelisted URLs (checking each hop with the same [`Whitelist`]),
//! caps the response at [`NetworkConfig::max_response_bytes`] and every other part of the answer
//! at fixed bounds; the host reports the outcome with [`HttpCall::finish`].
//!
//! Outcomes wait in the instance's [`HttpTable`]: the owner calls the mod's export
//! `http_response(id, status)` for each (status is the HTTP status code, or a negative ABI code
//! when the request failed), and the mod reads the body with `http_body(id, out_ptr, out_cap)`.
//! Everything is bounded: [`MAX_IN_FLIGHT`] requests at a time (-7 beyond), at most
//! [`MAX_KEPT`] finished outcomes kept (the oldest unread one is dropped first), a body is freed
//! once read whole. When the instance ends, its table goes with its store and the host abandons
//! the instance's requests ([`HttpCall::is_abandoned`]).
//!
//! The host functions themselves (reading the mod's memory) are in
//! [`http_calls`](crate::http_calls); this file is the service they use.

use crate::delivery::DeliveryQueue;
use crate::ids::InstanceKey;
use crate::urls::{Url, Whitelist};
use parking_lot::Mutex;
use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Weak};
use std::time::Duration;
use wasgo_catalog::ErrorCode;

/// Requests one instance may have in flight at once.
pub const MAX_IN_FLIGHT: usize = 8;
/// Finished outcomes one instance keeps until they are read.
pub const MAX_KEPT: usize = 16;
/// The largest request body a mod may send.
pub const MAX_REQUEST_BODY_BYTES: usize = 8 << 20;
/// The request body bytes one instance may have in flight at once, all its requests together:
/// a body is the host's copy until its request ends (up to [`REQUEST_TIMEOUT`]), outside the
/// mod's memory cap, so eight requests of the largest body were 64 MiB of game memory per
/// instance. A request past it gets -7 (busy) until one ends.
pub const MAX_REQUEST_BYTES_IN_FLIGHT: usize = MAX_REQUEST_BODY_BYTES;
/// Requests of all mods in flight at once in the whole game (lookups of ended requests still
/// running included: Godot's resolver has 256 items for the whole game).
pub const MAX_GAME_REQUESTS: usize = 64;
/// Request body bytes of all mods in flight at once in the whole game: each instance's own
/// bound times the number of instances was unbounded (eight nodes of one mod held 64 MiB).
pub const MAX_GAME_REQUEST_BYTES: usize = 4 * MAX_REQUEST_BYTES_IN_FLIGHT;

/// Why the game's HTTP host refuses a new request with a body of `body_len` bytes while
/// `requests` of all mods, with bodies of `bytes` together, are in flight (`None`: it may
/// start). The refusal is -7 (busy): the mod tries again after an answer.
pub fn game_refusal(requests: usize, bytes: usize, body_len: usize) -> Option<String> {
    if requests >= MAX_GAME_REQUESTS {
        Some(format!(
            "the game already has {MAX_GAME_REQUESTS} HTTP requests of mods in flight; try again later"
        ))
    } else if bytes.saturating_add(body_len) > MAX_GAME_REQUEST_BYTES {
        Some(format!(
            "the game's mods already send {bytes} bytes of request bodies, and this one's {body_len} would pass the {MAX_GAME_REQUEST_BYTES} they may send at once; try again later"
        ))
    } else {
        None
    }
}
/// Redirects followed for one request.
pub const MAX_REDIRECTS: u32 = 5;
/// How long one request may take from start to its last byte, redirects included.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// The default response cap (`wasgo/limits/http_response_kb` = 1024).
pub const DEFAULT_MAX_RESPONSE_BYTES: u64 = crate::limits::Limits::DEFAULT_HTTP_RESPONSE_KB << 10;

/// The HTTP methods a mod may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HttpMethod {
    Get,
    Post,
    Put,
    Patch,
    Delete,
}

impl HttpMethod {
    /// Parses `GET`, `POST`, `PUT`, `PATCH` or `DELETE` (any case).
    pub fn parse(s: &str) -> Option<HttpMethod> {
        Some(match s.to_ascii_uppercase().as_str() {
            "GET" => HttpMethod::Get,
            "POST" => HttpMethod::Post,
            "PUT" => HttpMethod::Put,
            "PATCH" => HttpMethod::Patch,
            "DELETE" => HttpMethod::Delete,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            HttpMethod::Get => "GET",
            HttpMethod::Post => "POST",
            HttpMethod::Put => "PUT",
            HttpMethod::Patch => "PATCH",
            HttpMethod::Delete => "DELETE",
        }
    }

    /// Whether the request carries a body (and a `Content-Length`).
    pub fn has_body(self) -> bool {
        matches!(self, HttpMethod::Post | HttpMethod::Put | HttpMethod::Patch)
    }
}

/// What an instance's requests may reach, fixed at instantiation.
#[derive(Debug, Clone)]
pub struct NetworkConfig {
    /// `wasgo/safety/url_whitelist`, parsed. Empty by default: no URL is reachable.
    pub whitelist: Arc<Whitelist>,
    /// `wasgo/limits/http_response_kb` in bytes (default 1 MiB): a longer body is cut off and
    /// the request fails with -3.
    pub max_response_bytes: u64,
}

impl Default for NetworkConfig {
    fn default() -> Self {
        // One empty whitelist for every default configuration (made at each level-1 start).
        static EMPTY: std::sync::OnceLock<Arc<Whitelist>> = std::sync::OnceLock::new();
        NetworkConfig {
            whitelist: EMPTY.get_or_init(|| Arc::new(Whitelist::default())).clone(),
            max_response_bytes: DEFAULT_MAX_RESPONSE_BYTES,
        }
    }
}

/// How a request ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HttpOutcome {
    /// A final (non-redirect) response and its whole body.
    Response { status: i32, body: Vec<u8> },
    /// The request failed: -3 refused (a redirect off the whitelist, too many redirects, a body
    /// over the cap), -5 the network failed (cannot connect, timed out, connection lost).
    Failed { code: i32, message: String },
}

impl HttpOutcome {
    /// What `http_response` receives as `status`.
    pub fn status(&self) -> i32 {
        match self {
            HttpOutcome::Response { status, .. } => *status,
            HttpOutcome::Failed { code, .. } => *code,
        }
    }
}

/// One checked request for the host to perform.
#[derive(Debug)]
pub struct HttpCall {
    pub id: i32,
    pub key: InstanceKey,
    /// The mod's name, for messages.
    pub mod_name: String,
    pub method: HttpMethod,
    /// Already checked against `whitelist`.
    pub url: Url,
    pub body: Vec<u8>,
    /// For checking redirect targets.
    pub whitelist: Arc<Whitelist>,
    pub max_response_bytes: u64,
    pub(crate) table: Weak<HttpTable>,
    /// The instance's permissions: a request whose `network` permission the game revoked
    /// while it ran stops at its next step and answers -6 ([`HttpCall::revoked`]).
    pub(crate) permissions: Arc<crate::permissions::Permissions>,
}

impl HttpCall {
    /// True once the instance has ended: the host should stop the request and drop it.
    pub fn is_abandoned(&self) -> bool {
        self.table.strong_count() == 0
    }

    /// True once the game revoked the instance's `network` permission (`revoke_permission`
    /// takes it back at once: the request stops, nothing more is sent or delivered).
    pub fn revoked(&self) -> bool {
        !self
            .permissions
            .has(crate::permissions::Permission::Network)
    }

    /// The answer of a request whose permission was revoked while it ran.
    pub fn revoked_outcome(&self) -> HttpOutcome {
        HttpOutcome::Failed {
            code: ErrorCode::PermissionDenied.code(),
            message: format!(
                "HTTP request {} of `{}`: the `network` permission was revoked while it ran",
                self.id, self.mod_name
            ),
        }
    }

    /// Reports the outcome (ignored if the instance has ended; -6 when the permission was
    /// revoked meanwhile).
    pub fn finish(&self, outcome: HttpOutcome) {
        if let Some(table) = self.table.upgrade() {
            let outcome = if self.revoked() {
                self.revoked_outcome()
            } else {
                outcome
            };
            table.finish(self.id, outcome);
        }
    }
}

/// The game side of HTTP; implemented by the Godot glue. `start` is only ever called on the main
/// thread.
pub trait HttpHost: Send + Sync {
    /// Starts `call`; the host reports its outcome later with [`HttpCall::finish`].
    ///
    /// # Errors
    /// Why the request cannot even start (the mod gets the error's code and message).
    fn start(&self, call: HttpCall) -> Result<(), HttpStartError>;
}

/// Why a host could not start a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HttpStartError {
    /// The game-wide number of requests in flight is reached: -7 (busy), try again later.
    Busy(String),
    /// Anything else (no network, shutting down): -5.
    Failed(String),
}

impl HttpStartError {
    /// The code the mod gets.
    pub fn code(&self) -> i32 {
        match self {
            HttpStartError::Busy(_) => wasgo_catalog::ErrorCode::Busy.code(),
            HttpStartError::Failed(_) => wasgo_catalog::ErrorCode::CallFailed.code(),
        }
    }

    /// What is wrong and what to do.
    pub fn into_message(self) -> String {
        match self {
            HttpStartError::Busy(m) | HttpStartError::Failed(m) => m,
        }
    }
}

/// A finished request waiting to be read.
#[derive(Debug, Clone)]
enum Kept {
    Body(Arc<Vec<u8>>),
    Failed { code: i32, message: String },
}

#[derive(Debug)]
struct TableInner {
    last_id: i32,
    /// The requests in flight and the length of each one's body.
    in_flight: BTreeMap<i32, usize>,
    finished: VecDeque<(i32, Kept)>,
    /// `(id, status)` pairs for `http_response`, oldest first (at most [`MAX_KEPT`]).
    notify: DeliveryQueue<(i32, i32)>,
}

impl Default for TableInner {
    fn default() -> TableInner {
        TableInner {
            last_id: 0,
            in_flight: BTreeMap::new(),
            finished: VecDeque::new(),
            notify: DeliveryQueue::new(MAX_KEPT),
        }
    }
}

/// One instance's requests: ids, what is in flight, finished outcomes and pending
/// `http_response` calls. Owned by the instance's store; everyone else holds a `Weak`.
#[derive(Debug)]
pub struct HttpTable {
    pub(crate) config: NetworkConfig,
    inner: Mutex<TableInner>,
    /// Whether `http_response` calls wait in `inner.notify` (kept beside the lock so that the
    /// owner's check after every entry takes no lock).
    notified: std::sync::atomic::AtomicBool,
}

/// What `http_body` finds for an id.
#[derive(Debug)]
pub(crate) enum Lookup {
    Missing,
    InFlight,
    Body(Arc<Vec<u8>>),
    Failed { code: i32, message: String },
}

/// Why [`HttpTable::begin`] refused a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TooBusy {
    /// [`MAX_IN_FLIGHT`] requests are in flight.
    Requests,
    /// The bodies in flight (this many bytes) and the new one would pass
    /// [`MAX_REQUEST_BYTES_IN_FLIGHT`].
    Bytes(usize),
}

impl HttpTable {
    pub fn new(config: NetworkConfig) -> HttpTable {
        HttpTable {
            config,
            inner: Mutex::new(TableInner::default()),
            notified: std::sync::atomic::AtomicBool::new(false),
        }
    }

    /// A new request id for a request whose body is `body_len` bytes, or why it must wait:
    /// [`MAX_IN_FLIGHT`] requests are in flight, or their bodies and this one together would
    /// pass [`MAX_REQUEST_BYTES_IN_FLIGHT`]. Ids count up from 1 and wrap back to 1 after
    /// `i32::MAX`.
    pub(crate) fn begin(&self, body_len: usize) -> Result<i32, TooBusy> {
        let mut inner = self.inner.lock();
        if inner.in_flight.len() >= MAX_IN_FLIGHT {
            return Err(TooBusy::Requests);
        }
        let bytes: usize = inner.in_flight.values().sum();
        if bytes.saturating_add(body_len) > MAX_REQUEST_BYTES_IN_FLIGHT {
            return Err(TooBusy::Bytes(bytes));
        }
        inner.last_id = if inner.last_id == i32::MAX {
            1
        } else {
            inner.last_id + 1
        };
        let id = inner.last_id;
        inner.in_flight.insert(id, body_len);
        Ok(id)
    }

    /// Forgets a request that never started.
    pub(crate) fn abort(&self, id: i32) {
        self.inner.lock().in_flight.remove(&id);
    }

    /// Records the outcome of request `id` and queues its `http_response`.
    fn finish(&self, id: i32, outcome: HttpOutcome) {
        let mut inner = self.inner.lock();
        if inner.in_flight.remove(&id).is_none() {
            return;
        }
        inner.notify.push((id, outcome.status()));
        self.notified
            .store(true, std::sync::atomic::Ordering::Release);
        crate::events::note_activity();
        let kept = match outcome {
            HttpOutcome::Response { body, .. } => Kept::Body(Arc::new(body)),
            HttpOutcome::Failed { code, message } => Kept::Failed { code, message },
        };
        inner.finished.push_back((id, kept));
        while inner.finished.len() > MAX_KEPT {
            inner.finished.pop_front();
        }
    }

    /// Takes the pending `http_response(id, status)` calls, oldest first.
    pub fn take_notifications(&self) -> Vec<(i32, i32)> {
        let mut inner = self.inner.lock();
        self.notified
            .store(false, std::sync::atomic::Ordering::Release);
        inner.notify.take().into()
    }

    /// Whether `http_response` calls wait (no lock taken).
    pub fn has_notifications(&self) -> bool {
        self.notified.load(std::sync::atomic::Ordering::Acquire)
    }

    /// Puts back calls that could not be made yet (while `main` holds the instance).
    pub fn requeue_notifications(&self, notes: Vec<(i32, i32)>) {
        let mut inner = self.inner.lock();
        inner.notify.requeue(notes.into());
        self.notified.store(
            !inner.notify.is_empty(),
            std::sync::atomic::Ordering::Release,
        );
        // Still to deliver: the owner's next round must look again.
        crate::events::note_activity();
    }

    pub(crate) fn lookup(&self, id: i32) -> Lookup {
        let inner = self.inner.lock();
        if inner.in_flight.contains_key(&id) {
            return Lookup::InFlight;
        }
        match inner.finished.iter().find(|(i, _)| *i == id) {
            Some((_, Kept::Body(body))) => Lookup::Body(body.clone()),
            Some((_, Kept::Failed { code, message })) => Lookup::Failed {
                code: *code,
                message: message.clone(),
            },
            None => Lookup::Missing,
        }
    }

    /// Whether request `id` may still reach the mod: in flight, its answer kept or its
    /// `http_response` call waiting. A request dropped from all three (its notification pushed
    /// out of the bounded queue) never will.
    pub(crate) fn may_still_answer(&self, id: i32) -> bool {
        let inner = self.inner.lock();
        inner.in_flight.contains_key(&id)
            || inner.finished.iter().any(|(i, _)| *i == id)
            || inner.notify.iter().any(|(i, _)| *i == id)
    }

    /// Forgets a finished request once it has been read.
    pub(crate) fn consume(&self, id: i32) {
        self.inner.lock().finished.retain(|(i, _)| *i != id);
    }

    /// Requests in flight now.
    pub fn in_flight(&self) -> usize {
        self.inner.lock().in_flight.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(body: &[u8]) -> HttpOutcome {
        HttpOutcome::Response {
            status: 200,
            body: body.to_vec(),
        }
    }

    #[test]
    fn in_flight_requests_are_capped() {
        let t = HttpTable::new(NetworkConfig::default());
        let ids: Vec<i32> = (0..MAX_IN_FLIGHT).map(|_| t.begin(0).unwrap()).collect();
        assert_eq!(ids, (1..=MAX_IN_FLIGHT as i32).collect::<Vec<_>>());
        assert_eq!(t.begin(0), Err(TooBusy::Requests));
        t.finish(ids[0], ok(b"x"));
        assert!(t.begin(0).is_ok());
    }

    #[test]
    fn the_game_bounds_all_mods_requests_and_their_bodies() {
        assert_eq!(game_refusal(0, 0, MAX_GAME_REQUEST_BYTES), None);
        assert_eq!(game_refusal(MAX_GAME_REQUESTS - 1, 0, 0), None);
        assert!(game_refusal(MAX_GAME_REQUESTS, 0, 0)
            .unwrap()
            .contains("64 HTTP requests"));
        let full = game_refusal(3, MAX_GAME_REQUEST_BYTES, 1).unwrap();
        assert!(full.contains("33554432 bytes"), "{full}");
        assert_eq!(game_refusal(3, MAX_GAME_REQUEST_BYTES, 0), None);
        assert!(game_refusal(3, 1, usize::MAX).is_some());
    }

    #[test]
    fn request_bodies_in_flight_are_bounded_together() {
        let t = HttpTable::new(NetworkConfig::default());
        let big = MAX_REQUEST_BODY_BYTES;
        let a = t.begin(big / 2).unwrap();
        let b = t.begin(big / 2).unwrap();
        // Full: even a one-byte body waits, a bodiless request does not.
        assert_eq!(t.begin(1), Err(TooBusy::Bytes(big)));
        let c = t.begin(0).unwrap();
        // An ended request (answered, or never started) gives its bytes back.
        t.finish(a, ok(b""));
        assert_eq!(t.begin(big / 2 + 1), Err(TooBusy::Bytes(big / 2)));
        t.abort(b);
        assert!(t.begin(big).is_ok());
        t.finish(c, ok(b""));
        assert_eq!(t.begin(usize::MAX), Err(TooBusy::Bytes(big)));
    }

    #[test]
    fn outcomes_are_kept_until_read_and_bounded() {
        let t = HttpTable::new(NetworkConfig::default());
        let id = t.begin(0).unwrap();
        assert!(matches!(t.lookup(id), Lookup::InFlight));
        t.finish(id, ok(b"body"));
        assert!(matches!(t.lookup(id), Lookup::Body(b) if b.as_slice() == b"body"));
        assert_eq!(t.take_notifications(), vec![(id, 200)]);
        t.consume(id);
        assert!(matches!(t.lookup(id), Lookup::Missing));
        // Finishing an unknown id does nothing.
        t.finish(999, ok(b""));
        assert!(t.take_notifications().is_empty());
        // Only the newest MAX_KEPT outcomes survive.
        let mut last = 0;
        for _ in 0..MAX_KEPT + 4 {
            last = t.begin(0).unwrap();
            t.finish(
                last,
                HttpOutcome::Failed {
                    code: -5,
                    message: "down".into(),
                },
            );
        }
        assert_eq!(t.take_notifications().len(), MAX_KEPT);
        assert!(matches!(t.lookup(last), Lookup::Failed { code: -5, .. }));
        assert!(matches!(t.lookup(last - MAX_KEPT as i32), Lookup::Missing));
    }

    #[test]
    fn requeued_notifications_come_first_and_stay_bounded() {
        let t = HttpTable::new(NetworkConfig::default());
        let a = t.begin(0).unwrap();
        let b = t.begin(0).unwrap();
        t.finish(a, ok(b""));
        let first = t.take_notifications();
        t.finish(
            b,
            HttpOutcome::Failed {
                code: -3,
                message: "no".into(),
            },
        );
        t.requeue_notifications(first);
        assert_eq!(t.take_notifications(), vec![(a, 200), (b, -3)]);
        t.requeue_notifications((0..100).map(|i| (i, 200)).collect());
        assert_eq!(t.take_notifications().len(), MAX_KEPT);
    }

    #[test]
    fn methods_parse_case_insensitively() {
        assert_eq!(HttpMethod::parse("post"), Some(HttpMethod::Post));
        assert_eq!(HttpMethod::parse("CONNECT"), None);
        assert_eq!(HttpMethod::parse("TRACE"), None);
        assert!(HttpMethod::Post.has_body() && !HttpMethod::Get.has_body());
    }

    #[test]
    fn abandoned_once_the_table_is_gone() {
        let table = Arc::new(HttpTable::new(NetworkConfig::default()));
        let id = table.begin(0).unwrap();
        let call = HttpCall {
            id,
            key: 1,
            mod_name: "m".into(),
            method: HttpMethod::Get,
            url: Url::parse("http://h/").unwrap(),
            body: vec![],
            whitelist: Arc::new(Whitelist::default()),
            max_response_bytes: 1,
            table: Arc::downgrade(&table),
            permissions: {
                let p = crate::permissions::Permissions::new();
                p.grant(crate::permissions::Permission::Network);
                p
            },
        };
        assert!(!call.is_abandoned());
        call.finish(ok(b"done"));
        assert_eq!(table.take_notifications(), vec![(id, 200)]);
        drop(table);
        assert!(call.is_abandoned());
        call.finish(ok(b"late"));
    }
}
