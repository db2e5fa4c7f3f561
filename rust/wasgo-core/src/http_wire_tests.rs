use super::*;
use crate::http::HttpTable;
use crate::urls::Whitelist;
use std::collections::VecDeque;
use std::sync::Weak;
use std::time::Duration;

fn read_all(max: u64, pieces: &[&[u8]]) -> Result<Answer, WireError> {
    let mut r = AnswerReader::new(max);
    for p in pieces {
        r.feed(p)?;
    }
    if !r.is_done() {
        r.end_of_stream()?;
    }
    Ok(r.into_answer())
}

/// Feeds `bytes` one byte at a time.
fn bytewise(max: u64, bytes: &[u8]) -> Result<Answer, WireError> {
    let pieces: Vec<&[u8]> = bytes.chunks(1).collect();
    read_all(max, &pieces)
}

#[test]
fn a_length_delimited_answer_reads_the_same_in_any_pieces() {
    let raw =
        b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nhelloIGNORED";
    let whole = read_all(100, &[raw]).unwrap();
    assert_eq!(whole.status, 200);
    assert_eq!(whole.body, b"hello");
    assert_eq!(whole.header("content-type"), Some("text/plain"));
    assert_eq!(bytewise(100, raw).unwrap(), whole);
    let split = read_all(100, &[&raw[..20], &raw[20..61], &raw[61..]]).unwrap();
    assert_eq!(split, whole);
}

#[test]
fn chunked_bodies_and_bare_newlines_and_folded_fields() {
    let raw = b"HTTP/1.1 200 OK\nTransfer-Encoding: gzip, chunked\nX-Long: a\n  b\n\n5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nTrailer: x\r\n\r\n";
    for answer in [read_all(100, &[raw]).unwrap(), bytewise(100, raw).unwrap()] {
        assert_eq!(answer.body, b"hello world");
        assert_eq!(answer.header("x-long"), Some("a b"));
    }
}

#[test]
fn a_body_without_length_runs_to_the_end_of_the_stream() {
    let mut r = AnswerReader::new(100);
    r.feed(b"HTTP/1.0 404 Not Found\r\n\r\nnot here").unwrap();
    assert!(!r.is_done());
    r.end_of_stream().unwrap();
    let a = r.into_answer();
    assert_eq!((a.status, a.body.as_slice()), (404, b"not here".as_slice()));
}

#[test]
fn interim_answers_are_skipped_and_no_body_answers_end_at_their_head() {
    let a = read_all(
        10,
        &[b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\nContent-Length: 99\r\n\r\n"],
    )
    .unwrap();
    assert_eq!((a.status, a.body.len()), (204, 0));
    let r = read_all(
        10,
        &[b"HTTP/1.1 302 Found\r\nLocation: /x\r\nContent-Length: 999999\r\n\r\n"],
    )
    .unwrap();
    assert_eq!(r.location(), Some("/x"));
    // A redirect status without a Location is an ordinary answer.
    let plain = read_all(10, &[b"HTTP/1.1 302 Found\r\nContent-Length: 2\r\n\r\nok"]).unwrap();
    assert_eq!(
        (plain.location(), plain.body.as_slice()),
        (None, b"ok".as_slice())
    );
    assert!(matches!(
        read_all(10, &[b"HTTP/1.1 101 Switching\r\n\r\n"]),
        Err(WireError::Malformed(_))
    ));
}

#[test]
fn endless_headers_stop_at_the_head_budget_however_they_arrive() {
    let mut r = AnswerReader::new(1 << 20);
    r.feed(b"HTTP/1.1 200 OK\r\n").unwrap();
    let line = b"X-Filler: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n";
    let mut fed = 0usize;
    let err = loop {
        match r.feed(line) {
            Ok(()) => fed += line.len(),
            Err(e) => break e,
        }
        assert!(
            fed <= MAX_HEAD_BYTES,
            "read {fed} bytes of headers without refusing"
        );
    };
    assert_eq!(err, WireError::HeadTooLarge);
    assert_eq!(err.code(), -3);
    // One line without end, one byte at a time.
    let mut r = AnswerReader::new(1 << 20);
    let mut fed = 0usize;
    let err = loop {
        if let Err(e) = r.feed(b"a") {
            break e;
        }
        fed += 1;
        assert!(fed <= MAX_HEAD_BYTES);
    };
    assert_eq!(err, WireError::HeadTooLarge);
    // Endless interim answers share the same budget.
    let mut r = AnswerReader::new(1 << 20);
    let err = loop {
        if let Err(e) = r.feed(b"HTTP/1.1 100 Continue\r\n\r\n") {
            break e;
        }
    };
    assert_eq!(err, WireError::HeadTooLarge);
    // Many tiny fields.
    let mut raw = b"HTTP/1.1 200 OK\r\n".to_vec();
    for _ in 0..=MAX_HEADER_FIELDS {
        raw.extend_from_slice(b"a:b\r\n");
    }
    raw.extend_from_slice(b"\r\n");
    assert_eq!(read_all(10, &[&raw]), Err(WireError::HeadTooLarge));
}

#[test]
fn bodies_over_the_cap_are_refused_declared_or_streamed_or_chunked() {
    assert_eq!(
        read_all(10, &[b"HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\n"]),
        Err(WireError::DeclaredTooLarge { declared: 11 })
    );
    assert!(read_all(
        10,
        &[b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n0123456789"]
    )
    .is_ok());
    assert_eq!(
        read_all(10, &[b"HTTP/1.1 200 OK\r\n\r\n0123456789", b"x"]),
        Err(WireError::TooLarge { received: 11 })
    );
    assert_eq!(
        read_all(10, &[b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n8\r\n01234567\r\n8\r\n01234567\r\n0\r\n\r\n"]),
        Err(WireError::TooLarge { received: 16 })
    );
}

#[test]
fn framing_lines_are_bounded_too() {
    let mut long_chunk_line = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1".to_vec();
    long_chunk_line.extend(std::iter::repeat_n(b';', MAX_CHUNK_LINE_BYTES));
    assert!(matches!(
        read_all(10, &[&long_chunk_line]),
        Err(WireError::Malformed(_))
    ));
    let mut trailers = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n".to_vec();
    let mut r = AnswerReader::new(10);
    r.feed(&trailers).unwrap();
    trailers.clear();
    let err = loop {
        if let Err(e) = r.feed(b"T: 1\r\n") {
            break e;
        }
    };
    assert!(matches!(err, WireError::Malformed(_)), "{err:?}");
}

#[test]
fn broken_answers_are_malformed_and_early_ends_are_closed() {
    for raw in [
        &b"SSH-2.0-OpenSSH\r\n\r\n"[..],
        b"HTTP/1.1 20 OK\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nno colon\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nbad name: x\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: 1, 2\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nab\r\n",
    ] {
        let got = read_all(100, &[raw]);
        assert!(
            matches!(got, Err(WireError::Malformed(_))),
            "{:?}: {got:?}",
            String::from_utf8_lossy(raw)
        );
        assert_eq!(got.unwrap_err().code(), -5);
    }
    assert_eq!(
        read_all(100, &[b"HTTP/1.1 200 OK\r\nContent-Length: 2, 2\r\n\r\nok"])
            .unwrap()
            .body,
        b"ok"
    );
    let closed = |raw: &[u8]| match read_all(100, &[raw]) {
        Err(WireError::Closed(when)) => when,
        other => panic!("{other:?}"),
    };
    assert_eq!(closed(b""), "without an answer");
    assert!(closed(b"HTTP/1.1 200").contains("headers"));
    assert!(closed(b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nabc")
        .contains("after 3 of the 9 bytes"));
    assert!(
        closed(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab").contains("chunked")
    );
}

#[test]
fn the_request_names_the_host_and_closes() {
    let url = Url::parse("http://Example.com:8080/a/b?q=1").unwrap();
    let req = String::from_utf8(request_bytes(HttpMethod::Post, &url, b"xyz")).unwrap();
    assert!(
        req.starts_with("POST /a/b?q=1 HTTP/1.1\r\nHost: example.com:8080\r\n"),
        "{req}"
    );
    assert!(req.contains("\r\nConnection: close\r\n") && req.contains("\r\nContent-Length: 3\r\n"));
    assert!(req.ends_with("\r\n\r\nxyz"));
    let get = String::from_utf8(request_bytes(
        HttpMethod::Get,
        &Url::parse("https://h.org/").unwrap(),
        b"",
    ))
    .unwrap();
    assert!(
        get.starts_with("GET / HTTP/1.1\r\nHost: h.org\r\n") && !get.contains("Content-Length"),
        "{get}"
    );
}

/// A scripted network: what each call answers, and what it was asked.
#[derive(Default)]
struct FakeWire {
    lookups: Vec<String>,
    connects: Vec<(String, u16, Option<String>)>,
    link: VecDeque<Link>,
    found: Option<String>,
    written: Vec<u8>,
    write_limit: usize,
    reads: VecDeque<Read>,
    read_sizes: Vec<usize>,
    closes: usize,
}

impl Wire for FakeWire {
    fn lookup(&mut self, host: &str) -> Result<(), String> {
        self.lookups.push(host.to_string());
        Ok(())
    }
    fn poll_lookup(&mut self) -> Lookup {
        match &self.found {
            Some(ip) => Lookup::Found(ip.clone()),
            None => Lookup::Failed,
        }
    }
    fn connect(&mut self, ip: &str, port: u16, tls_host: Option<&str>) -> Result<(), String> {
        self.connects
            .push((ip.into(), port, tls_host.map(String::from)));
        Ok(())
    }
    fn poll_link(&mut self) -> Link {
        self.link.pop_front().unwrap_or(Link::Ready)
    }
    fn write(&mut self, bytes: &[u8]) -> Result<usize, String> {
        let n = bytes.len().min(self.write_limit.max(1));
        self.written.extend_from_slice(&bytes[..n]);
        Ok(n)
    }
    fn read(&mut self, max: usize) -> Read {
        self.read_sizes.push(max);
        match self.reads.pop_front() {
            Some(Read::Data(mut d)) if d.len() > max => {
                let rest = d.split_off(max);
                self.reads.push_front(Read::Data(rest));
                Read::Data(d)
            }
            Some(r) => r,
            None => Read::Nothing,
        }
    }
    fn close(&mut self) {
        self.closes += 1;
    }
}

/// A GET of `http://127.0.0.1:9/api`, which the whitelist allows.
fn get_api() -> HttpCall {
    call(
        "http://127.0.0.1:9/api",
        HttpMethod::Get,
        b"",
        &["http://127.0.0.1:9/api"],
    )
}

/// A wire that connects at once, takes every byte written and answers with `reads`.
fn answering(reads: impl Into<VecDeque<Read>>) -> FakeWire {
    FakeWire {
        reads: reads.into(),
        write_limit: usize::MAX,
        ..Default::default()
    }
}

fn call(url: &str, method: HttpMethod, body: &[u8], whitelist: &[&str]) -> HttpCall {
    HttpCall {
        id: 7,
        key: 1,
        mod_name: "m".into(),
        method,
        url: Url::parse(url).unwrap(),
        body: body.to_vec(),
        whitelist: Arc::new(Whitelist::parse(whitelist.iter().copied()).0),
        max_response_bytes: 1 << 20,
        table: Weak::<HttpTable>::new(),
        permissions: {
            let p = crate::permissions::Permissions::new();
            p.grant(crate::permissions::Permission::Network);
            p
        },
    }
}

use std::sync::Arc;

#[test]
fn an_exchange_looks_up_connects_sends_and_reads() {
    let c = call(
        "https://api.example.com/v1/x",
        HttpMethod::Post,
        b"body",
        &["https://api.example.com/v1/"],
    );
    let t0 = Instant::now();
    let mut ex = Exchange::new(&c, t0);
    let mut wire = FakeWire {
        found: Some("10.0.0.1".into()),
        link: VecDeque::from([Link::Pending]),
        write_limit: 10,
        ..Default::default()
    };
    assert_eq!(
        ex.step(&c, &mut wire, t0, &mut unlimited()),
        None,
        "still connecting"
    );
    assert_eq!(wire.lookups, ["api.example.com"]);
    assert_eq!(
        wire.connects,
        [(
            "10.0.0.1".to_string(),
            443,
            Some("api.example.com".to_string())
        )]
    );
    wire.reads = VecDeque::from([Read::Data(
        b"HTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok".to_vec(),
    )]);
    let outcome = ex.step(&c, &mut wire, t0, &mut unlimited());
    assert_eq!(
        outcome,
        Some(HttpOutcome::Response {
            status: 201,
            body: b"ok".to_vec()
        })
    );
    let sent = String::from_utf8(wire.written.clone()).unwrap();
    assert!(
        sent.starts_with("POST /v1/x HTTP/1.1\r\nHost: api.example.com\r\n")
            && sent.ends_with("\r\n\r\nbody"),
        "{sent}"
    );
    assert_eq!(wire.closes, 1);
}

#[test]
fn an_exchange_reads_at_most_its_frame_budget_per_step() {
    let c = get_api();
    let t0 = Instant::now();
    let mut ex = Exchange::new(&c, t0);
    let mut head = b"HTTP/1.1 200 OK\r\nContent-Length: 1048576\r\n\r\n".to_vec();
    head.extend(std::iter::repeat_n(b'a', 1 << 20));
    let mut wire = answering(VecDeque::from([Read::Data(head)]));
    let mut steps = 0;
    let outcome = loop {
        steps += 1;
        let before: usize = wire.read_sizes.iter().sum();
        if let Some(o) = ex.step(&c, &mut wire, t0, &mut unlimited()) {
            break o;
        }
        let asked: usize = wire.read_sizes.iter().sum::<usize>() - before;
        assert!(
            asked <= READ_BYTES_PER_FRAME,
            "one step asked for {asked} bytes"
        );
    };
    assert!(wire.lookups.is_empty(), "an IP address is not looked up");
    assert!(steps >= 4, "1 MiB arrived in {steps} steps");
    assert!(
        matches!(outcome, HttpOutcome::Response { status: 200, ref body } if body.len() == 1 << 20)
    );
}

#[test]
fn tiny_reads_count_as_a_kibibyte_against_the_frames_budget() {
    // A server that sends its answer one byte per TLS record: each read costs calls into
    // Godot, so a frame allows at most 256 reads for one request, whatever their size.
    let c = get_api();
    let t0 = Instant::now();
    let mut ex = Exchange::new(&c, t0);
    let mut answer = b"HTTP/1.1 200 OK\r\nContent-Length: 4096\r\n\r\n".to_vec();
    answer.extend(std::iter::repeat_n(b'a', 4096));
    let mut wire = answering(
        answer
            .iter()
            .map(|b| Read::Data(vec![*b]))
            .collect::<VecDeque<_>>(),
    );
    let mut budget = ALL_READ_BYTES_PER_FRAME;
    assert!(ex.step(&c, &mut wire, t0, &mut budget).is_none());
    assert_eq!(
        wire.read_sizes.len(),
        READ_BYTES_PER_FRAME / MIN_READ_CHARGE
    );
    assert_eq!(budget, ALL_READ_BYTES_PER_FRAME - READ_BYTES_PER_FRAME);
    // It still arrives, over the frames.
    let outcome = loop {
        if let Some(o) = ex.step(&c, &mut wire, t0, &mut unlimited()) {
            break o;
        }
    };
    assert!(
        matches!(outcome, HttpOutcome::Response { status: 200, ref body } if body.len() == 4096)
    );
}

#[test]
fn an_exchange_refuses_endless_headers_with_minus_3() {
    let c = get_api();
    let t0 = Instant::now();
    let mut ex = Exchange::new(&c, t0);
    let mut endless = b"HTTP/1.1 200 OK\r\n".to_vec();
    while endless.len() < 4 << 20 {
        endless.extend_from_slice(b"X-Filler: 0123456789012345678901234567890123456789\r\n");
    }
    let mut wire = answering(VecDeque::from([Read::Data(endless)]));
    let outcome = ex
        .step(&c, &mut wire, t0, &mut unlimited())
        .expect("refused within the first frame's budget");
    let HttpOutcome::Failed { code, message } = outcome else {
        panic!()
    };
    assert_eq!(code, -3);
    assert!(
        message.contains("headers") && message.contains("hung up"),
        "{message}"
    );
    assert!(wire.read_sizes.iter().sum::<usize>() <= READ_BYTES_PER_FRAME);
    assert_eq!(wire.closes, 1);
}

#[test]
fn an_exchange_follows_whitelisted_redirects_and_refuses_others() {
    let c = call(
        "http://127.0.0.1:9/api/a",
        HttpMethod::Post,
        b"data",
        &["http://127.0.0.1:9/api"],
    );
    let t0 = Instant::now();
    let mut ex = Exchange::new(&c, t0);
    let mut wire = answering(VecDeque::from([
        Read::Data(b"HTTP/1.1 302 Found\r\nLocation: /api/b\r\nContent-Length: 5\r\n\r\n".to_vec()),
        Read::Data(b"HTTP/1.1 200 OK\r\n\r\nfinal".to_vec()),
        Read::Closed(Vec::new()),
    ]));
    let outcome = ex.step(&c, &mut wire, t0, &mut unlimited());
    assert_eq!(
        outcome,
        Some(HttpOutcome::Response {
            status: 200,
            body: b"final".to_vec()
        })
    );
    let sent = String::from_utf8(wire.written.clone()).unwrap();
    assert!(
        sent.contains("GET /api/b HTTP/1.1"),
        "a 302 after POST continues as GET: {sent}"
    );
    assert_eq!(wire.connects.len(), 2);
    let mut off = Exchange::new(&c, t0);
    let mut wire = answering(VecDeque::from([Read::Data(
        b"HTTP/1.1 307 x\r\nLocation: http://127.0.0.1:10/api\r\n\r\n".to_vec(),
    )]));
    let Some(HttpOutcome::Failed { code: -3, message }) =
        off.step(&c, &mut wire, t0, &mut unlimited())
    else {
        panic!()
    };
    assert!(message.contains("redirected to"), "{message}");
    assert_eq!(wire.connects.len(), 1);
}

#[test]
fn an_exchange_times_out_and_reports_network_failures() {
    let c = call(
        "http://h.example/api",
        HttpMethod::Get,
        b"",
        &["http://h.example/api"],
    );
    let t0 = Instant::now();
    let mut ex = Exchange::new(&c, t0);
    let mut wire = FakeWire {
        found: None,
        ..Default::default()
    };
    let Some(HttpOutcome::Failed { code: -5, message }) =
        ex.step(&c, &mut wire, t0, &mut unlimited())
    else {
        panic!()
    };
    assert!(message.contains("cannot resolve `h.example`"), "{message}");
    let mut ex = Exchange::new(&c, t0);
    let mut wire = FakeWire {
        found: Some("1.2.3.4".into()),
        link: VecDeque::from(vec![Link::Pending; 10]),
        ..Default::default()
    };
    assert_eq!(ex.step(&c, &mut wire, t0, &mut unlimited()), None);
    let late = t0 + REQUEST_TIMEOUT + Duration::from_millis(1);
    let Some(HttpOutcome::Failed { code: -5, message }) =
        ex.step(&c, &mut wire, late, &mut unlimited())
    else {
        panic!()
    };
    assert!(
        message.contains("no complete answer within 30 s"),
        "{message}"
    );
    assert_eq!(wire.closes, 1);
    let mut ex = Exchange::new(&c, t0);
    let mut wire = FakeWire {
        found: Some("1.2.3.4".into()),
        reads: VecDeque::from([
            Read::Data(b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nab".to_vec()),
            Read::Closed(Vec::new()),
        ]),
        write_limit: usize::MAX,
        ..Default::default()
    };
    let Some(HttpOutcome::Failed { code: -5, message }) =
        ex.step(&c, &mut wire, t0, &mut unlimited())
    else {
        panic!()
    };
    assert!(message.contains("after 2 of the 9 bytes"), "{message}");
}

#[test]
fn requests_share_the_frames_read_budget() {
    let c = get_api();
    let t0 = Instant::now();
    let body = || {
        let mut raw = b"HTTP/1.1 200 OK\r\n\r\n".to_vec();
        raw.extend(std::iter::repeat_n(b'a', 1 << 20));
        raw
    };
    let mut pairs: Vec<(Exchange, FakeWire)> = (0..12)
        .map(|_| {
            let wire = answering(VecDeque::from([Read::Data(body())]));
            (Exchange::new(&c, t0), wire)
        })
        .collect();
    let mut budget = ALL_READ_BYTES_PER_FRAME;
    for (ex, wire) in &mut pairs {
        assert_eq!(ex.step(&c, wire, t0, &mut budget), None);
    }
    let asked: usize = pairs
        .iter()
        .map(|(_, w)| w.read_sizes.iter().sum::<usize>())
        .sum();
    assert!(
        asked <= ALL_READ_BYTES_PER_FRAME,
        "one frame asked for {asked} bytes"
    );
    assert_eq!(budget, 0);
    assert!(
        pairs[11].1.read_sizes.is_empty(),
        "the last request waits for the next frame"
    );
}

/// A frame budget no single test reaches.
fn unlimited() -> usize {
    usize::MAX
}

/// `revoke_permission("network")` takes the permission back at once: a request in flight stops
/// at its next step with -6 and its wire is closed (it kept going, redirects included, and its
/// answer was delivered).
#[test]
fn a_request_whose_permission_is_revoked_stops_at_its_next_step() {
    let c = call(
        "https://api.example.com/v1/x",
        HttpMethod::Get,
        b"",
        &["https://api.example.com/v1/"],
    );
    let t0 = Instant::now();
    let mut ex = Exchange::new(&c, t0);
    let mut wire = FakeWire {
        found: Some("10.0.0.1".into()),
        link: VecDeque::from([Link::Pending]),
        write_limit: usize::MAX,
        ..Default::default()
    };
    assert_eq!(ex.step(&c, &mut wire, t0, &mut unlimited()), None);
    c.permissions
        .revoke(crate::permissions::Permission::Network);
    wire.reads = VecDeque::from([Read::Data(
        b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok".to_vec(),
    )]);
    match ex.step(&c, &mut wire, t0, &mut unlimited()) {
        Some(HttpOutcome::Failed { code, message }) => {
            assert_eq!(code, -6);
            assert!(message.contains("revoked"), "{message}");
        }
        other => panic!("expected -6, got {other:?}"),
    }
    assert!(wire.closes > 0, "the wire was closed");
}

/// A request's body goes out from the call's own copy after the head, in pieces of at most
/// [`WRITE_CHUNK_BYTES`] whatever the connection takes at a time, byte for byte what
/// `request_bytes` makes (the exchange copied head and body into a second buffer, one more
/// copy of up to 8 MiB per request, kept while it was sent).
#[test]
fn a_request_body_goes_out_whole_after_its_head_in_pieces() {
    let body: Vec<u8> = (0..WRITE_CHUNK_BYTES * 2 + 12345)
        .map(|i| (i % 251) as u8)
        .collect();
    let c = call(
        "http://127.0.0.1:9/api",
        HttpMethod::Put,
        &body,
        &["http://127.0.0.1:9/api"],
    );
    for limit in [1usize, 7, 4096, WRITE_CHUNK_BYTES + 1, usize::MAX] {
        let mut wire = FakeWire {
            write_limit: limit,
            ..FakeWire::default()
        };
        let t0 = Instant::now();
        let mut ex = Exchange::new(&c, t0);
        let mut steps = 0;
        // Each step writes until the wire takes nothing or the request is sent; nothing is
        // read yet, so the exchange waits for the answer afterwards.
        while wire.written.len() < body.len() && steps < 10_000 {
            assert_eq!(ex.step(&c, &mut wire, t0, &mut unlimited()), None);
            steps += 1;
        }
        let whole = request_bytes(HttpMethod::Put, &c.url, &body);
        assert_eq!(wire.written.len(), whole.len(), "limit {limit}");
        assert!(
            wire.written == whole,
            "limit {limit}: the bytes on the wire"
        );
        assert_eq!(
            request_head(HttpMethod::Put, &c.url, body.len()),
            whole[..whole.len() - body.len()]
        );
    }
}
