//! Level-2 HTTP on the wire: the request WasGo sends, a strict and bounded reader of the
//! answer, and the exchange that drives one request (address lookup, connection, request,
//! answer, redirects) over a [`Wire`] the game provides.
//!
//! The Godot glue implements [`Wire`] with `IP`'s resolver queue, `StreamPeerTCP` and
//! `StreamPeerTLS`, all non-blocking, and calls [`Exchange::step`] once per frame on the main
//! thread. Every decision about the bytes is made here, within fixed bounds, so that no server
//! can hold the main thread or grow the game's memory:
//!
//! - at most [`READ_BYTES_PER_FRAME`] bytes are read per request per frame, and at most
//!   [`ALL_READ_BYTES_PER_FRAME`] for all requests together, each read counted as at least
//!   [`MIN_READ_CHARGE`] bytes (a server sending one-byte TLS records would otherwise cost a
//!   read, a few calls into Godot, per byte: hundreds of thousands per frame);
//! - the status line and headers (interim `1xx` answers included) take at most
//!   [`MAX_HEAD_BYTES`]; a chunk-size line at most [`MAX_CHUNK_LINE_BYTES`]; trailers at most
//!   [`MAX_TRAILER_BYTES`];
//! - a body is refused as soon as it is declared or grows past the instance's response cap;
//! - every line is scanned once, however the bytes arrive (one byte at a time included).
//!
//! Godot's own `HTTPClient` is not used: it reads the response headers one byte per `recv` for
//! as long as bytes keep arriving, with no bound, inside one `poll()`; a whitelisted server that
//! sent headers without end froze the game's main thread.

use crate::http::{HttpCall, HttpMethod, HttpOutcome, REQUEST_TIMEOUT};
use crate::redirect;
use crate::urls::Url;
use std::fmt;
use std::time::Instant;
use wasgo_catalog::ErrorCode;

/// Bytes of status lines and headers one answer may take (interim `1xx` answers included).
pub const MAX_HEAD_BYTES: usize = 64 << 10;
/// Header fields one answer may have.
pub const MAX_HEADER_FIELDS: usize = 256;
/// Bytes one chunk-size line of a chunked body may take (extensions included).
pub const MAX_CHUNK_LINE_BYTES: usize = 1 << 10;
/// Bytes of trailer fields after a chunked body.
pub const MAX_TRAILER_BYTES: usize = 16 << 10;
/// Bytes read for one request in one frame.
pub const READ_BYTES_PER_FRAME: usize = 256 << 10;
/// Bytes read for all requests together in one frame (what [`Exchange::step`]'s `budget`
/// starts at each frame).
pub const ALL_READ_BYTES_PER_FRAME: usize = 2 << 20;
/// Bytes asked of the connection per read.
pub const READ_CHUNK_BYTES: usize = 64 << 10;
/// What a read that returns data counts against the frame's read budgets, at least: at most
/// 256 reads per request and 2048 for all requests in a frame.
pub const MIN_READ_CHARGE: usize = 1 << 10;
/// Bytes of the request handed to the connection per write.
pub const WRITE_CHUNK_BYTES: usize = 256 << 10;

/// Why an answer was not read to its end.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WireError {
    /// More than [`MAX_HEAD_BYTES`] of status lines and headers, or more than
    /// [`MAX_HEADER_FIELDS`] fields.
    HeadTooLarge,
    /// `Content-Length` over the cap.
    DeclaredTooLarge { declared: u64 },
    /// The body grew past the cap.
    TooLarge { received: u64 },
    /// The bytes are not an HTTP/1.x answer.
    Malformed(String),
    /// The connection ended before the answer did.
    Closed(String),
}

impl WireError {
    /// What `http_response` receives: -3 for what a cap refused, -5 for a broken answer.
    pub fn code(&self) -> i32 {
        match self {
            WireError::HeadTooLarge
            | WireError::DeclaredTooLarge { .. }
            | WireError::TooLarge { .. } => ErrorCode::InvalidArgument.code(),
            WireError::Malformed(_) | WireError::Closed(_) => ErrorCode::CallFailed.code(),
        }
    }
}

impl fmt::Display for WireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WireError::HeadTooLarge => write!(
                f,
                "its status line and headers are longer than {} KiB or hold more than {MAX_HEADER_FIELDS} fields",
                MAX_HEAD_BYTES >> 10
            ),
            WireError::DeclaredTooLarge { declared } => write!(f, "it declares {declared} bytes"),
            WireError::TooLarge { received } => write!(f, "it was cut off after {received} bytes"),
            WireError::Malformed(why) => write!(f, "the answer is not valid HTTP/1.1: {why}"),
            WireError::Closed(when) => write!(f, "the server closed the connection {when}"),
        }
    }
}

/// The bytes of a request: `method` to `url`, with `body` when the method carries one.
pub fn request_bytes(method: HttpMethod, url: &Url, body: &[u8]) -> Vec<u8> {
    let mut out = request_head(method, url, body.len());
    if method.has_body() {
        out.extend_from_slice(body);
    }
    out
}

/// The head of a request (its lines up to the blank one): `method` to `url`, with a body of
/// `body_len` bytes when the method carries one. The body follows it on the wire, sent from
/// the request's own copy ([`Exchange`] keeps no second one).
pub fn request_head(method: HttpMethod, url: &Url, body_len: usize) -> Vec<u8> {
    let mut head = format!(
        "{} {} HTTP/1.1\r\nHost: {}",
        method.as_str(),
        url.request_target(),
        url.host()
    );
    if url.port() != url.scheme().default_port() {
        head.push_str(&format!(":{}", url.port()));
    }
    head.push_str(concat!(
        "\r\nUser-Agent: WasGo/",
        env!("CARGO_PKG_VERSION"),
        "\r\nAccept: */*\r\nAccept-Encoding: identity\r\nConnection: close\r\n"
    ));
    if method.has_body() {
        head.push_str(&format!("Content-Length: {body_len}\r\n"));
    }
    head.push_str("\r\n");
    head.into_bytes()
}

/// A complete answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub status: u16,
    /// Field names in lowercase, values trimmed; in the order received.
    pub headers: Vec<(String, String)>,
    /// Empty for a redirect (its body is not read).
    pub body: Vec<u8>,
}

impl Answer {
    /// The first value of field `name` (lowercase).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// Where a redirect points, if this is one the host follows.
    pub fn location(&self) -> Option<&str> {
        redirect::is_redirect(i32::from(self.status))
            .then(|| self.header("location"))
            .flatten()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Head,
    Length(u64),
    UntilClose,
    ChunkLine,
    ChunkData(u64),
    ChunkEnd,
    Trailers,
    Done,
}

/// Reads one answer from the bytes fed to it, in any pieces.
#[derive(Debug)]
pub struct AnswerReader {
    max_body: u64,
    state: State,
    /// The line being assembled (without its `\n`).
    line: Vec<u8>,
    head_bytes: usize,
    trailer_bytes: usize,
    /// The head's lines so far (status line first).
    lines: Vec<Vec<u8>>,
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl AnswerReader {
    /// A reader that refuses bodies over `max_body` bytes.
    pub fn new(max_body: u64) -> AnswerReader {
        AnswerReader {
            max_body,
            state: State::Head,
            line: Vec::new(),
            head_bytes: 0,
            trailer_bytes: 0,
            lines: Vec::new(),
            status: 0,
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

    /// Whether the answer is complete.
    pub fn is_done(&self) -> bool {
        self.state == State::Done
    }

    /// Whether any byte of an answer arrived.
    fn started(&self) -> bool {
        self.head_bytes > 0 || !self.line.is_empty()
    }

    /// Takes the next `bytes`; bytes after the end of the answer are ignored.
    ///
    /// # Errors
    /// A [`WireError`] as soon as the bytes break a rule or a bound.
    pub fn feed(&mut self, mut bytes: &[u8]) -> Result<(), WireError> {
        while !bytes.is_empty() && self.state != State::Done {
            let used = match self.state {
                State::Head | State::ChunkLine | State::ChunkEnd | State::Trailers => {
                    self.take_line(bytes)?
                }
                State::Length(left) | State::ChunkData(left) => {
                    let n = (left.min(bytes.len() as u64)) as usize;
                    self.take_body(&bytes[..n])?;
                    let left = left - n as u64;
                    self.state = match (self.state, left) {
                        (State::Length(_), 0) => State::Done,
                        (State::Length(_), _) => State::Length(left),
                        (_, 0) => State::ChunkEnd,
                        _ => State::ChunkData(left),
                    };
                    n
                }
                State::UntilClose => {
                    self.take_body(bytes)?;
                    bytes.len()
                }
                State::Done => unreachable!("the loop stops at Done"),
            };
            bytes = &bytes[used..];
        }
        Ok(())
    }

    /// The connection ended: completes an answer whose body runs to the end of the stream.
    ///
    /// # Errors
    /// [`WireError::Closed`] when the answer was not complete.
    pub fn end_of_stream(&mut self) -> Result<(), WireError> {
        let when = match self.state {
            State::Done => return Ok(()),
            State::UntilClose => {
                self.state = State::Done;
                return Ok(());
            }
            State::Head if !self.started() => "without an answer".to_string(),
            State::Head => "in the middle of the answer's headers".to_string(),
            State::Length(left) => format!(
                "after {} of the {} bytes its Content-Length declared",
                self.body.len(),
                self.body.len() as u64 + left
            ),
            _ => "in the middle of a chunked body".to_string(),
        };
        Err(WireError::Closed(when))
    }

    /// The complete answer (once [`is_done`](Self::is_done)).
    pub fn into_answer(self) -> Answer {
        Answer {
            status: self.status,
            headers: self.headers,
            body: self.body,
        }
    }

    fn take_body(&mut self, bytes: &[u8]) -> Result<(), WireError> {
        let received = self.body.len() as u64 + bytes.len() as u64;
        if received > self.max_body {
            return Err(WireError::TooLarge { received });
        }
        self.body.extend_from_slice(bytes);
        Ok(())
    }

    /// Adds bytes up to the next `\n` to the current line; handles the line when it ends.
    /// Returns how many bytes it used.
    fn take_line(&mut self, bytes: &[u8]) -> Result<usize, WireError> {
        let (piece, ended) = match bytes.iter().position(|&b| b == b'\n') {
            Some(i) => (&bytes[..i], true),
            None => (bytes, false),
        };
        let used = piece.len() + usize::from(ended);
        match self.state {
            State::Head => {
                self.head_bytes += used;
                if self.head_bytes > MAX_HEAD_BYTES {
                    return Err(WireError::HeadTooLarge);
                }
            }
            State::Trailers => {
                self.trailer_bytes += used;
                if self.trailer_bytes > MAX_TRAILER_BYTES {
                    return Err(WireError::Malformed(format!(
                        "its trailer fields are longer than {} KiB",
                        MAX_TRAILER_BYTES >> 10
                    )));
                }
            }
            _ => {
                if self.line.len() + used > MAX_CHUNK_LINE_BYTES {
                    return Err(WireError::Malformed(format!(
                        "a chunk-size line is longer than {MAX_CHUNK_LINE_BYTES} bytes"
                    )));
                }
            }
        }
        self.line.extend_from_slice(piece);
        if ended {
            let mut line = std::mem::take(&mut self.line);
            if line.last() == Some(&b'\r') {
                line.pop();
            }
            self.end_line(line)?;
        }
        Ok(used)
    }

    fn end_line(&mut self, line: Vec<u8>) -> Result<(), WireError> {
        match self.state {
            State::Head if line.is_empty() && self.lines.is_empty() => Ok(()), // tolerated before the status line
            State::Head if line.is_empty() => self.end_head(),
            State::Head => {
                if self.lines.len() > MAX_HEADER_FIELDS {
                    return Err(WireError::HeadTooLarge);
                }
                self.lines.push(line);
                Ok(())
            }
            State::ChunkLine => {
                let size = chunk_size(&line)?;
                self.state = if size == 0 {
                    State::Trailers
                } else {
                    State::ChunkData(size)
                };
                Ok(())
            }
            State::ChunkEnd if line.is_empty() => {
                self.state = State::ChunkLine;
                Ok(())
            }
            State::ChunkEnd => Err(WireError::Malformed(
                "a chunk's data runs past its declared size".into(),
            )),
            State::Trailers if line.is_empty() => {
                self.state = State::Done;
                Ok(())
            }
            State::Trailers => Ok(()),
            _ => unreachable!("lines are read only in line states"),
        }
    }

    /// The head is complete: parses it and decides how the body is framed.
    fn end_head(&mut self) -> Result<(), WireError> {
        let lines = std::mem::take(&mut self.lines);
        let (status, headers) = parse_head(&lines)?;
        if (100..200).contains(&status) {
            if status == 101 {
                return Err(WireError::Malformed(
                    "the server switched protocols, which WasGo never asks for".into(),
                ));
            }
            return Ok(()); // an interim answer: the real one follows (its bytes count in the same head budget)
        }
        self.status = status;
        self.headers = headers;
        let is_redirect = redirect::is_redirect(i32::from(status))
            && self.headers.iter().any(|(n, _)| n == "location");
        if is_redirect || status == 204 || status == 304 {
            self.state = State::Done;
            return Ok(());
        }
        let chunked = match self.field_values("transfer-encoding").last() {
            Some(codings) => {
                let last = codings.rsplit(',').next().unwrap_or("").trim();
                Some(last.eq_ignore_ascii_case("chunked"))
            }
            None => None,
        };
        self.state = match chunked {
            Some(true) => State::ChunkLine,
            Some(false) => State::UntilClose,
            None => match self.content_length()? {
                Some(n) if n > self.max_body => {
                    return Err(WireError::DeclaredTooLarge { declared: n })
                }
                Some(0) => State::Done,
                Some(n) => State::Length(n),
                None => State::UntilClose,
            },
        };
        Ok(())
    }

    fn field_values(&self, name: &str) -> Vec<&str> {
        self.headers
            .iter()
            .filter(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// `Content-Length`: every value (repeated fields, comma lists) must be the same number.
    fn content_length(&self) -> Result<Option<u64>, WireError> {
        let mut found: Option<u64> = None;
        for value in self.field_values("content-length") {
            for part in value.split(',') {
                let part = part.trim();
                let n = (!part.is_empty()
                    && part.len() <= 19
                    && part.bytes().all(|b| b.is_ascii_digit()))
                .then(|| part.parse::<u64>().ok())
                .flatten()
                .ok_or_else(|| {
                    WireError::Malformed(format!(
                        "Content-Length `{}` is not a number",
                        part.escape_debug()
                    ))
                })?;
                if found.is_some_and(|f| f != n) {
                    return Err(WireError::Malformed(
                        "it declares two different Content-Lengths".into(),
                    ));
                }
                found = Some(n);
            }
        }
        Ok(found)
    }
}

/// The size on a chunk-size line (`HEX[;extensions]`).
fn chunk_size(line: &[u8]) -> Result<u64, WireError> {
    let text = std::str::from_utf8(line)
        .map_err(|_| WireError::Malformed("a chunk-size line is not text".into()))?;
    let digits = text.split(';').next().unwrap_or("").trim();
    if digits.is_empty() || digits.len() > 15 || !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(WireError::Malformed(format!(
            "chunk size `{}` is not a hexadecimal number",
            digits.escape_debug()
        )));
    }
    u64::from_str_radix(digits, 16)
        .map_err(|_| WireError::Malformed("a chunk size does not fit".into()))
}

/// Parses the status line and the header fields.
fn parse_head(lines: &[Vec<u8>]) -> Result<(u16, Vec<(String, String)>), WireError> {
    let first = lines.first().map(Vec::as_slice).unwrap_or_default();
    let status_line = String::from_utf8_lossy(first);
    let mut parts = status_line.splitn(3, ' ');
    let version = parts.next().unwrap_or("");
    let code = parts.next().unwrap_or("");
    if !(version == "HTTP/1.1" || version == "HTTP/1.0") {
        let shown: String = status_line.chars().take(60).collect();
        return Err(WireError::Malformed(format!(
            "its first line `{}` is not an HTTP/1.x status line",
            shown.escape_debug()
        )));
    }
    let status = (code.len() == 3 && code.bytes().all(|b| b.is_ascii_digit()))
        .then(|| code.parse::<u16>().ok())
        .flatten()
        .filter(|c| (100..600).contains(c))
        .ok_or_else(|| {
            WireError::Malformed(format!(
                "status code `{}` is not a three-digit code",
                code.escape_debug()
            ))
        })?;
    let mut headers: Vec<(String, String)> = Vec::with_capacity(lines.len().saturating_sub(1));
    for line in &lines[1..] {
        if matches!(line.first(), Some(b' ' | b'\t')) {
            // An obsolete folded line continues the previous field's value.
            let Some((_, value)) = headers.last_mut() else {
                return Err(WireError::Malformed(
                    "its first header line is a continuation".into(),
                ));
            };
            value.push(' ');
            value.push_str(String::from_utf8_lossy(line).trim());
            continue;
        }
        let Some(colon) = line.iter().position(|&b| b == b':') else {
            return Err(WireError::Malformed("a header line has no `:`".into()));
        };
        let name = &line[..colon];
        if name.is_empty() || !name.iter().all(|&b| is_token(b)) {
            return Err(WireError::Malformed("a header name is not a token".into()));
        }
        let name = String::from_utf8_lossy(name).to_ascii_lowercase();
        let value = String::from_utf8_lossy(&line[colon + 1..])
            .trim()
            .to_string();
        headers.push((name, value));
    }
    Ok((status, headers))
}

fn is_token(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// What a [`Wire`]'s address lookup says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lookup {
    Pending,
    /// An IP address to connect to.
    Found(String),
    Failed,
}

/// What a [`Wire`]'s connection says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Link {
    Pending,
    /// Connected (and, for HTTPS, the TLS handshake done).
    Ready,
    Failed(String),
}

/// What one read gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Read {
    /// Nothing waiting now.
    Nothing,
    Data(Vec<u8>),
    /// The server closed the connection (after these last bytes, maybe none).
    Closed(Vec<u8>),
    Failed(String),
}

/// The game's non-blocking network: one connection at a time, per request.
pub trait Wire {
    /// Starts looking up `host`'s address.
    ///
    /// # Errors
    /// Why the lookup cannot start.
    fn lookup(&mut self, host: &str) -> Result<(), String>;
    fn poll_lookup(&mut self) -> Lookup;
    /// Starts connecting to `ip`:`port`; `tls_host` is the name a TLS certificate must carry
    /// (`None` for plain HTTP).
    ///
    /// # Errors
    /// Why the connection cannot start.
    fn connect(&mut self, ip: &str, port: u16, tls_host: Option<&str>) -> Result<(), String>;
    fn poll_link(&mut self) -> Link;
    /// Hands bytes to the connection; returns how many it took (maybe none).
    ///
    /// # Errors
    /// The connection broke.
    fn write(&mut self, bytes: &[u8]) -> Result<usize, String>;
    /// Reads at most `max` bytes.
    fn read(&mut self, max: usize) -> Read;
    /// Ends the connection and any lookup.
    fn close(&mut self);
}

#[derive(Debug)]
enum Phase {
    Start,
    Lookup,
    Connecting,
    /// The head is sent, then the call's body (from [`HttpCall::body`]: no second copy of it);
    /// `sent` counts both.
    Sending {
        head: Vec<u8>,
        sent: usize,
    },
    Receiving(AnswerReader),
}

/// One request from its first lookup to its answer, redirects included.
#[derive(Debug)]
pub struct Exchange {
    url: Url,
    method: HttpMethod,
    send_body: bool,
    redirects: u32,
    phase: Phase,
    started: Instant,
}

impl Exchange {
    pub fn new(call: &HttpCall, now: Instant) -> Exchange {
        Exchange {
            url: call.url.clone(),
            method: call.method,
            send_body: call.method.has_body(),
            redirects: 0,
            phase: Phase::Start,
            started: now,
        }
    }

    /// The URL of the current hop.
    pub fn url(&self) -> &Url {
        &self.url
    }

    /// Advances the request as far as the network allows now, reading at most
    /// [`READ_BYTES_PER_FRAME`] and at most `budget` (the frame's bytes left for all requests,
    /// reduced by what this one read); `Some` once it is over (the wire is closed then).
    pub fn step(
        &mut self,
        call: &HttpCall,
        wire: &mut impl Wire,
        now: Instant,
        budget: &mut usize,
    ) -> Option<HttpOutcome> {
        let allowed = READ_BYTES_PER_FRAME.min(*budget);
        let mut read = 0usize;
        let outcome = self.advance(call, wire, now, allowed, &mut read);
        *budget = budget.saturating_sub(read);
        if outcome.is_some() {
            wire.close();
        }
        outcome
    }

    fn advance(
        &mut self,
        call: &HttpCall,
        wire: &mut impl Wire,
        now: Instant,
        allowed: usize,
        read: &mut usize,
    ) -> Option<HttpOutcome> {
        if call.revoked() {
            // Nothing more goes out (a redirect would open a new connection) or comes in.
            return Some(call.revoked_outcome());
        }
        if now.saturating_duration_since(self.started) > REQUEST_TIMEOUT {
            return Some(self.failed(
                call,
                &format!("no complete answer within {} s", REQUEST_TIMEOUT.as_secs()),
            ));
        }
        loop {
            match &mut self.phase {
                Phase::Start => {
                    let host = self.url.connect_host().to_string();
                    if host.parse::<std::net::IpAddr>().is_ok() {
                        if let Err(e) = self.connect(wire, &host) {
                            return Some(self.failed(call, &e));
                        }
                    } else if let Err(e) = wire.lookup(&host) {
                        return Some(self.failed(call, &format!("cannot look up `{host}`: {e}")));
                    } else {
                        self.phase = Phase::Lookup;
                    }
                }
                Phase::Lookup => match wire.poll_lookup() {
                    Lookup::Pending => return None,
                    Lookup::Failed => {
                        return Some(
                            self.failed(call, &format!("cannot resolve `{}`", self.url.host())),
                        )
                    }
                    Lookup::Found(ip) => {
                        if let Err(e) = self.connect(wire, &ip) {
                            return Some(self.failed(call, &e));
                        }
                    }
                },
                Phase::Connecting => match wire.poll_link() {
                    Link::Pending => return None,
                    Link::Failed(why) => return Some(self.failed(call, &why)),
                    Link::Ready => {
                        let body_len = if self.send_body { call.body.len() } else { 0 };
                        self.phase = Phase::Sending {
                            head: request_head(self.method, &self.url, body_len),
                            sent: 0,
                        };
                    }
                },
                Phase::Sending { head, sent } => {
                    let body: &[u8] = if self.send_body { &call.body } else { &[] };
                    // The next piece: of the head, then of the body (never both in one write).
                    let piece = if *sent < head.len() {
                        &head[*sent..head.len().min(*sent + WRITE_CHUNK_BYTES)]
                    } else {
                        let at = *sent - head.len();
                        &body[at..body.len().min(at + WRITE_CHUNK_BYTES)]
                    };
                    match wire.write(piece) {
                        Err(why) => {
                            return Some(
                                self.failed(call, &format!("the request could not be sent: {why}")),
                            )
                        }
                        Ok(0) => return None,
                        Ok(n) => *sent += n.min(piece.len()),
                    }
                    if *sent == head.len() + body.len() {
                        self.phase = Phase::Receiving(AnswerReader::new(call.max_response_bytes));
                    }
                }
                Phase::Receiving(reader) => {
                    if *read >= allowed {
                        return None;
                    }
                    let result = match wire.read(READ_CHUNK_BYTES.min(allowed - *read)) {
                        Read::Nothing => return None,
                        Read::Data(bytes) => {
                            *read += bytes.len().max(MIN_READ_CHARGE);
                            reader.feed(&bytes)
                        }
                        Read::Closed(bytes) => {
                            reader.feed(&bytes).and_then(|()| reader.end_of_stream())
                        }
                        Read::Failed(why) => {
                            return Some(self.failed(call, &format!("the connection broke: {why}")))
                        }
                    };
                    if let Err(e) = result {
                        return Some(self.refused(call, &e));
                    }
                    if reader.is_done() {
                        let Phase::Receiving(reader) =
                            std::mem::replace(&mut self.phase, Phase::Start)
                        else {
                            unreachable!("matched above")
                        };
                        let answer = reader.into_answer();
                        match answer.location() {
                            Some(location) => {
                                if let Err(outcome) = self.redirect(call, answer.status, location) {
                                    return Some(outcome);
                                }
                                wire.close();
                            }
                            None => {
                                return Some(HttpOutcome::Response {
                                    status: i32::from(answer.status),
                                    body: answer.body,
                                })
                            }
                        }
                    }
                }
            }
        }
    }

    fn connect(&mut self, wire: &mut impl Wire, ip: &str) -> Result<(), String> {
        let tls = (self.url.scheme() == crate::urls::Scheme::Https)
            .then(|| self.url.connect_host().to_string());
        wire.connect(ip, self.url.port(), tls.as_deref())
            .map_err(|e| format!("cannot connect: {e}"))?;
        self.phase = Phase::Connecting;
        Ok(())
    }

    fn redirect(
        &mut self,
        call: &HttpCall,
        status: u16,
        location: &str,
    ) -> Result<(), HttpOutcome> {
        let hop = redirect::follow(
            &self.url,
            self.method,
            self.send_body,
            i32::from(status),
            location,
            self.redirects,
            &call.whitelist,
        )
        .map_err(|e| HttpOutcome::Failed {
            code: ErrorCode::InvalidArgument.code(),
            message: format!("HTTP request {}: {e}", call.id),
        })?;
        self.redirects += 1;
        self.url = hop.url;
        self.method = hop.method;
        self.send_body = hop.send_body;
        self.phase = Phase::Start;
        Ok(())
    }

    /// -5: the network failed.
    pub fn failed(&self, call: &HttpCall, what: &str) -> HttpOutcome {
        HttpOutcome::Failed {
            code: ErrorCode::CallFailed.code(),
            message: format!(
                "HTTP request {} of `{}` to `{}` failed: {what}",
                call.id, call.mod_name, self.url
            ),
        }
    }

    /// The outcome for an answer the reader refused.
    fn refused(&self, call: &HttpCall, e: &WireError) -> HttpOutcome {
        let cap = format!(
            "`wasgo/limits/http_response_kb` ({} KiB)",
            call.max_response_bytes >> 10
        );
        let message = match e {
            WireError::DeclaredTooLarge { declared } => format!(
                "the response to HTTP request {} (`{}`) declares {declared} bytes, more than {cap}; it was not read",
                call.id, self.url
            ),
            WireError::TooLarge { received } => format!(
                "the response to HTTP request {} (`{}`) was cut off after {received} bytes: it is larger than {cap}",
                call.id, self.url
            ),
            WireError::HeadTooLarge => format!(
                "the response to HTTP request {} (`{}`) was refused: {e}; WasGo hung up",
                call.id, self.url
            ),
            WireError::Malformed(_) | WireError::Closed(_) => {
                return self.failed(call, &e.to_string());
            }
        };
        HttpOutcome::Failed {
            code: e.code(),
            message,
        }
    }
}

#[cfg(test)]
#[path = "http_wire_tests.rs"]
mod tests;
