//! Level-2 HTTP over Godot's non-blocking network, owned by WasGo and polled on the main thread.
//!
//! The core has already checked a request (permission, method, body size, URL against the
//! whitelist, requests in flight) when it reaches [`GodotHttpHost::start`]. The core's
//! [`Exchange`] drives it (request bytes, a bounded reader of the answer, redirects by the
//! whitelist, the response cap, the timeout, a read budget per frame); this file is its
//! [`Wire`]: `IP`'s resolver queue (never a blocking lookup), `StreamPeerTCP`, and
//! `StreamPeerTLS` for HTTPS. Each request has its own connection — `RefCounted`s outside the
//! scene tree, so no mod can reach them through `get_node` — advanced by [`poll_all`] once per
//! frame (`on_main_loop_frame`); requests of an instance that has ended are closed then.

use crate::state::{self, Part};
use godot::classes::{
    ip, stream_peer_tcp, stream_peer_tls, Ip, StreamPeer, StreamPeerTcp, StreamPeerTls, TlsOptions,
};
use godot::global::Error;
use godot::prelude::*;
use std::cell::RefCell;
use std::time::Instant;
use wasgo_core::http_wire::{Exchange, Link, Lookup, Read, Wire, ALL_READ_BYTES_PER_FRAME};
use wasgo_core::{HttpCall, HttpHost, HttpStartError};

/// Requests in flight (`state.rs`'s `http` part).
#[derive(Default)]
pub struct Transfers {
    list: RefCell<Vec<Transfer>>,
    /// Resolver queue items whose request ended while their lookup still ran. Godot's resolver
    /// thread writes a lookup's answer into its item when it ends, whoever holds the item by
    /// then: an item erased while its lookup runs would be handed to the next lookup (another
    /// mod's, or the game's own `HTTPRequest`) and get this one's addresses — a hostile mod's
    /// slow-to-resolve host could send another request to its server. So an item is erased
    /// only once its lookup is over ([`poll_all`] looks every frame).
    parked: RefCell<Vec<i32>>,
}

impl Part for Transfers {}

fn with_transfers<R>(f: impl FnOnce(&RefCell<Vec<Transfer>>) -> R) -> Option<R> {
    state::with_part(|s| &s.http, |t: &Transfers| f(&t.list))
}

fn with_parked<R>(f: impl FnOnce(&RefCell<Vec<i32>>) -> R) -> Option<R> {
    state::with_part(|s| &s.http, |t: &Transfers| f(&t.parked))
}

/// Erases the parked resolver items whose lookup is over (`all`: every one, at shutdown).
fn erase_parked(all: bool) {
    let parked = with_parked(|p| std::mem::take(&mut *p.borrow_mut())).unwrap_or_default();
    if parked.is_empty() {
        return;
    }
    let mut ip = Ip::singleton();
    let mut still = Vec::new();
    for id in parked {
        if !all && ip.get_resolve_item_status(id) == ip::ResolverStatus::WAITING {
            still.push(id);
        } else {
            ip.erase_resolve_item(id);
        }
    }
    if !still.is_empty() {
        with_parked(|p| p.borrow_mut().extend(still));
    }
}

/// The [`HttpHost`] the runtime hands checked requests to.
pub struct GodotHttpHost;

impl HttpHost for GodotHttpHost {
    fn start(&self, call: HttpCall) -> Result<(), HttpStartError> {
        if !godot::init::is_main_thread() {
            return Err(HttpStartError::Failed(
                "wasgo host bug: an HTTP request was started off the main thread".into(),
            ));
        }
        // Parked lookups hold resolver items too (Godot's queue has 256 for the whole game).
        let parked = with_parked(|p| p.borrow().len()).unwrap_or(0);
        // Bounded game-wide as well as per instance (`wasgo_core::http::game_refusal`): the
        // count, and the bodies, which are the host's copies until each request ends.
        let Some(refusal) = with_transfers(|t| {
            let list = t.borrow();
            let bytes = list.iter().map(|t| t.call.body.len()).sum();
            wasgo_core::http::game_refusal(list.len() + parked, bytes, call.body.len())
        }) else {
            return Err(HttpStartError::Failed(
                "WasGo is shutting down; no HTTP request can start".into(),
            ));
        };
        if let Some(refusal) = refusal {
            return Err(HttpStartError::Busy(refusal));
        }
        let transfer = Transfer {
            exchange: Exchange::new(&call, Instant::now()),
            call,
            wire: GodotWire::default(),
        };
        match with_transfers(|t| t.borrow_mut().push(transfer)) {
            Some(()) => Ok(()),
            None => Err(HttpStartError::Failed(
                "WasGo is shutting down; no HTTP request can start".into(),
            )),
        }
    }
}

/// Advances every request (once per frame, main thread).
pub fn poll_all() {
    erase_parked(false);
    let mut list = with_transfers(|t| std::mem::take(&mut *t.borrow_mut())).unwrap_or_default();
    if list.is_empty() {
        return;
    }
    let now = Instant::now();
    let mut budget = ALL_READ_BYTES_PER_FRAME;
    // The first request of the last frame goes last now: a frame's read budget is shared in turn.
    list.rotate_left(1);
    list.retain_mut(|t| {
        if t.call.is_abandoned() {
            t.wire.close();
            return false;
        }
        match t.exchange.step(&t.call, &mut t.wire, now, &mut budget) {
            Some(outcome) => {
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
        t.wire.close();
    }
    erase_parked(true);
}

struct Transfer {
    call: HttpCall,
    exchange: Exchange,
    wire: GodotWire,
}

/// One request's lookup and connection.
#[derive(Default)]
struct GodotWire {
    /// The resolver queue's item while a lookup runs (erased when it ends).
    lookup: Option<i32>,
    tcp: Option<Gd<StreamPeerTcp>>,
    tls: Option<Gd<StreamPeerTls>>,
    /// The certificate's name for HTTPS, until the handshake starts.
    tls_host: Option<String>,
}

impl GodotWire {
    /// Ends the lookup: its resolver item is erased, or parked while the lookup still runs
    /// (see [`Transfers::parked`]).
    fn end_lookup(&mut self) {
        if let Some(id) = self.lookup.take() {
            let mut ip = Ip::singleton();
            if ip.get_resolve_item_status(id) == ip::ResolverStatus::WAITING
                && with_parked(|p| p.borrow_mut().push(id)).is_some()
            {
                return;
            }
            ip.erase_resolve_item(id);
        }
    }

    /// The stream the request and answer go through (TLS over TCP for HTTPS).
    fn stream(&self) -> Option<Gd<StreamPeer>> {
        match (&self.tls, &self.tcp) {
            (Some(tls), _) => Some(tls.clone().upcast()),
            (None, Some(tcp)) if self.tls_host.is_none() => Some(tcp.clone().upcast()),
            _ => None,
        }
    }

    /// Whether the stream can still be read (Godot logs an error for a read of a TLS stream
    /// that is not connected).
    fn is_open(&self) -> bool {
        match (&self.tls, &self.tcp) {
            (Some(tls), _) => tls.get_status() == stream_peer_tls::Status::CONNECTED,
            (None, Some(tcp)) => tcp.get_status() == stream_peer_tcp::Status::CONNECTED,
            _ => false,
        }
    }
}

impl Drop for GodotWire {
    fn drop(&mut self) {
        self.close();
    }
}

impl Wire for GodotWire {
    fn lookup(&mut self, host: &str) -> Result<(), String> {
        self.end_lookup();
        let id = Ip::singleton().resolve_hostname_queue_item(host);
        if id == Ip::RESOLVER_INVALID_ID {
            return Err("Godot's resolver queue is full; try again later".into());
        }
        self.lookup = Some(id);
        Ok(())
    }

    fn poll_lookup(&mut self) -> Lookup {
        let Some(id) = self.lookup else {
            return Lookup::Failed;
        };
        let ip = Ip::singleton();
        let status = ip.get_resolve_item_status(id);
        if status == ip::ResolverStatus::WAITING {
            return Lookup::Pending;
        }
        let address = if status == ip::ResolverStatus::DONE {
            ip.get_resolve_item_address(id).to_string()
        } else {
            String::new()
        };
        self.end_lookup();
        if address.is_empty() {
            Lookup::Failed
        } else {
            Lookup::Found(address)
        }
    }

    fn connect(&mut self, address: &str, port: u16, tls_host: Option<&str>) -> Result<(), String> {
        self.close();
        let mut tcp = StreamPeerTcp::new_gd();
        // `address` is an IP address: Godot's connect never blocks on a lookup then.
        let err = tcp.connect_to_host(address, i32::from(port));
        if err != Error::OK {
            return Err(format!(
                "Godot refused to connect to {address} port {port} ({err:?})"
            ));
        }
        self.tcp = Some(tcp);
        self.tls_host = tls_host.map(str::to_string);
        Ok(())
    }

    fn poll_link(&mut self) -> Link {
        let Some(tcp) = self.tcp.as_mut() else {
            return Link::Failed("no connection".into());
        };
        if self.tls.is_none() {
            let _ = tcp.poll();
            let status = tcp.get_status();
            if status == stream_peer_tcp::Status::CONNECTING {
                return Link::Pending;
            }
            if status != stream_peer_tcp::Status::CONNECTED {
                return Link::Failed("cannot connect".into());
            }
            tcp.set_no_delay(true);
            let Some(host) = self.tls_host.take() else {
                return Link::Ready;
            };
            let mut tls = StreamPeerTls::new_gd();
            let options = TlsOptions::client();
            let err = tls
                .connect_to_stream_ex(&tcp.clone().upcast::<StreamPeer>(), &host)
                .client_options(options.as_ref())
                .done();
            if err != Error::OK {
                return Link::Failed(format!(
                    "the TLS handshake with `{host}` could not start ({err:?})"
                ));
            }
            self.tls = Some(tls);
        }
        let Some(tls) = self.tls.as_mut() else {
            return Link::Failed("no connection".into());
        };
        let mut status = tls.get_status();
        if status == stream_peer_tls::Status::HANDSHAKING {
            tls.poll();
            status = tls.get_status();
        }
        if status == stream_peer_tls::Status::HANDSHAKING {
            Link::Pending
        } else if status == stream_peer_tls::Status::CONNECTED {
            Link::Ready
        } else if status == stream_peer_tls::Status::ERROR_HOSTNAME_MISMATCH {
            Link::Failed("the server's TLS certificate is for another host".into())
        } else {
            Link::Failed("the TLS handshake failed".into())
        }
    }

    fn write(&mut self, bytes: &[u8]) -> Result<usize, String> {
        let (true, Some(mut stream)) = (self.is_open(), self.stream()) else {
            return Err("the connection is closed".into());
        };
        let (err, sent) = partial(
            &stream.put_partial_data(&PackedByteArray::from(bytes)),
            0i64,
        );
        if err != Error::OK.ord() as i64 {
            return Err(format!("Godot error {err}"));
        }
        Ok(sent.clamp(0, bytes.len() as i64) as usize)
    }

    fn read(&mut self, max: usize) -> Read {
        let Some(mut stream) = self.stream() else {
            return Read::Failed("no connection".into());
        };
        if !self.is_open() {
            return Read::Closed(Vec::new());
        }
        // Godot's `get_partial_data` drops what it read when the same call meets the end of the
        // stream, and a TLS read goes on from record to record until it has all it asked for:
        // a TLS stream is asked only for the rest of the record it holds, or one byte to open the
        // next record (the server's goodbye then arrives alone, with no data to drop).
        let ask = if self.tls.is_some() {
            match stream.get_available_bytes() {
                n if n > 0 => (n as usize).min(max),
                _ => 1,
            }
        } else {
            max
        };
        let (err, bytes) = partial(
            &stream.get_partial_data(ask.min(i32::MAX as usize) as i32),
            PackedByteArray::new(),
        );
        let bytes = bytes.to_vec();
        if err != Error::OK.ord() as i64 {
            // The end of the stream (`ERR_FILE_EOF`), or, over TLS, a connection the server
            // closed without a TLS goodbye: whether the answer was complete is the reader's to say.
            return Read::Closed(bytes);
        }
        if bytes.is_empty() {
            Read::Nothing
        } else {
            Read::Data(bytes)
        }
    }

    fn close(&mut self) {
        self.end_lookup();
        if let Some(mut tls) = self.tls.take() {
            tls.disconnect_from_stream();
        }
        if let Some(mut tcp) = self.tcp.take() {
            tcp.disconnect_from_host();
        }
        self.tls_host = None;
    }
}

/// The `[Error, value]` pair a `StreamPeer` partial read or write answers (`-1` and `missing`
/// when the array is not one).
fn partial<T: FromGodot>(result: &VarArray, missing: T) -> (i64, T) {
    let err = result.get(0).and_then(|v| v.try_to().ok()).unwrap_or(-1);
    let value = result
        .get(1)
        .and_then(|v| v.try_to().ok())
        .unwrap_or(missing);
    (err, value)
}
