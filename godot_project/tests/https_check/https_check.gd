## Run in its own Godot process by `test_level2_http.gd`, in a throwaway project (the test makes
## it in `user://https_check/`, linking this project's `addons/` and `tests/`) whose
## `network/tls/certificate_bundle_override` trusts the certificate the test made: Godot reads
## that setting only when it starts, so a trusted HTTPS server cannot be tested in the suite's
## own process. Serves HTTPS on `localhost` (the test server, with the test's key and
## certificate), whitelists it, and has a level-2 mod fetch a plain body, a chunked body, a
## redirect and endless headers. Prints one `https PATH -> REPORT` line per request, then `done`.
extends SceneTree

const HttpTestServer := preload("res://tests/lib/http_test_server.gd")
const LEVEL2_WASM := "res://tests/mods/level2.wasm"
const TIMEOUT_MS := 20000

var _args: PackedStringArray = []
var _reports: PackedStringArray = []


func _initialize() -> void:
	_run.call_deferred()


func _run() -> void:
	var dir := ProjectSettings.globalize_path("res://")
	var key := CryptoKey.new()
	var cert := X509Certificate.new()
	if key.load(dir.path_join("server.key")) != OK or cert.load(dir.path_join("ca.crt")) != OK:
		print("https setup failed: cannot load the test's key and certificate")
		quit(1)
		return
	var server := HttpTestServer.new()
	server.tls_options = TLSOptions.server(key, cert)
	if not server.start(self):
		print("https setup failed: cannot listen")
		quit(1)
		return
	var base := "https://localhost:%d" % server.port
	server.redirect_target = base + "/api/hello"
	ProjectSettings.set_setting("wasgo/safety/level", 2)
	ProjectSettings.set_setting("wasgo/safety/url_whitelist", PackedStringArray([base + "/api"]))
	WasmEngine.register_function("level2_test", "arg",
		func(i: int) -> String: return _args[i] if i >= 0 and i < _args.size() else "",
		["i32"], ["string"], 1)
	WasmEngine.register_function("level2_test", "report",
		func(text: String) -> void: _reports.append(text), ["string"], [], 1)
	var node := WasmScript.new()
	node.autostart = false
	node.module = WasmEngine.compile_module(FileAccess.get_file_as_bytes(LEVEL2_WASM), "https_check")
	node.safety_level = 2
	root.add_child(node)
	print("start ", node.start())
	node.grant_permission("network")
	for path in ["/api/hello", "/api/chunked", "/api/redirect-evil", "/api/endless-headers"]:
		_args = PackedStringArray([base + path, "GET", ""])
		var id: Variant = node.call_export("op", [6])
		var prefix := "response %s " % str(id)
		var report := ""
		var began := Time.get_ticks_msec()
		while report.is_empty() and Time.get_ticks_msec() - began < TIMEOUT_MS:
			await process_frame
			for line in _reports:
				if line.begins_with(prefix):
					report = line
		print("https %s -> %s" % [path, report.left(200) if not report.is_empty() else "no answer (request %s)" % str(id)])
	print("https server saw %s" % [server.paths()])
	server.stop()
	node.kill()
	node.free()
	print("done")
	quit()
