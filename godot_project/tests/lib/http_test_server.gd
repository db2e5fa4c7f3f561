## A tiny HTTP/1.1 server on 127.0.0.1 for the level-2 HTTP tests.
##
## Loopback only, a few fixed routes, polled on every frame of the test's SceneTree. `stop()` is
## called by the test's cleanup, and the server stops by itself after `LIFETIME_MS` whatever
## happens. Responses go out with non-blocking writes, so a client that stops reading can never
## block the game's main thread (the mods' HTTP client runs on that same thread).
##
## Routes: `/api/hello` (1024 bytes 0..255 repeated), `/api/echo` (the request body back),
## `/api/redirect-ok` (302 to `/api/hello`), `/api/redirect-evil` (302 to `redirect_target`),
## `/api/redirect-loop` (302 to itself), `/api/redirect-long` (302 to a 2 KiB URL that is not
## ASCII), `/api/big` (declares 4 MiB), `/api/stream` (up to
## `STREAM_BYTES` with no length, until the client hangs up), `/api/chunked` (the body of
## `/api/hello` in chunks), `/api/endless-headers` (header lines, up to `STREAM_BYTES`, until
## the client hangs up); anything else is 404.
extends RefCounted

const LIFETIME_MS := 60000
const STREAM_BYTES := 32 * 1024 * 1024
const PIECE_BYTES := 64 * 1024
const PIECES_PER_FRAME := 8
const MAX_REQUEST_BYTES := 1024 * 1024

var port := 0
## Every request handled: [method, path, body: PackedByteArray].
var requests: Array = []
var connections_seen := 0
## Bytes of `/api/stream` that went out before the client hung up.
var stream_sent := 0
var stream_completed := false
## Bytes of `/api/endless-headers` that went out before the client hung up.
var headers_sent := 0
var headers_completed := false
## Where `/api/redirect-evil` points.
var redirect_target := ""
## Set before `start()` to serve HTTPS with these options (`TLSOptions.server(key, cert)`).
var tls_options: TLSOptions = null
## TLS connections whose handshake failed (the client refused the certificate).
var tls_failures := 0

var _server := TCPServer.new()
var _clients: Array[Dictionary] = []
var _tree: SceneTree
var _started_at := 0


## Listens on a free port of 127.0.0.1; false if none could be found.
func start(tree: SceneTree) -> bool:
	for attempt in 50:
		var candidate := 20000 + randi() % 30000
		if _server.listen(candidate, "127.0.0.1") == OK:
			port = candidate
			_tree = tree
			_started_at = Time.get_ticks_msec()
			tree.process_frame.connect(poll)
			return true
	return false


func url(path: String) -> String:
	return "%s://127.0.0.1:%d%s" % ["https" if tls_options != null else "http", port, path]


func stop() -> void:
	if _tree != null and _tree.process_frame.is_connected(poll):
		_tree.process_frame.disconnect(poll)
	for c in _clients:
		(c["peer"] as StreamPeerTCP).disconnect_from_host()
	_clients.clear()
	_server.stop()


## Paths of the requests handled so far.
func paths() -> PackedStringArray:
	var found: PackedStringArray = []
	for r in requests:
		found.append(r[1])
	return found


func poll() -> void:
	if Time.get_ticks_msec() - _started_at > LIFETIME_MS:
		stop()
		return
	while _server.is_connection_available():
		var peer := _server.take_connection()
		connections_seen += 1
		var client := {"peer": peer, "io": peer, "in": PackedByteArray(), "out": PackedByteArray(),
			"handled": false, "stream_left": 0, "streaming": ""}
		if tls_options != null:
			var tls := StreamPeerTLS.new()
			if tls.accept_stream(peer, tls_options) != OK:
				tls_failures += 1
				peer.disconnect_from_host()
				continue
			client["io"] = tls
		_clients.append(client)
	for c in _clients.duplicate():
		_pump(c)


func _drop(c: Dictionary) -> void:
	if c["io"] is StreamPeerTLS:
		(c["io"] as StreamPeerTLS).disconnect_from_stream()
	(c["peer"] as StreamPeerTCP).disconnect_from_host()
	_clients.erase(c)


func _pump(c: Dictionary) -> void:
	var peer: StreamPeer = c["io"]
	if peer is StreamPeerTLS:
		var tls := peer as StreamPeerTLS
		tls.poll()
		if tls.get_status() == StreamPeerTLS.STATUS_HANDSHAKING:
			return
		if tls.get_status() != StreamPeerTLS.STATUS_CONNECTED:
			tls_failures += 1
			_clients.erase(c)
			return
	else:
		var tcp := peer as StreamPeerTCP
		tcp.poll()
		if tcp.get_status() != StreamPeerTCP.STATUS_CONNECTED:
			_clients.erase(c)
			return
	var available := 16384 if peer is StreamPeerTLS else peer.get_available_bytes()
	if available > 0:
		var got: Array = peer.get_partial_data(available)
		if got[0] == OK:
			# Packed arrays are values: append to a copy and store it back.
			var buf: PackedByteArray = c["in"]
			buf.append_array(got[1])
			c["in"] = buf
	if (c["in"] as PackedByteArray).size() > MAX_REQUEST_BYTES:
		_drop(c)
		return
	if not c["handled"]:
		_try_handle(c)
	for piece in PIECES_PER_FRAME:
		if (c["out"] as PackedByteArray).is_empty() and c["stream_left"] > 0:
			var n: int = mini(PIECE_BYTES, c["stream_left"])
			var chunk := PackedByteArray()
			if c["streaming"] == "headers":
				# 64-byte header lines.
				chunk = "X-Filler: ".to_ascii_buffer()
				var pad := PackedByteArray()
				pad.resize(52)
				pad.fill(65)
				chunk.append_array(pad)
				chunk.append_array("\r\n".to_ascii_buffer())
				while chunk.size() < n:
					chunk.append_array(chunk.slice(0, mini(chunk.size(), n - chunk.size())))
			else:
				chunk.resize(n)
				chunk.fill(65)
			c["out"] = chunk
			c["stream_left"] -= n
		var out: PackedByteArray = c["out"]
		if out.is_empty():
			break
		var sent: Array = peer.put_partial_data(out)
		if sent[0] != OK:
			_drop(c)
			return
		var n_sent: int = sent[1]
		if c["streaming"] == "body":
			stream_sent += n_sent
		elif c["streaming"] == "headers":
			headers_sent += n_sent
		c["out"] = out.slice(n_sent)
		if n_sent < out.size():
			break
	if c["handled"] and (c["out"] as PackedByteArray).is_empty() and c["stream_left"] == 0:
		if c["streaming"] == "body":
			stream_completed = true
		elif c["streaming"] == "headers":
			headers_completed = true
		_drop(c)


func _header_end(buf: PackedByteArray) -> int:
	for i in range(0, buf.size() - 3):
		if buf[i] == 13 and buf[i + 1] == 10 and buf[i + 2] == 13 and buf[i + 3] == 10:
			return i
	return -1


func _try_handle(c: Dictionary) -> void:
	var buf: PackedByteArray = c["in"]
	var end := _header_end(buf)
	if end < 0:
		return
	var lines := buf.slice(0, end).get_string_from_ascii().split("\r\n")
	var first := lines[0].split(" ")
	if first.size() < 2:
		_drop(c)
		return
	var length := 0
	for line in lines.slice(1):
		var parts := line.split(":", true, 1)
		if parts.size() == 2 and parts[0].strip_edges().to_lower() == "content-length":
			length = parts[1].strip_edges().to_int()
	if buf.size() - (end + 4) < length:
		return
	c["handled"] = true
	_respond(c, first[0], first[1], buf.slice(end + 4, end + 4 + length))


func _head(status: int, reason: String, headers: Dictionary) -> PackedByteArray:
	var text := "HTTP/1.1 %d %s\r\nConnection: close\r\n" % [status, reason]
	for key: String in headers:
		text += "%s: %s\r\n" % [key, headers[key]]
	return (text + "\r\n").to_utf8_buffer()


func _send(c: Dictionary, status: int, reason: String, body: PackedByteArray) -> void:
	var out := _head(status, reason, {"Content-Length": str(body.size())})
	out.append_array(body)
	c["out"] = out


func _redirect(c: Dictionary, location: String) -> void:
	c["out"] = _head(302, "Found", {"Location": location, "Content-Length": "0"})


## The body of `/api/hello`: 1024 bytes, 0..255 four times.
static func hello_body() -> PackedByteArray:
	var body := PackedByteArray()
	for i in 1024:
		body.append(i % 256)
	return body


func _respond(c: Dictionary, method: String, path: String, body: PackedByteArray) -> void:
	requests.append([method, path, body])
	match path:
		"/api/hello":
			_send(c, 200, "OK", hello_body())
		"/api/echo":
			_send(c, 200, "OK", body)
		"/api/redirect-ok":
			_redirect(c, "/api/hello")
		"/api/redirect-evil":
			_redirect(c, redirect_target)
		"/api/redirect-loop":
			_redirect(c, "/api/redirect-loop")
		"/api/redirect-long":
			# Over the URL length limit, with a two-byte character across byte 64.
			_redirect(c, "http://" + "a".repeat(56) + "é" + "a".repeat(2100))
		"/api/big":
			c["out"] = _head(200, "OK", {"Content-Length": str(4 * 1024 * 1024)})
			c["stream_left"] = 4 * 1024 * 1024
		"/api/stream":
			c["out"] = _head(200, "OK", {})
			c["stream_left"] = STREAM_BYTES
			c["streaming"] = "body"
		"/api/endless-headers":
			c["out"] = "HTTP/1.1 200 OK\r\nConnection: close\r\n".to_ascii_buffer()
			c["stream_left"] = STREAM_BYTES
			c["streaming"] = "headers"
		"/api/chunked":
			var hello := hello_body()
			var out := "HTTP/1.1 200 OK\r\nConnection: close\r\nTransfer-Encoding: chunked\r\n\r\n".to_ascii_buffer()
			for part: Array in [[0, 1], [1, 500], [501, 523]]:
				out.append_array(("%x;part\r\n" % part[1]).to_ascii_buffer())
				out.append_array(hello.slice(part[0], part[0] + part[1]))
				out.append_array("\r\n".to_ascii_buffer())
			out.append_array("0\r\nX-Trailer: done\r\n\r\n".to_ascii_buffer())
			c["out"] = out
		_:
			_send(c, 404, "Not Found", "not found".to_ascii_buffer())
