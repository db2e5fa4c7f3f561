//! Level-2 HTTP on Godot's `HTTPClient`, owned by WasGo and polled on the main thread.
//!
//! The core has already checked a request (permission, method, body size, URL against the
//! whitelist, requests in flight) when it reaches [`GodotHttpHost::start`]. Each request gets its
//! own `HTTPClient` — a `RefCounted` outside the scene tree, so no mod can reach it through
//! `get_node` — and is advanced by [`poll_all`] once per frame (`on_main_loop_frame`). Here:
//!
//! - redirects are followed by hand, by the core's policy (`wasgo_core::redirect::follow`: each
//!   target resolved against the current URL and checked against the same whitelist, at most
//!   `MAX_REDIRECTS` hops, 303 and 301/302 for anything but `GET` continue as a `GET` without
//!   body); a refused hop ends the request with -3;
//! - a declared `Content-Length` over the response cap fails at once, and a body read in chunks
//!   is cut off as soon as it passes the cap (-3): at most the cap plus one 64 KiB chunk is ever
//!   held;
//! - a request ends with -5 on any network error or after [`REQUEST_TIMEOUT`];
//! - requests of an instance that has ended are closed at the next frame.

use crate::state::{self, Part};
use godot::classes::http_client::{Method, Status};
use godot::classes::{HttpClient, TlsOptions};
use godot::global::Error;
use godot::prelude::*;
use std::cell::RefCell;
use std::time::Instant;
use wasgo_catalog::ErrorCode;
use wasgo_core::http::REQUEST_TIMEOUT;
use wasgo_core::redirect;
use wasgo_core::urls::{Scheme, Url};
use wasgo_core::{HttpCall, HttpHost, HttpMethod, HttpOutcome};

/// Requests in flight in the whole game (each instance also has its own cap).
const MAX_TRANSFERS: usize = 64;
/// Bytes `HTTPClient` reads per chunk.
const READ_CHUNK_BYTES: i32 = 64 << 10;
/// Poll rounds one request gets per frame.
const ROUNDS_PER_FRAME: usize = 64;

/// Requests in flight (`state.rs`'s `http` part).
#[derive(Default)]
pub struct Transfers(RefCell<Vec<Transfer>>);

impl Part for Transfers {}

fn with_transfers<R>(f: impl FnOnce(&RefCell<Vec<Transfer>>) -> R) -> Option<R> {
    state::with_part(|s| &s.http, |t: &Transfers| f(&t.0))
}

/// The [`HttpHost`] the runtime hands checked requests to.
pub struct GodotHttpHost;

impl HttpHost for GodotHttpHost {
    fn start(&self, call: HttpCall) -> Result<(), String> {
        if !godot::init::is_main_thread() {
            return Err("wasgo host bug: an HTTP request was started off the main thread".into());
        }
        let Some(busy) = with_transfers(|t| t.borrow().len() >= MAX_TRANSFERS) else {
            return Err("WasGo is shutting down; no HTTP request can start".into());
        };
        if busy {
            return Err(format!("the game already has {MAX_TRANSFERS} HTTP requests of mods in flight; try again later"));
        }
        let transfer = Transfer::start(call)?;
        match with_transfers(|t| t.borrow_mut().push(transfer)) {
            Some(()) => Ok(()),
            None => Err("WasGo is shutting down; no HTTP request can start".into()),
        }
    }
}

/// Advances every request (once per frame, main thread).
pub fn poll_all() {
    let mut list = with_transfers(|t| std::mem::take(&mut *t.borrow_mut())).unwrap_or_default();
    if list.is_empty() {
        return;
    }
    list.retain_mut(|t| {
        if t.call.is_abandoned() {
            t.client.close();
            return false;
        }
        match t.step() {
            Some(outcome) => {
                t.client.close();
                t.call.finish(outcome);
                false
            }
            None => true,
        }
    });
    // Requests started while these were polled come after them.
    with_transfers(|t| {
        let mut current = t.borrow_mut();
        list.append(&mut current);
        *current = list;
    });
}

/// Closes every request (extension shutdown).
pub fn close_all() {
    for mut t in with_transfers(|t| std::mem::take(&mut *t.borrow_mut())).unwrap_or_default() {
        t.client.close();
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Connecting,
    Requesting,
    Body,
}

/// What one read of the body gave.
enum BodyStep {
    /// Nothing new; try again next frame.
    Pending,
    /// Bytes arrived; read again.
    Progress,
    Done(HttpOutcome),
}

/// What the response headers said.
enum Headers {
    /// Read the body.
    Body,
    /// The request moved to another URL (the client reconnects).
    Redirected,
    /// The request is over.
    Done(HttpOutcome),
}

struct Transfer {
    call: HttpCall,
    client: Gd<HttpClient>,
    url: Url,
    method: HttpMethod,
    send_body: bool,
    redirects: u32,
    phase: Phase,
    started: Instant,
    status: i32,
    received: Vec<u8>,
}

fn failed(code: i32, message: String) -> HttpOutcome {
    HttpOutcome::Failed { code, message }
}

fn godot_method(method: HttpMethod) -> Method {
    match method {
        HttpMethod::Get => Method::GET,
        HttpMethod::Post => Method::POST,
        HttpMethod::Put => Method::PUT,
        HttpMethod::Patch => Method::PATCH,
        HttpMethod::Delete => Method::DELETE,
    }
}

impl Transfer {
    fn start(call: HttpCall) -> Result<Transfer, String> {
        let mut t = Transfer {
            url: call.url.clone(),
            method: call.method,
            send_body: call.method.has_body(),
            call,
            client: HttpClient::new_gd(),
            redirects: 0,
            phase: Phase::Connecting,
            started: Instant::now(),
            status: 0,
            received: Vec::new(),
        };
        t.connect()?;
        Ok(t)
    }

    fn connect(&mut self) -> Result<(), String> {
        self.client.close();
        self.client = HttpClient::new_gd();
        self.client.set_read_chunk_size(READ_CHUNK_BYTES);
        let tls = if self.url.scheme() == Scheme::Https {
            TlsOptions::client()
        } else {
            None
        };
        let err = self
            .client
            .connect_to_host_ex(self.url.connect_host())
            .port(self.url.port() as i32)
            .tls_options(tls.as_ref())
            .done();
        if err != Error::OK {
            return Err(format!("cannot connect to `{}`: {err:?}", self.url));
        }
        self.phase = Phase::Connecting;
        Ok(())
    }

    fn send(&mut self) -> Result<(), String> {
        let mut headers = PackedStringArray::new();
        headers.push("Connection: close");
        let body = if self.send_body {
            PackedByteArray::from(self.call.body.as_slice())
        } else {
            PackedByteArray::new()
        };
        if self.method.has_body() {
            headers.push(&format!("Content-Length: {}", body.len()));
        }
        let err = self.client.request_raw(
            godot_method(self.method),
            &self.url.request_target(),
            &headers,
            &body,
        );
        if err != Error::OK {
            return Err(format!(
                "cannot send the request to `{}`: {err:?}",
                self.url
            ));
        }
        self.phase = Phase::Requesting;
        Ok(())
    }

    fn network_error(&self, what: &str) -> HttpOutcome {
        failed(
            -5,
            format!(
                "HTTP request {} of `{}` to `{}` failed: {what}",
                self.call.id, self.call.mod_name, self.url
            ),
        )
    }

    /// Advances the request; `Some` once it is over.
    fn step(&mut self) -> Option<HttpOutcome> {
        if self.started.elapsed() > REQUEST_TIMEOUT {
            return Some(self.network_error(&format!(
                "no complete answer within {} s",
                REQUEST_TIMEOUT.as_secs()
            )));
        }
        for _ in 0..ROUNDS_PER_FRAME {
            if self.phase == Phase::Body {
                match self.read_body() {
                    BodyStep::Pending => return None,
                    BodyStep::Progress => continue,
                    BodyStep::Done(outcome) => return Some(outcome),
                }
            }
            let _ = self.client.poll();
            let status = self.client.get_status();
            if status == Status::RESOLVING
                || status == Status::CONNECTING
                || status == Status::REQUESTING
            {
                return None;
            } else if status == Status::CANT_RESOLVE {
                return Some(self.network_error(&format!("cannot resolve `{}`", self.url.host())));
            } else if status == Status::CANT_CONNECT {
                return Some(self.network_error("cannot connect"));
            } else if status == Status::TLS_HANDSHAKE_ERROR {
                return Some(self.network_error("the TLS handshake failed"));
            } else if status == Status::CONNECTION_ERROR {
                return Some(self.network_error("connection error"));
            } else if status == Status::CONNECTED && self.phase == Phase::Connecting {
                if let Err(e) = self.send() {
                    return Some(failed(-5, e));
                }
            } else if (status == Status::CONNECTED || status == Status::DISCONNECTED)
                && self.client.has_response()
            {
                // The whole answer is in: headers and no body.
                return match self.on_headers() {
                    Headers::Body => Some(self.response()),
                    Headers::Redirected => continue,
                    Headers::Done(outcome) => Some(outcome),
                };
            } else if status == Status::CONNECTED {
                return None;
            } else if status == Status::BODY {
                match self.on_headers() {
                    Headers::Body => self.phase = Phase::Body,
                    Headers::Redirected => continue,
                    Headers::Done(outcome) => return Some(outcome),
                }
            } else if status == Status::DISCONNECTED {
                return Some(
                    self.network_error("the server closed the connection without an answer"),
                );
            } else {
                return Some(self.network_error(&format!("unexpected client status {status:?}")));
            }
        }
        None
    }

    /// Reads what has arrived of the body. `HTTPClient::poll()` is not called here for plain
    /// HTTP: once the server has closed the connection, `poll()` reports a connection error even
    /// when the whole body arrived; `read_response_body_chunk` itself tells the end of the body
    /// (status `CONNECTED`) and the end of the stream (`DISCONNECTED`). TLS needs `poll()` to
    /// make progress, so it is polled when no data is waiting.
    fn read_body(&mut self) -> BodyStep {
        let chunk = self.client.read_response_body_chunk();
        self.received.extend_from_slice(chunk.as_slice());
        if self.received.len() as u64 > self.call.max_response_bytes {
            return BodyStep::Done(failed(
                -3,
                format!(
                    "the response to HTTP request {} (`{}`) was cut off after {} bytes: it is larger than `wasgo/limits/http_response_kb` ({} KiB)",
                    self.call.id,
                    self.url,
                    self.received.len(),
                    self.call.max_response_bytes >> 10
                ),
            ));
        }
        let status = self.client.get_status();
        if status == Status::CONNECTED || status == Status::DISCONNECTED {
            return BodyStep::Done(self.response());
        }
        if status != Status::BODY {
            return BodyStep::Done(
                self.network_error("the connection broke while the body was read"),
            );
        }
        if !chunk.is_empty() {
            return BodyStep::Progress;
        }
        if self.url.scheme() == Scheme::Https {
            let _ = self.client.poll();
            if self.client.get_status() != Status::BODY {
                return BodyStep::Done(
                    self.network_error("the TLS connection broke while the body was read"),
                );
            }
        }
        BodyStep::Pending
    }

    fn response(&mut self) -> HttpOutcome {
        HttpOutcome::Response {
            status: self.status,
            body: std::mem::take(&mut self.received),
        }
    }

    /// Handles the response headers: a redirect, a body over the cap, or go on to the body.
    fn on_headers(&mut self) -> Headers {
        let code = self.client.get_response_code();
        if redirect::is_redirect(code) {
            if let Some(location) = header(&self.client.get_response_headers(), "location") {
                return self.redirect(code, &location);
            }
        }
        let declared = self.client.get_response_body_length();
        if declared > 0 && declared as u64 > self.call.max_response_bytes {
            return Headers::Done(failed(
                -3,
                format!(
                    "the response to HTTP request {} (`{}`) declares {declared} bytes, more than `wasgo/limits/http_response_kb` ({} KiB); it was not read",
                    self.call.id,
                    self.url,
                    self.call.max_response_bytes >> 10
                ),
            ));
        }
        self.status = code;
        Headers::Body
    }

    fn redirect(&mut self, code: i32, location: &str) -> Headers {
        let hop = redirect::follow(
            &self.url,
            self.method,
            self.send_body,
            code,
            location,
            self.redirects,
            &self.call.whitelist,
        );
        match hop {
            Ok(hop) => {
                self.redirects += 1;
                self.url = hop.url;
                self.method = hop.method;
                self.send_body = hop.send_body;
                match self.connect() {
                    Ok(()) => Headers::Redirected,
                    Err(e) => Headers::Done(failed(ErrorCode::CallFailed.code(), e)),
                }
            }
            Err(e) => Headers::Done(failed(
                ErrorCode::InvalidArgument.code(),
                format!("HTTP request {}: {e}", self.call.id),
            )),
        }
    }
}

/// The value of header `name` (case-insensitive) in `Name: value` lines.
fn header(lines: &PackedStringArray, name: &str) -> Option<String> {
    lines.as_slice().iter().find_map(|line| {
        let line = line.to_string();
        let (key, value) = line.split_once(':')?;
        key.trim()
            .eq_ignore_ascii_case(name)
            .then(|| value.trim().to_string())
    })
}
