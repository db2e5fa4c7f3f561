## Go `GOOS=js` programs built with the stock Go toolchain (`mods/tests/gojs_*`, no WasGo
## changes) run as mods: output, sleeping, the clock, crypto/rand, goroutines, the exit code, a
## panic as a trap, `js.FuncOf` functions called by `call_export` and by Godot signals, the `godot`
## object at level 1, and kills while blocked or spinning.
extends "res://tests/lib/wasgo_test.gd"

## A user signal the tests add to the allowlist for Node (connectable by mods).
const PING := "wasgo_test_gojs_ping"
## Go modules are large (about 2 MB): the first compile of each, in a debug build on a busy
## machine, may take longer than the default limit. Speed is not what these tests check.
const COMPILE_TIMEOUT_MS := 600000
## Each test may wait for such a compile.
const TIMEOUT_MS := 240000


## Each test gets a fresh instance of this script: the setting is restored by `cleanup()`.
func _init() -> void:
	set_setting("wasgo/limits/compile_timeout_ms", COMPILE_TIMEOUT_MS)


func test_guest_kinds_are_detected() -> void:
	var examples := "res://demo/mods/"
	for pair in [[MODS + "gojs_basic", "gojs"], [MODS + "gojs_callback", "gojs"], [MODS + "wapc_echo", "wapc"],
			[MODS + "hello", "wasgo"], [examples + "announcer", "gojs"], [examples + "ranker", "wapc"],
			[examples + "mover", "wasgo"], [examples + "archivist", "wasgo"]]:
		var module := WasmEngine.load_module(pair[0] + ".wasm")
		if expect(module != null, "load_module(%s): %s" % [pair[0], WasmEngine.get_last_error()]):
			expect_eq(module.get_guest_kind(), pair[1], "get_guest_kind() of %s" % pair[0])


func test_a_go_module_missing_its_exports_is_refused_naming_them() -> void:
	var wat := '(module (import "gojs" "runtime.wasmExit" (func (param i32))) (memory (export "mem") 1) (func (export "run") (param i32 i32)))'
	var module := WasmEngine.compile_module(wat.to_utf8_buffer(), "half_go")
	expect(module == null, "a Go-js module without `resume` and `getsp` was accepted")
	var error := WasmEngine.get_last_error()
	expect_contains(error, "`resume`", "the load error")
	expect_contains(error, "`getsp`", "the load error")


func test_a_module_mixing_guest_kinds_is_refused() -> void:
	var wat := '(module (import "gojs" "debug" (func (param i32))) (import "wasgo" "log" (func (param i32 i32 i32))) (memory (export "mem") 1) (func (export "run") (param i32 i32)) (func (export "resume")) (func (export "getsp") (result i32) i32.const 0))'
	var module := WasmEngine.compile_module(wat.to_utf8_buffer(), "mixed")
	expect(module == null, "a module importing both `gojs` and `wasgo` was accepted")
	expect_contains(WasmEngine.get_last_error(), "different guest kinds", "the load error")


func test_a_plain_go_program_runs_and_exits_with_its_code() -> void:
	var probe := new_mod("gojs_basic", {"wasm_file": MODS + "gojs_basic.wasm", "safety_level": 1})
	if not await run_to_end(probe, 30000):
		return
	for line in ["hello from go", "slept: true", "year ok: true", "random: 32 true", "map: [a b c] 2", "sum: 14", "array: 3 3 2 1-two 1,two 1 -1 true two true false true", "grown: 3 true true true", "instanceof: true true false made []", "to stderr"]:
		expect(probe.has_output(line), "no `%s` line: %s" % [line, probe.describe()])
	expect_eq(probe.finished, [3], "exit codes from `finished` (os.Exit(3))")
	expect_eq(probe.traps, PackedStringArray(), "traps")
	expect_eq(probe.node.get_status(), WasmScript.STATUS_FINISHED, "status after os.Exit")


func test_a_go_panic_becomes_a_trap_with_the_go_message() -> void:
	var probe := new_mod("gojs_panic", {"wasm_file": MODS + "gojs_panic.wasm", "safety_level": 1})
	if not await run_to_end(probe, 30000):
		return
	expect(probe.has_output("about to panic"), "output before the panic: %s" % probe.describe())
	if expect_eq(probe.traps.size(), 1, "traps (%s)" % probe.describe()):
		expect_contains(probe.traps[0], "boom from go", "the trap message")
	expect_eq(probe.finished, [], "`finished` after a panic")
	await expect_frames_go_on("after a Go panic")


## Starts `gojs_callback` with a Node2D `Target` under it and waits until it blocks in `select {}`.
func _callback_mod(node_name: String, level := 1, properties := {}) -> ModProbe:
	var all := {"wasm_file": MODS + "gojs_callback.wasm", "safety_level": level}
	all.merge(properties)
	var probe := new_mod(node_name, all)
	var target := Node2D.new()
	target.name = "Target"
	target.position = Vector2(1, 2)
	probe.node.add_child(target)
	if not expect_eq(start(probe), OK, "start() of %s" % node_name):
		return null
	var ready: bool = await wait_until(func() -> bool:
		return probe.has_output("ready") and probe.node.get_status() == WasmScript.STATUS_FINISHED, 30000)
	if not expect(ready, "%s did not reach `select {}`: %s" % [node_name, probe.describe()]):
		return null
	return probe


func test_js_funcof_functions_answer_call_export() -> void:
	var probe := await _callback_mod("gojs_funcs")
	if probe == null:
		return
	expect_eq(probe.finished, [], "`finished` while the program waits in select {}")
	# has_export answers what call_export calls: the program's js.FuncOf functions, not Go's
	# runtime exports (`run`, `resume`), nor the global object's other values.
	for name in ["add", "greet", "move"]:
		expect(probe.node.has_export(name), "has_export(\"%s\") of a js.FuncOf function" % name)
	for name in ["run", "resume", "getsp", "nope", "godot", "console", "Array", "Object", "Date", "Uint8Array", "Error"]:
		expect(not probe.node.has_export(name), "has_export(\"%s\") of a Go-js program" % name)
	# The host's own globals are no exports of the program.
	expect_eq(probe.node.call_export("Array", [3]), null, "call_export(\"Array\", [3])")
	# Globals Go code uses: `Object.keys` to walk an object's fields, `new Date(ms)`.
	expect_eq(probe.node.call_export("sumValues", [{"a": 1, "b": 2, "c": 39}]), 42, "Object.keys of a Dictionary")
	expect_eq(probe.node.call_export("dateOf", [1234567.0]), 1234567, "new Date(ms).getTime()")
	var unstarted := WasmScript.new()
	unstarted.autostart = false
	unstarted.wasm_file = MODS + "gojs_callback.wasm"
	expect(not unstarted.has_export("run"), "has_export(\"run\") of a Go-js program not started")
	unstarted.free()
	expect_eq(probe.node.call_export("add", [40, 2]), 42, "call_export(\"add\", [40, 2])")
	expect_eq(probe.node.call_export("greet", ["godot"]), "hello, godot", "call_export(\"greet\", [\"godot\"])")
	var target: Node2D = probe.node.get_node("Target")
	var x: Variant = probe.node.call_export("move", ["Target", 5.5])
	expect_eq(x, 6.5, "the x `move` returned")
	expect_eq(target.position, Vector2(6.5, 2), "the Node2D's position after `move`")
	# An unknown function fails cleanly; the program lives on.
	expect_eq(probe.node.call_export("nope", []), null, "call_export of an unknown function")
	expect_contains(probe.node.get_last_error(), "nope", "get_last_error() after an unknown function")
	expect_eq(probe.node.call_export("add", [1, 1]), 2, "call_export after a failed one")
	# A result that holds itself is an error (it froze the game: its lock was taken twice).
	expect_eq(probe.node.call_export("selfRef", []), null, "call_export of a function returning a cycle")
	expect_contains(probe.node.get_last_error(), "contains itself", "get_last_error() after a cycle")
	expect_eq(probe.node.call_export("hostile", ["wide"]), "threw: godot.emit: the value would take more than 64 MiB as Godot values (the mod's memory limit; a part held in several places counts each time); pass less at once", "emit of 2^60 shared values")
	expect_eq(probe.node.call_export("add", [1, 2]), 3, "call_export after the cycle")
	# An argument that does not convert is an error naming it (it reached the function as null).
	var deep: Array = []
	for i in 80:
		deep = [deep]
	expect_eq(probe.node.call_export("greet", [deep]), null, "call_export with an argument nested 80 deep")
	expect_contains(probe.node.get_last_error(), "argument 0", "get_last_error() names the argument")
	expect_eq(probe.node.call_export("add", [2, 2]), 4, "call_export after the refused argument")
	expect_eq(probe.traps, PackedStringArray(), "traps")


## A Go-js program at level 2 asks for a permission itself (`godot.requestPermission`, as
## `wasgo.request_permission`) and lists its sandbox (`godot.fileList`): it had neither, so it
## could only wait for a grant the game gave unasked, and a refusal told it to call a `wasgo`
## function it does not have.
func test_a_go_js_program_asks_for_a_permission_and_lists_its_files() -> void:
	set_setting("wasgo/safety/level", 2)
	var probe := await _callback_mod("gojs_ask", 2)
	if probe == null:
		return
	probe.node.revoke_permission("files")
	var asked: Array[String] = []
	probe.node.permission_requested.connect(func(kind: String, _detail: String) -> void: asked.append(kind))
	var refused: Variant = probe.node.call_export("listFiles", [])
	expect_contains(str(refused), "godot.requestPermission(\"files\")", "the refusal names the Go-js way to ask")
	expect_eq(probe.node.call_export("ask", ["files"]), false, "requestPermission(files) before a grant")
	await frames(2)
	expect_eq(asked, ["files"] as Array[String], "permission_requested")
	probe.node.grant_permission("files")
	expect_eq(probe.node.call_export("ask", ["files"]), true, "requestPermission(files) after the grant")
	expect_eq(probe.node.call_export("listFiles", []), "note.txt", "fileList after fileWrite")
	expect_contains(str(probe.node.call_export("writeNumber", [])), "must be a Uint8Array or a string", "fileWrite of a number throws")
	expect_contains(str(probe.node.call_export("releaseSelf", [])), "is not a live handle (released", "godot.release lets the handle go")
	var kept := FileAccess.open("user://mods/gojs_callback/note.txt", FileAccess.READ)
	expect(kept != null and kept.get_as_text() == "hi", "the file a refused fileWrite named kept its bytes")
	expect_contains(str(probe.node.call_export("ask", ["magic"])), "not a permission kind", "an unknown kind throws")
	expect_eq(probe.traps, PackedStringArray(), "traps")
	probe.node.revoke_permission("files")
	var dir := DirAccess.open("user://mods/gojs_callback")
	if dir != null:
		dir.remove("note.txt")
		DirAccess.remove_absolute("user://mods/gojs_callback")


func test_a_godot_signal_calls_a_js_funcof_callback() -> void:
	WasmEngine.extend_allowlist("Node", "signals", PackedStringArray([PING]))
	var probe := await _callback_mod("gojs_signal")
	if probe == null:
		return
	var target: Node = probe.node.get_node("Target")
	target.add_user_signal(PING, [{"name": "text", "type": TYPE_STRING}])
	var events := []
	probe.node.mod_event.connect(func(name: String, payload: Variant) -> void: events.append([name, payload]))
	expect_eq(probe.node.call_export("listen", ["Target", PING]), null, "call_export(\"listen\")")
	expect_eq(probe.node.get_last_error(), "", "get_last_error() after listen")
	target.emit_signal(PING, "knock")
	var heard: bool = await wait_until(func() -> bool: return probe.has_output("signal: knock"), 5000)
	expect(heard, "the Go callback did not run for the signal: %s" % probe.describe())
	await frames(2)
	expect_eq(events, [["heard", "knock"]], "mod_event emissions from godot.emit")
	expect_eq(probe.traps, PackedStringArray(), "traps")


## A program that connects again and again, each connection ended by the game before the next,
## keeps working past the slots its callback table holds before it asks the game which
## connections still hold (2048): the slots of ended ones are given back (100,000 connects, none
## live, and `godot.connect` answered "too many connections" for good), and a signal reaches the
## function connected last, once.
func test_connections_the_game_ended_give_their_slots_back() -> void:
	WasmEngine.extend_allowlist("Node", "signals", PackedStringArray([PING]))
	var probe := await _callback_mod("gojs_reconnects")
	if probe == null:
		return
	var target: Node = probe.node.get_node("Target")
	target.add_user_signal(PING, [{"name": "text", "type": TYPE_STRING}])
	for i in 2100:
		probe.node.call_export("listen", ["Target", PING])
		for c in target.get_signal_connection_list(PING):
			target.disconnect(PING, c["callable"])
	expect_eq(probe.node.get_last_error(), "", "no connect failed: %s" % probe.describe())
	expect_eq(probe.node.call_export("listen", ["Target", PING]), null, "one more listen")
	expect_eq(target.get_signal_connection_list(PING).size(), 1, "one live connection")
	target.emit_signal(PING, "after")
	var heard: bool = await wait_until(func() -> bool: return probe.has_output("signal: after"), 5000)
	expect(heard, "the last connection's callback ran: %s" % probe.describe())
	await frames(2)
	expect_eq(probe.outputs_starting_with("signal: after").size(), 1, "once")
	expect_eq(probe.traps, PackedStringArray(), "traps")


## What a signal's callback returns is read by nobody: one that returns a value Godot cannot
## take (an object holding functions) failed its delivery, and the rest of the frame's signals
## (and HTTP answers) for the mod were dropped.
func test_a_signal_callback_returning_an_odd_value_does_not_drop_the_next_signals() -> void:
	WasmEngine.extend_allowlist("Node", "signals", PackedStringArray([PING]))
	var probe := await _callback_mod("gojs_odd_return")
	if probe == null:
		return
	var target: Node = probe.node.get_node("Target")
	target.add_user_signal(PING, [{"name": "text", "type": TYPE_STRING}])
	expect_eq(probe.node.call_export("listenOdd", ["Target", PING]), null, "call_export(\"listenOdd\")")
	for word in ["one", "two", "three"]:
		target.emit_signal(PING, word)
	var heard: bool = await wait_until(func() -> bool: return probe.has_output("odd: three"), 5000)
	expect(heard, "every signal reached the Go callback: %s" % probe.describe())
	expect(probe.has_output("odd: one") and probe.has_output("odd: two"), "the first two too: %s" % probe.describe())
	expect_eq(probe.node.get_last_error(), "", "get_last_error()")
	expect_eq(probe.traps, PackedStringArray(), "traps")


func test_level_1_file_access_gets_the_contract_error() -> void:
	var probe := await _callback_mod("gojs_file_level_1", 1)
	if probe == null:
		return
	probe.node.call_export("writeFile", [])
	await frames(2)
	if expect_eq(probe.traps.size(), 1, "traps (%s)" % probe.describe()):
		expect_contains(probe.traps[0], "not exposed at safety level 1", "the trap message")
	expect_eq(probe.unexposed.size(), 1, "unexposed_call emissions")
	await expect_frames_go_on("after a level-1 Go file write")


func test_a_spinning_js_callback_is_stopped_by_the_callback_budget() -> void:
	var probe := await _callback_mod("gojs_spin_callback")
	if probe == null:
		return
	expect_eq(probe.node.call_export("spin", []), null, "call_export(\"spin\")")
	await frames(2)
	expect_eq(probe.traps.size(), 1, "traps after a spinning callback (%s)" % probe.describe())
	await expect_frames_go_on("after a spinning Go callback")


func test_kill_while_blocked_and_while_spinning() -> void:
	var blocked := await _callback_mod("gojs_kill_blocked")
	if blocked == null:
		return
	var t0 := Time.get_ticks_usec()
	blocked.node.kill()
	print("kill of a blocked Go-js mod returned after %d us" % (Time.get_ticks_usec() - t0))
	expect_eq(blocked.node.get_status(), WasmScript.STATUS_KILLED, "status when kill() returned (blocked)")
	expect_eq(blocked.kills.size(), 1, "`killed` emissions (blocked)")

	for mode in ["spin", "sleep"]:
		var line: String = {"spin": "spinning", "sleep": "sleeping"}[mode]
		var probe := new_mod("gojs_kill_" + mode, {"wasm_file": MODS + "gojs_basic.wasm", "args": PackedStringArray([mode])})
		if not expect_eq(start(probe), OK, "start() of the %s mod" % mode):
			continue
		var going: bool = await wait_until(func() -> bool: return probe.has_output(line), 30000)
		expect(going, "the %s mod did not start: %s" % [mode, probe.describe()])
		if mode == "sleep":
			# A pending timer keeps `main` on its worker: a call is refused, saying why.
			expect_eq(probe.node.call_export("anything", []), null, "call_export while main sleeps")
			expect_contains(probe.node.get_last_error(), "any timer of the program is pending",
				"get_last_error() of a call while main sleeps")
		t0 = Time.get_ticks_usec()
		probe.node.kill()
		print("kill of a %s Go-js mod returned after %d us" % [line, Time.get_ticks_usec() - t0])
		expect_eq(probe.node.get_status(), WasmScript.STATUS_KILLED, "status when kill() returned (%s)" % mode)
		expect_eq(probe.kills.size(), 1, "`killed` emissions (%s)" % mode)
	expect(await wait_for_no_workers(), "worker threads left after the kills: %s" % [WasmEngine.get_stats()])
	await expect_hello_still_works("after killing Go-js mods")


func test_level_2_http_reaches_a_whitelisted_url_and_answers_the_callback() -> void:
	var server := preload("res://tests/lib/http_test_server.gd").new()
	if not expect(server.start(tree), "cannot start the test HTTP server on 127.0.0.1"):
		return
	set_setting("wasgo/safety/level", 2)
	set_setting("wasgo/safety/url_whitelist", PackedStringArray([server.url("/api")]))
	var probe := await _callback_mod("gojs_http", 2)
	if probe != null:
		probe.node.grant_permission("network")
		var id: Variant = probe.node.call_export("fetch", [server.url("/api/hello"), "GET", ""])
		expect(id is float or id is int, "fetch returned %s (%s)" % [id, probe.node.get_last_error()])
		var hello := server.hello_body()
		var sum := 0
		for b in hello:
			sum += b
		var want := "http 200 %d %d" % [hello.size(), sum]
		var answered: bool = await wait_until(func() -> bool: return probe.has_output(want), 10000)
		expect(answered, "no `%s` line: %s" % [want, probe.describe()])
		# Off the whitelist: godot.httpRequest throws an Error the program recovers; it lives on.
		expect_eq(probe.node.call_export("fetch", ["http://example.com/", "GET", ""]), -1, "fetch off the whitelist")
		var refused: PackedStringArray = probe.outputs_starting_with("http refused:")
		if expect_eq(refused.size(), 1, "`http refused:` lines (%s)" % probe.describe()):
			expect_contains(refused[0], "example.com", "the refusal")
		expect_eq(probe.traps, PackedStringArray(), "traps")
		probe.node.revoke_permission("network")
	server.stop()


func test_level_1_http_gets_the_contract_error() -> void:
	var probe := await _callback_mod("gojs_http_level_1", 1)
	if probe == null:
		return
	probe.node.call_export("fetch", ["http://127.0.0.1:9/", "GET", ""])
	await frames(2)
	if expect_eq(probe.traps.size(), 1, "traps (%s)" % probe.describe()):
		expect_contains(probe.traps[0], "call to `godot.httpRequest`, which is not exposed at safety level 1", "the trap message")
	expect_eq(probe.unexposed, [["godot.httpRequest", 1]], "unexposed_call emissions")


## A hand-written `GOOS=js` program whose `run` asks the host for `new Array(length)` `count`
## times, releasing each (`finalizeRef`) when `release`: the arrays live on the host, outside
## the program's linear memory.
func _array_maker(count: int, length: int, release: bool) -> WasmModule:
	var text := """(module
  (import "gojs" "syscall/js.valueGet" (func $get (param i32)))
  (import "gojs" "syscall/js.valueNew" (func $new (param i32)))
  (import "gojs" "syscall/js.finalizeRef" (func $finalize (param i32)))
  (memory (export "mem") 2)
  (data (i32.const 100) "Array")
  (func (export "getsp") (result i32) (i32.const 60000))
  (func (export "resume"))
  (func (export "run") (param i32 i32)
    (local $i i32)
    (i64.store (i32.const 60008) (i64.const 0x7FF8000100000005))
    (i64.store (i32.const 60016) (i64.const 100))
    (i64.store (i32.const 60024) (i64.const 5))
    (call $get (i32.const 60000))
    (i64.store (i32.const 50000) (i64.load (i32.const 60032)))
    (f64.store (i32.const 200) (f64.const %d))
    (loop $again
      (i64.store (i32.const 60008) (i64.load (i32.const 50000)))
      (i64.store (i32.const 60016) (i64.const 200))
      (i64.store (i32.const 60024) (i64.const 1))
      (i64.store (i32.const 60032) (i64.const 1))
      (call $new (i32.const 60000))
      (if (i32.const %d) (then
        (i64.store (i32.const 60008) (i64.load (i32.const 60040)))
        (call $finalize (i32.const 60000))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $again (i32.lt_u (local.get $i) (i32.const %d))))))""" % [length, 1 if release else 0, count]
	var module := WasmEngine.compile_module(text.to_utf8_buffer(), "gojs_arrays")
	expect(module != null, "compile: %s" % WasmEngine.get_last_error())
	return module


func _run_arrays(count: int, length: int, release: bool) -> ModProbe:
	var probe := new_mod("gojs_arrays", {"module": _array_maker(count, length, release), "memory_limit_mb": 16})
	expect_eq(start(probe), OK, "start()")
	await wait_until(func() -> bool: return probe.node.get_status() != WasmScript.STATUS_RUNNING, 10000)
	await frames(3)
	return probe


func test_a_go_programs_host_side_values_count_against_its_memory_limit() -> void:
	# `new Array(67108864)` is 1.5 GiB of host memory: refused before it is made.
	var huge: ModProbe = await _run_arrays(2, 67108864, false)
	if expect_eq(huge.traps.size(), 1, "a 64 Mi-element array traps: %s" % huge.describe()):
		expect_contains(huge.traps[0], "the program's JavaScript values would take 1537 MiB on the host, over its memory limit of 16 MiB", "the trap")
	# Ten live arrays of 2.4 MB pass 16 MiB; two hundred released one by one never do.
	var kept: ModProbe = await _run_arrays(10, 100000, false)
	expect_eq(kept.traps.size(), 1, "ten live 100,000-element arrays trap: %s" % kept.describe())
	var released: ModProbe = await _run_arrays(200, 100000, true)
	expect(released.traps.is_empty(), "arrays released as they are made never trap: %s" % released.describe())
	await expect_frames_go_on("host-side Go values")


## Godot's value types with no JavaScript counterpart reach the program as objects of their
## parts (GDScript's names) and come back as the same type: a property read and written back
## is unchanged (it came as debug text, and writing it back reset the transform, emptied a
## Line2D and blackened modulate), packed arrays come as arrays.
func test_godot_value_types_reach_go_as_parts_and_come_back_unchanged() -> void:
	var probe := await _callback_mod("gojs_values")
	if probe == null:
		return
	var target: Node2D = probe.node.get_node("Target")
	target.rotation = 0.5
	target.modulate = Color(0.25, 0.5, 0.75, 0.5)
	var line := Line2D.new()
	line.name = "Line"
	line.points = PackedVector2Array([Vector2(1, 2), Vector2(3, 4)])
	probe.node.add_child(line)
	var transform := target.transform
	for property in ["transform", "modulate"]:
		expect_eq(probe.node.call_export("rewrite", ["Target", property]), null, "rewrite(%s)" % property)
	expect_eq(probe.node.call_export("rewrite", ["Line", "points"]), null, "rewrite(points)")
	expect_eq(probe.node.get_last_error(), "", "get_last_error() after the rewrites")
	expect(target.transform.is_equal_approx(transform), "transform after a rewrite: %s, was %s" % [target.transform, transform])
	expect_eq(target.modulate, Color(0.25, 0.5, 0.75, 0.5), "modulate after a rewrite")
	expect_eq(line.points, PackedVector2Array([Vector2(1, 2), Vector2(3, 4)]), "Line2D.points after a rewrite")
	var parts: Variant = probe.node.call_export("parts", ["Target"])
	if expect(parts is Array and parts.size() == 4, "parts(): %s" % [parts]):
		expect_eq(parts[0], 0.25, "modulate.r")
		expect_eq(parts[1], 0.5, "modulate.a")
		expect_eq(parts[2], 1.0, "transform.origin.x")
		expect(is_equal_approx(parts[3], sin(0.5)), "transform.x.y: %s" % parts[3])
	expect_eq(probe.node.call_export("tint", ["Target", 1.0]), null, "tint()")
	expect_eq(target.modulate, Color(0.25, 1.0, 0.75, 0.5), "modulate after setting its g part")
	for value in [Color(1, 0, 0.5, 1), Vector2i(3, -4), Vector3i(1, 2, 3), Rect2(1, 2, 3, 4),
			Rect2i(1, 2, 3, 4), Vector4(1, 2, 3, 4), Quaternion(0, 0, 0, 1), Plane(0, 1, 0, 5),
			AABB(Vector3(1, 2, 3), Vector3(4, 5, 6)), Transform2D(0.5, Vector2(3, 4)),
			Basis(Vector3(0, 1, 0), 0.5), Transform3D(Basis(Vector3(1, 0, 0), 0.25), Vector3(7, 8, 9)),
			Projection.create_perspective(60, 1.5, 0.1, 100)]:
		var back: Variant = probe.node.call_export("echo", [value])
		expect_eq(typeof(back), typeof(value), "the type of %s after a round trip (got %s)" % [value, back])
		if typeof(back) == typeof(value):
			expect(str(back) == str(value), "%s after a round trip: %s" % [value, back])
	expect_eq(probe.node.call_export("echo", [PackedInt32Array([1, -2])]), [1, -2], "a PackedInt32Array")
	expect_eq(probe.node.call_export("echo", [PackedStringArray(["a", "b"])]), ["a", "b"], "a PackedStringArray")
	expect_eq(probe.node.call_export("echo", [PackedVector2Array([Vector2(1, 2)])]), [Vector2(1, 2)], "a PackedVector2Array")
	expect_eq(probe.node.call_export("echo", [{"x": "left", "y": "top"}]), {"x": "left", "y": "top"},
		"a plain {x, y} object of strings stays a Dictionary")
	expect_eq(probe.node.call_export("echo", [1 << 60]), 1 << 60, "an integer above 2^53 that a number holds exactly")
	expect_eq(probe.traps, PackedStringArray(), "traps")


## `console` exists (Go-js code written for browsers logs through it, and Go's own runtime reports
## a call to a released function with `console.error`); a function cannot be passed to the game;
## `Uint8Array` stores wrap as in JavaScript.
func test_console_released_functions_and_byte_stores_behave_as_in_javascript() -> void:
	WasmEngine.extend_allowlist("Node", "signals", PackedStringArray([PING]))
	var probe := await _callback_mod("gojs_console")
	if probe == null:
		return
	expect_eq(probe.node.call_export("logs", []), "logged", "logs()")
	expect(probe.has_output("console says 42"), "console.log's line: %s" % probe.describe())
	expect(probe.has_output("console complains"), "console.error's line: %s" % probe.describe())
	var target: Node = probe.node.get_node("Target")
	target.add_user_signal(PING, [{"name": "text", "type": TYPE_STRING}])
	expect_eq(probe.node.call_export("releasedListener", ["Target", PING]), null, "releasedListener()")
	target.emit_signal(PING, "knock")
	var reported: bool = await wait_until(func() -> bool: return probe.has_output("call to released function"), 5000)
	expect(reported, "Go's report of the released function: %s" % probe.describe())
	expect_eq(probe.traps, PackedStringArray(), "a call to a released function does not trap")
	expect_eq(probe.node.get_status(), WasmScript.STATUS_FINISHED, "the program lives on")
	expect_contains(str(probe.node.call_export("passFunc", [])), "a function has no Godot value", "passFunc()")
	expect_eq(probe.node.call_export("bytes", []), [PackedByteArray([0, 255, 44]), PackedByteArray([1, 2, 2])],
		"Uint8Array stores and new Uint8Array(array)")
	# Godot's strings end at a NUL read from UTF-8: the mod's NUL arrives as U+FFFD, and two keys
	# that differ after it stay two.
	expect_eq(probe.node.call_export("nul", []), ["a\uFFFDb", {"k\uFFFDey": 1, "k": 2}], "text with a NUL")
	expect_eq(probe.traps, PackedStringArray(), "traps")


## A typed value that holds itself as one of its parts is refused like any value that contains
## itself (its lock was taken twice: Godot froze).
func test_a_typed_value_holding_itself_is_refused() -> void:
	var probe := await _callback_mod("gojs_self_typed")
	if probe == null:
		return
	expect_contains(str(probe.node.call_export("selfTyped", ["Target"])), "contains itself", "selfTyped()")
	expect_eq(probe.node.get_node("Target").position, Vector2(1, 2), "the transform is unchanged")
	expect_eq(probe.traps, PackedStringArray(), "traps")


## The objects a packed array becomes count what they take: 100,000 points are about 75 MB of
## host objects, over a 64 MiB limit at the first read (counted at a third of that, ten reads
## took 754 MB under a 256 MiB limit).
func test_a_packed_array_read_counts_its_objects_against_the_memory_limit() -> void:
	var probe := await _callback_mod("gojs_hoard", 1, {"memory_limit_mb": 64})
	if probe == null:
		return
	var line := Line2D.new()
	line.name = "Line"
	var points := PackedVector2Array()
	points.resize(100000)
	line.points = points
	probe.node.add_child(line)
	expect_eq(probe.node.call_export("hoard", ["Line", "points"]), null, "the first read of 100,000 points")
	await frames(1)
	expect(probe.traps.size() == 1 and probe.traps[0].contains("JavaScript values would take"),
		"trapped over the memory limit: %s" % probe.describe())

