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
use std::collections::{BTreeSet, VecDeque};
use std::sync::{Arc, Weak};
use std::time::Duration;
use wasgo_catalog::ErrorCode;

/// Requests one instance may have in flight at once.
pub const MAX_IN_FLIGHT: usize = 8;
/// Finished outcomes one instance keeps until they are read.
pub const MAX_KEPT: usize = 16;
/// The largest request body a mod may send.
pub const MAX_REQUEST_BODY_BYTES: usize = 8 << 20;
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
    in_flight: BTreeSet<i32>,
    finished: VecDeque<(i32, Kept)>,
    /// `(id, status)` pairs for `http_response`, oldest first (at most [`MAX_KEPT`]).
    notify: DeliveryQueue<(i32, i32)>,
}

impl Default for TableInner {
    fn default() -> TableInner {
        TableInner {
            last_id: 0,
            in_flight: BTreeSet::new(),
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

impl HttpTable {
    pub fn new(config: NetworkConfig) -> HttpTable {
        HttpTable {
            config,
            inner: Mutex::new(TableInner::default()),
            notified: std::sync::atomic::AtomicBool::new(false),
        }
    }

    /// A new request id, or `None` when [`MAX_IN_FLIGHT`] are in flight. Ids count up from 1
    /// and wrap back to 1 after `i32::MAX`.
    pub(crate) fn begin(&self) -> Option<i32> {
        let mut inner = self.inner.lock();
        if inner.in_flight.len() >= MAX_IN_FLIGHT {
            return None;
        }
        inner.last_id = if inner.last_id == i32::MAX {
            1
        } else {
            inner.last_id + 1
        };
        let id = inner.last_id;
        inner.in_flight.insert(id);
        Some(id)
    }

    /// Forgets a request that never started.
    pub(crate) fn abort(&self, id: i32) {
        self.inner.lock().in_flight.remove(&id);
    }

    /// Records the outcome of request `id` and queues its `http_response`.
    fn finish(&self, id: i32, outcome: HttpOutcome) {
        let mut inner = self.inner.lock();
        if !inner.in_flight.remove(&id) {
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
        if inner.in_flight.contains(&id) {
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
        inner.in_flight.contains(&id)
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
        let ids: Vec<i32> = (0..MAX_IN_FLIGHT).map(|_| t.begin().unwrap()).collect();
        assert_eq!(ids, (1..=MAX_IN_FLIGHT as i32).collect::<Vec<_>>());
        assert_eq!(t.begin(), None);
        t.finish(ids[0], ok(b"x"));
        assert!(t.begin().is_some());
    }

    #[test]
    fn outcomes_are_kept_until_read_and_bounded() {
        let t = HttpTable::new(NetworkConfig::default());
        let id = t.begin().unwrap();
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
            last = t.begin().unwrap();
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
        let a = t.begin().unwrap();
        let b = t.begin().unwrap();
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
        let id = table.begin().unwrap();
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
