## Level 2, HTTP against two local servers on 127.0.0.1 (one whitelisted, one not): the `network`
## grant, GET and POST bodies intact (from a callback and from `main`), URLs off the whitelist,
## redirects, the response cap, and the same mod giving the same results at levels 2 and 3.
extends "res://tests/lib/level2_test.gd"

const HttpTestServer := preload("res://tests/lib/http_test_server.gd")

var server: HttpTestServer
var evil: HttpTestServer


## Starts both servers and whitelists `http://127.0.0.1:<port>/api` of the first.
func _servers() -> bool:
	server = HttpTestServer.new()
	evil = HttpTestServer.new()
	var ok := server.start(tree) and evil.start(tree) and server.port != evil.port
	expect(ok, "cannot start the test HTTP servers on 127.0.0.1")
	server.redirect_target = evil.url("/api/hello")
	set_setting(URL_WHITELIST, PackedStringArray([server.url("/api")]))
	return ok


func cleanup() -> void:
	if server != null:
		server.stop()
	if evil != null:
		evil.stop()
	await super()


## Waits for the mod's `response <id> ...` report and returns it ("" on timeout).
func _response(id: Variant, timeout_ms := 10000) -> String:
	var prefix := "response %s " % str(id)
	var box := [""]
	var seen: bool = await wait_until(func() -> bool:
		for line in reports:
			if line.begins_with(prefix):
				box[0] = line
				return true
		return false, timeout_ms)
	expect(seen, "no %s... within %d ms; last reports: %s" % [prefix, timeout_ms, reports.slice(-3)])
	return box[0]


## `http_request` through the mod; returns the id (or the negative code).
func _request(probe: ModProbe, url: String, method := "GET", body := "") -> Variant:
	return op_code(probe, 6, [url, method, body])


func _networked_mod(id: String, level := 2) -> ModProbe:
	var probe := level2_mod(id, level)
	probe.node.grant_permission("network")
	return probe


func test_http_needs_the_network_permission() -> void:
	if not _servers():
		return
	var probe := level2_mod("l2_http_grant")
	forget_grants(probe)
	var denied := op(probe, 6, [server.url("/api/hello"), "GET", ""])
	expect_eq(denied[0], -6, "http_request without the grant")
	expect_contains(denied[1], "`network` permission", "message")
	expect_eq(op_code(probe, 5, ["network"]), 0, "request_permission(network)")
	await frames(2)
	expect_eq(permission_requests.size(), 1, "permission_requested emissions")
	probe.node.grant_permission("network")
	var id: Variant = _request(probe, server.url("/api/hello"))
	if expect(id is int and id > 0, "http_request with the grant returned %s" % [id]):
		expect(( await _response(id)).begins_with("response %d 200 1024 " % id), "the response arrives")
	# The same through the Rust SDK's `http::request`.
	var sdk_id: Variant = op_code(probe, 12, [server.url("/api/hello"), "GET", ""])
	if expect(sdk_id is int and sdk_id > 0, "http::request returned %s" % [sdk_id]):
		expect(( await _response(sdk_id)).begins_with("response %d 200 1024 " % sdk_id), "the SDK request's response arrives")
	expect_eq(server.paths(), PackedStringArray(["/api/hello", "/api/hello"]), "requests the server saw")
	forget_grants(probe)


func test_whitelisted_get_and_post_arrive_intact() -> void:
	if not _servers():
		return
	var probe := _networked_mod("l2_http_ok")
	var get_id: Variant = _request(probe, server.url("/api/hello"))
	var got := await _response(get_id)
	expect(got == "response %d 200 1024 %s" % [get_id, HttpTestServer.hello_body().hex_encode()], "GET /api/hello: the body differs (%s...)" % got.left(60))
	var body := "héllo ✓ {\"json\": [1, 2, 3]} "
	for i in 400:
		body += "line %d of the POST body\n" % i
	var post_id: Variant = _request(probe, server.url("/api/echo"), "POST", body)
	var sent := body.to_utf8_buffer()
	var echoed := await _response(post_id)
	expect(echoed == "response %d 200 %d %s" % [post_id, sent.size(), sent.hex_encode()], "POST /api/echo: the echoed body differs (%s...)" % echoed.left(60))
	var posted := server.requests.filter(func(r: Array) -> bool: return r[1] == "/api/echo")
	if expect_eq(posted.size(), 1, "POST requests the server saw"):
		expect_eq(posted[0][0], "POST", "method the server saw")
		expect(posted[0][2] == sent, "the server got the body intact (%d bytes, sent %d)" % [posted[0][2].size(), sent.size()])
	var redirected: Variant = _request(probe, server.url("/api/redirect-ok"))
	expect(( await _response(redirected)).begins_with("response %d 200 1024 " % redirected), "a redirect inside the whitelist is followed")
	var chunked: Variant = _request(probe, server.url("/api/chunked"))
	var dechunked := await _response(chunked)
	expect(dechunked == "response %d 200 1024 %s" % [chunked, HttpTestServer.hello_body().hex_encode()], "a chunked body arrives whole (%s...)" % dechunked.left(60))
	expect_eq(server.paths(), PackedStringArray(["/api/hello", "/api/echo", "/api/redirect-ok", "/api/hello", "/api/chunked"]), "requests the server saw")
	# The same from `main`, on the worker thread (through the main-thread bridge), polling http_body.
	var worker := new_mod("http_poll", {"wasm_file": LEVEL2_MAIN_WASM, "safety_level": 2, "args": PackedStringArray(["http-poll", server.url("/api/hello")])})
	worker.node.grant_permission("network")
	if await run_to_end(worker):
		expect(worker.has_output("polled 1024 0001020304050607"), "main polled the body: %s" % worker.describe())
	forget_grants(probe)
	forget_grants(worker)


func test_urls_off_the_whitelist_are_refused() -> void:
	if not _servers():
		return
	var probe := _networked_mod("l2_http_refused")
	var refused := [
		evil.url("/api/hello"),
		"https://127.0.0.1:%d/api/hello" % server.port,
		"http://localhost:%d/api/hello" % server.port,
		server.url("/apix"),
		server.url("/secret"),
		server.url("/api/../secret"),
		server.url("/api/%2e%2e/secret"),
		server.url("/api/..;/secret"),
		server.url("/API/hello"),
		"http://127.0.0.1:%d@127.0.0.1:%d/api/hello" % [server.port, evil.port],
		"http://allowed@127.0.0.1:%d/api/hello" % evil.port,
		"http://127.0.0.1:%d\\@127.0.0.1:%d/api/hello" % [server.port, evil.port],
		"ftp://127.0.0.1:%d/api/hello" % server.port,
		"http://127.0.0.1:%d/api/hello#x y" % server.port,
	]
	for url: String in refused:
		var outcome := op(probe, 6, [url, "GET", ""])
		expect_eq(outcome[0], -3, "http_request(%s)" % url)
		expect_contains(outcome[1], "refused", "message for %s" % url)
	expect_eq(_request(probe, server.url("/api/hello"), "CONNECT"), -3, "method CONNECT")
	var huge_method := op(probe, 6, [server.url("/api/hello"), "\u0001".repeat(100000), ""])
	expect_eq(huge_method[0], -3, "a 100,000-byte method")
	expect_contains(huge_method[1], "not 100000 bytes", "message of the huge method")
	expect_eq(_request(probe, server.url("/api/hello"), "GET", "a body"), -3, "GET with a body")
	var to_evil: Variant = _request(probe, server.url("/api/redirect-evil"))
	var answer := await _response(to_evil)
	expect(answer.begins_with("response %d -3 error -3: " % to_evil), "a redirect off the whitelist fails with -3: %s" % answer)
	expect_contains(answer, "redirected to", "message of the refused redirect")
	var looping: Variant = _request(probe, server.url("/api/redirect-loop"))
	expect_contains(await _response(looping), "redirected more than 5 times", "a redirect loop")
	# A redirect to a URL over the length limit whose 64th byte is inside a character: refused
	# (-3), the other requests of the frame unharmed.
	var long_redirect: Variant = _request(probe, server.url("/api/redirect-long"))
	var beside: Variant = _request(probe, server.url("/api/chunked"))
	var long_answer := await _response(long_redirect)
	expect(long_answer.begins_with("response %d -3 error -3: " % long_redirect), "a redirect to a 2 KiB URL fails with -3: %s" % long_answer)
	expect_contains(long_answer, "longer than 2048 bytes", "message of the long redirect")
	expect(( await _response(beside)).begins_with("response %d 200" % beside), "the request beside it is answered")
	await frames(5)
	expect_eq(evil.connections_seen, 0, "connections to the server that is not whitelisted")
	for path in server.paths():
		expect(path in ["/api/redirect-evil", "/api/redirect-loop", "/api/redirect-long", "/api/chunked"],
			"the whitelisted server saw %s" % path)
	forget_grants(probe)


func test_an_oversized_response_is_cut_off() -> void:
	if not _servers():
		return
	set_setting(HTTP_RESPONSE_KB, 64)
	var probe := _networked_mod("l2_http_big")
	var declared: Variant = _request(probe, server.url("/api/big"))
	var big := await _response(declared)
	expect(big.begins_with("response %d -3 error -3: " % declared), "a declared 4 MiB body: %s" % big)
	expect_contains(big, "declares 4194304 bytes", "message for the declared length")
	var streamed: Variant = _request(probe, server.url("/api/stream"))
	var stream := await _response(streamed)
	expect(stream.begins_with("response %d -3 error -3: " % streamed), "a 32 MiB body with no length: %s" % stream)
	expect_contains(stream, "was cut off after", "message for the streamed body")
	await frames(10)
	print("stream: the server sent %d of %d bytes before WasGo hung up" % [server.stream_sent, HttpTestServer.STREAM_BYTES])
	expect(not server.stream_completed and server.stream_sent < HttpTestServer.STREAM_BYTES, "the streamed body was not loaded whole (%d bytes sent)" % server.stream_sent)
	var after: Variant = _request(probe, server.url("/api/hello"))
	expect(( await _response(after)).begins_with("response %d 200 1024 " % after), "a small response still arrives")
	forget_grants(probe)


## A whitelisted server that sends header lines without end: WasGo stops reading at 64 KiB of
## headers, hangs up and reports -3; the game's frames go on meanwhile (Godot's `HTTPClient`
## read such headers one byte per `recv`, without a bound, inside one `poll()`).
func test_a_server_sending_endless_headers_is_cut_off() -> void:
	if not _servers():
		return
	var probe := _networked_mod("l2_http_headers")
	var frame_before := Engine.get_process_frames()
	var id: Variant = _request(probe, server.url("/api/endless-headers"))
	var answer := await _response(id)
	expect(answer.begins_with("response %d -3 error -3: " % id), "endless headers are refused with -3: %s" % answer)
	expect_contains(answer, "headers", "message names the headers")
	expect_contains(answer, "hung up", "message says WasGo hung up")
	await frames(10)
	print("endless headers: the server sent %d bytes over %d frames before WasGo hung up" % [server.headers_sent, Engine.get_process_frames() - frame_before])
	expect(not server.headers_completed and server.headers_sent < HttpTestServer.STREAM_BYTES / 4, "the headers were not read to the end (%d bytes sent)" % server.headers_sent)
	var after: Variant = _request(probe, server.url("/api/hello"))
	expect(( await _response(after)).begins_with("response %d 200 1024 " % after), "a normal response still arrives")
	forget_grants(probe)


## HTTPS to a whitelisted server whose certificate the game does not trust (self-signed): the
## TLS handshake runs and fails, the request ends with -5 and nothing reaches the server.
func test_https_refuses_a_certificate_the_game_does_not_trust() -> void:
	var crypto := Crypto.new()
	var key := crypto.generate_rsa(2048)
	var cert := crypto.generate_self_signed_certificate(key, "CN=127.0.0.1,O=WasGo test,C=US")
	var secure := HttpTestServer.new()
	secure.tls_options = TLSOptions.server(key, cert)
	if not expect(secure.start(tree), "cannot start the test HTTPS server"):
		return
	set_setting(URL_WHITELIST, PackedStringArray([secure.url("/api")]))
	var probe := _networked_mod("l2_https_untrusted")
	var id: Variant = _request(probe, secure.url("/api/hello"))
	var answer := await _response(id)
	secure.stop()
	expect(answer.begins_with("response %d -5 error -5: " % id), "an untrusted certificate fails the request: %s" % answer)
	expect_contains(answer, "TLS", "message names TLS")
	expect_eq(secure.connections_seen, 1, "connections the HTTPS server took")
	expect_eq(secure.requests.size(), 0, "requests that reached the HTTPS server")
	forget_grants(probe)


## HTTPS to a server whose certificate the game trusts, end to end: a certificate made here is
## trusted through `network/tls/certificate_bundle_override`, which Godot reads only at start, so
## the requests run in a second Godot process on a throwaway project (`user://https_check/`:
## its own `project.godot`, this project's `addons/` and `tests/` linked in); see
## `tests/https_check/https_check.gd`.
func test_https_to_a_trusted_server_works_end_to_end() -> void:
	var dir := ProjectSettings.globalize_path("user://https_check")
	if not expect(_remove_https_check(), "removing an earlier %s" % dir):
		return
	if not expect_eq(DirAccess.make_dir_recursive_absolute(dir.path_join(".godot")), OK, "making %s" % dir):
		return
	var crypto := Crypto.new()
	var key := crypto.generate_rsa(2048)
	var cert := crypto.generate_self_signed_certificate(key, "CN=localhost,O=WasGo test,C=US")
	expect_eq(key.save(dir.path_join("server.key")), OK, "saving the key")
	expect_eq(cert.save(dir.path_join("ca.crt")), OK, "saving the certificate")
	var project := FileAccess.open(dir.path_join("project.godot"), FileAccess.WRITE)
	project.store_string("config_version=5\n\n[application]\n\nconfig/name=\"WasGo HTTPS check\"\n\n[network]\n\ntls/certificate_bundle_override=\"%s\"\n" % dir.path_join("ca.crt"))
	project.close()
	var extensions := FileAccess.open(dir.path_join(".godot/extension_list.cfg"), FileAccess.WRITE)
	extensions.store_string("res://addons/wasgo/wasgo.gdextension\n")
	extensions.close()
	var links := DirAccess.open(dir)
	for linked in ["addons", "tests"]:
		expect_eq(links.create_link(ProjectSettings.globalize_path("res://" + linked), dir.path_join(linked)), OK, "linking %s" % linked)
	var output: Array = []
	var code := OS.execute(OS.get_executable_path(), PackedStringArray(["--headless", "--path", dir,
		"-s", "res://tests/https_check/https_check.gd"]), output, true)
	var text := "\n".join(PackedStringArray(output))
	expect(_remove_https_check(), "removing %s" % dir)
	if not expect_contains(text, "\ndone", "the HTTPS process ran to its end"):
		print(text)
		return
	expect_eq(code, 0, "exit code (output:\n%s)" % text)
	expect_contains(text, "start 0", "the mod started")
	var hello := HttpTestServer.hello_body().hex_encode()
	expect_contains(text, "https /api/hello -> response 1 200 1024 %s" % hello.left(100), "a plain body over HTTPS")
	expect_contains(text, "https /api/chunked -> response 2 200 1024 %s" % hello.left(100), "a chunked body over HTTPS")
	expect_contains(text, "https /api/redirect-evil -> response 3 200 1024 ", "a whitelisted redirect over HTTPS")
	expect_contains(text, "https /api/endless-headers -> response 4 -3 error -3: ", "endless headers over HTTPS")
	expect_contains(text, "[\"/api/hello\", \"/api/chunked\", \"/api/redirect-evil\", \"/api/hello\", \"/api/endless-headers\"]", "the requests the HTTPS server saw")


## Removes `user://https_check/`: its links to this project's folders first (a recursive removal
## would follow them into the project), then the rest. False if a link could not be removed.
func _remove_https_check() -> bool:
	var dir := DirAccess.open("user://https_check/")
	if dir == null:
		return true
	for linked in ["addons", "tests"]:
		if dir.is_link(linked) and dir.remove(linked) != OK:
			return false
		if dir.dir_exists(linked):
			return false
	remove_tree("user://https_check/")
	return not DirAccess.dir_exists_absolute("user://https_check/")


## Files and HTTP through the same mod at `level`; returns what it reported.
func _scenario(level: int) -> PackedStringArray:
	var id := "l2_levels"
	remove_tree(sandbox(id))
	reports.clear()
	var probe := level2_mod(id, level)
	forget_grants(probe)
	op(probe, 1, ["a.txt", "x"])
	probe.node.grant_permission("files")
	probe.node.grant_permission("network")
	op(probe, 1, ["dir/a.txt", "level-independent ✓"])
	op(probe, 3, [""])
	op(probe, 3, ["dir"])
	op(probe, 2, ["dir/a.txt"])
	op(probe, 1, ["../escape.txt", "x"])
	op(probe, 4, ["dir/a.txt"])
	op(probe, 2, ["dir/a.txt"])
	op(probe, 6, [evil.url("/api/hello"), "GET", ""])
	var get_id: Variant = op_code(probe, 6, [server.url("/api/hello"), "GET", ""])
	await _response(get_id)
	var post_id: Variant = op_code(probe, 6, [server.url("/api/echo"), "POST", "body ✓"])
	await _response(post_id)
	var evil_id: Variant = op_code(probe, 6, [server.url("/api/redirect-evil"), "GET", ""])
	await _response(evil_id)
	forget_grants(probe)
	remove_tree(sandbox(id))
	return reports.duplicate()


func test_the_same_mod_gives_the_same_results_at_levels_2_and_3() -> void:
	if not _servers():
		return
	var two := await _scenario(2)
	var three := await _scenario(3)
	expect_eq(two.size(), 15, "reports at level 2: %s" % [two])
	expect_eq(three, two, "reports at level 3 compared with level 2")
	print("level 2 and 3 reports: %s" % [two])
