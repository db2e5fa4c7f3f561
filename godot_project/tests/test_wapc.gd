## waPC guests (`mods/tests/wapc_echo`, built with the published `wapc-guest` crate): `invoke`
## answers with the guest's bytes, host calls reach the operations the game registers with
## `WasmEngine.register_wapc_handler` at their level, unregistered and above-level operations get a
## host error and `unexposed_call`, and traps and oversized payloads leave the game running.
extends "res://tests/lib/wasgo_test.gd"

var received: Array = []
var _wapc_registered: Array = []


func _rank(payload: PackedByteArray) -> Variant:
	received.append(payload)
	return ("rank of " + payload.get_string_from_utf8()).to_utf8_buffer()


func _refuse(_payload: PackedByteArray) -> Variant:
	return "no ranking today"


func _refuse_by_name(_payload: PackedByteArray) -> Variant:
	return &"no ranking by name"


func _register(ns: String, operation: String, callable: Callable, level: int) -> bool:
	var error := WasmEngine.register_wapc_handler("game", ns, operation, callable, level)
	if error == OK:
		_wapc_registered.append([ns, operation])
	return expect_eq(error, OK, "register_wapc_handler(game, %s, %s)" % [ns, operation])


func cleanup() -> void:
	for pair in _wapc_registered:
		WasmEngine.unregister_wapc_handler("game", pair[0], pair[1])
	_wapc_registered.clear()
	super.cleanup()


## A started `wapc_echo` mod at `level`.
func _echo_mod(node_name: String, level := 1) -> ModProbe:
	var probe := new_mod(node_name, {"wasm_file": MODS + "wapc_echo.wasm", "safety_level": level})
	if not expect_eq(start(probe), OK, "start() of %s" % node_name):
		return null
	return probe


## The payload of the guest's `call` operation: binding\0ns\0operation\0bytes.
func _call_payload(binding: String, ns: String, operation: String, bytes: PackedByteArray) -> PackedByteArray:
	var payload := PackedByteArray()
	for part in [binding, ns, operation]:
		payload.append_array(part.to_utf8_buffer())
		payload.append(0)  # GDScript strings cannot hold NUL: the separators are added as bytes
	payload.append_array(bytes)
	return payload


func test_invoke_answers_with_the_guests_bytes() -> void:
	var probe := _echo_mod("wapc_echo")
	if probe == null:
		return
	var payload := PackedByteArray()
	for i in 64:
		payload.append((i * 7) % 256)
	expect_eq(probe.node.invoke("echo", payload), payload, "invoke(\"echo\", 64 bytes)")
	expect_eq(probe.node.invoke("echo", PackedByteArray()), PackedByteArray(), "invoke(\"echo\", [])")
	expect_eq(probe.node.get_last_error(), "", "get_last_error() after good invokes")
	# The guest's own error for an operation it does not have: empty result, the mod lives on.
	expect_eq(probe.node.invoke("missing", PackedByteArray([1])), PackedByteArray(), "invoke of an unknown operation")
	expect_contains(probe.node.get_last_error(), "missing", "get_last_error() after an unknown operation")
	expect_eq(probe.node.invoke("echo", PackedByteArray([9])), PackedByteArray([9]), "invoke after a guest error")
	expect_eq(probe.traps, PackedStringArray(), "traps")


func test_a_registered_host_operation_answers_the_guest() -> void:
	if not _register("scores", "rank", _rank, 1):
		return
	var probe := _echo_mod("wapc_host_call")
	if probe == null:
		return
	var reply: PackedByteArray = probe.node.invoke("call", _call_payload("game", "scores", "rank", "ada".to_utf8_buffer()))
	expect_eq(reply.get_string_from_utf8(), "rank of ada", "the host operation's reply through the guest")
	expect_eq(received, ["ada".to_utf8_buffer()], "payloads the handler received")
	# A handler answering a String is a host error the guest passes on.
	if _register("scores", "refuse", _refuse, 1):
		expect_eq(probe.node.invoke("call", _call_payload("game", "scores", "refuse", PackedByteArray())), PackedByteArray(), "invoke through a refusing handler")
		expect_contains(probe.node.get_last_error(), "no ranking today", "get_last_error() after a refusing handler")
	# A StringName answer is an error as a String is (read as a String, it was a panic: the
	# mod trapped as for a bug of WasGo's).
	if _register("scores", "refuse_by_name", _refuse_by_name, 1):
		expect_eq(probe.node.invoke("call", _call_payload("game", "scores", "refuse_by_name", PackedByteArray())), PackedByteArray(), "invoke through a handler answering a StringName")
		expect_contains(probe.node.get_last_error(), "no ranking by name", "get_last_error() after a StringName answer")
		expect_eq(probe.traps, PackedStringArray(), "traps")
	expect_eq(probe.unexposed, [], "unexposed_call emissions")


func test_unregistered_and_above_level_operations_get_host_errors() -> void:
	if not _register("scores", "reset", _rank, 3):
		return
	var probe := _echo_mod("wapc_refused", 1)
	if probe == null:
		return
	expect_eq(probe.node.invoke("call", _call_payload("game", "scores", "nope", PackedByteArray())), PackedByteArray(), "invoke of an unregistered host operation")
	expect_contains(probe.node.get_last_error(), "`game/scores/nope` is not registered", "get_last_error() (unregistered)")
	expect_eq(probe.node.invoke("call", _call_payload("game", "scores", "reset", PackedByteArray())), PackedByteArray(), "invoke of an above-level host operation")
	expect_contains(probe.node.get_last_error(), "needs safety level 3", "get_last_error() (above level)")
	# Asked again: still a host error each time, but reported once per operation (a guest
	# looping on one queued millions of signals), and for at most 64 operations per instance.
	for i in 3:
		probe.node.invoke("call", _call_payload("game", "scores", "nope", PackedByteArray()))
		expect_contains(probe.node.get_last_error(), "`game/scores/nope` is not registered", "get_last_error() (asked again)")
	await frames(2)
	expect_eq(probe.unexposed, [["game/scores/nope", 1], ["game/scores/reset", 1]], "unexposed_call emissions")
	for i in 100:
		probe.node.invoke("call", _call_payload("game", "scores", "nope%d" % i, PackedByteArray()))
	await frames(2)
	expect_eq(probe.unexposed.size(), 64, "unexposed_call emissions after 100 more distinct operations")
	expect_eq(received, [], "payloads the level-3 handler received")
	expect_eq(probe.traps, PackedStringArray(), "traps")
	expect_eq(probe.node.invoke("echo", PackedByteArray([5])), PackedByteArray([5]), "invoke after refused host calls")


func test_register_wapc_handler_refuses_bad_registrations() -> void:
	expect(WasmEngine.register_wapc_handler("wasgo", "node", "get", _rank, 1) != OK, "the reserved binding `wasgo` was accepted")
	expect(WasmEngine.register_wapc_handler("game", "scores", "rank", _rank, 7) != OK, "level 7 was accepted")
	expect(WasmEngine.register_wapc_handler("game", "scores", "rank", Callable(), 1) != OK, "an invalid Callable was accepted")
	expect_eq(WasmEngine.unregister_wapc_handler("game", "scores", "never"), false, "unregister of an operation never registered")


## A guest that uses no bindings calls with an empty one, as the reference hosts allow: the game
## registers its operation under the empty binding (it was refused as empty).
func test_an_operation_under_an_empty_binding_answers_the_guest() -> void:
	if not expect_eq(WasmEngine.register_wapc_handler("", "scores", "rank", _rank, 1), OK, "register_wapc_handler with an empty binding"):
		return
	var probe := _echo_mod("wapc_no_binding")
	if probe != null:
		var reply: PackedByteArray = probe.node.invoke("call", _call_payload("", "scores", "rank", "bo".to_utf8_buffer()))
		expect_eq(reply.get_string_from_utf8(), "rank of bo", "the reply through an empty binding")
		expect_eq(probe.unexposed, [], "unexposed_call emissions")
	expect(WasmEngine.unregister_wapc_handler("", "scores", "rank"), "unregister of the empty binding's operation")
	expect(WasmEngine.register_wapc_handler("game", "scores", "", _rank, 1) != OK, "an empty operation was accepted")


## A waPC guest as TinyGo builds it: `_start` (its `main`) registers the operations and ends with
## WASI `proc_exit(0)` (TinyGo 0.35+), and `wapc_init` runs after it. The reference hosts run both
## when the instance is made; WasGo ran `_start` as `main` on the worker after `wapc_init`, so
## `invoke` was refused as busy and then as exited, and the game got `finished`.
const TINYGO_LIKE := """(module
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (import "wapc" "__guest_request" (func $request (param i32 i32)))
  (import "wapc" "__guest_response" (func $response (param i32 i32)))
  (import "wapc" "__guest_error" (func $error (param i32 i32)))
  (memory (export "memory") 1)
  (global $registered (mut i32) (i32.const 0))
  (data (i32.const 0) "not set up as TinyGo expects")
  (func (export "_start") (global.set $registered (i32.const 1)) (call $exit (i32.const EXIT)))
  (func (export "wapc_init") (global.set $registered (i32.mul (global.get $registered) (i32.const 2))))
  (func (export "__guest_call") (param $ol i32) (param $pl i32) (result i32)
    (if (i32.ne (global.get $registered) (i32.const 2))
      (then (call $error (i32.const 0) (i32.const 28)) (return (i32.const 0))))
    (call $request (i32.const 1024) (i32.const 2048))
    (call $response (i32.const 2048) (local.get $pl))
    (i32.const 1)))"""


func test_a_tinygo_guest_is_set_up_by_its_start_and_answers_invoke() -> void:
	var module := WasmEngine.compile_module(TINYGO_LIKE.replace("EXIT", "0").to_utf8_buffer(), "tinygo_like")
	if not expect(module != null, "compile: %s" % WasmEngine.get_last_error()):
		return
	expect_eq(module.get_guest_kind(), "wapc", "guest kind")
	var probe := new_mod("wapc_tinygo", {"module": module})
	if not expect_eq(start(probe), OK, "start() (%s)" % probe.node.get_last_error()):
		return
	expect_eq(probe.node.invoke("echo", PackedByteArray([4, 2])), PackedByteArray([4, 2]), "invoke right after start()")
	expect_eq(probe.node.get_last_error(), "", "get_last_error() after invoke")
	await frames(2)
	expect_eq(probe.finished, [], "`finished` for the set-up's exit(0)")
	expect_eq(probe.traps, PackedStringArray(), "traps")
	expect_eq(probe.node.get_status(), WasmScript.STATUS_RUNNING, "status")
	expect_eq(probe.node.invoke("echo", PackedByteArray([7])), PackedByteArray([7]), "invoke frames later")


func test_a_tinygo_guest_whose_start_exits_with_an_error_ends_with_that_code() -> void:
	var module := WasmEngine.compile_module(TINYGO_LIKE.replace("EXIT", "2").to_utf8_buffer(), "tinygo_failing")
	if not expect(module != null, "compile: %s" % WasmEngine.get_last_error()):
		return
	var probe := new_mod("wapc_tinygo_failing", {"module": module})
	# An exit during set-up ends the mod as it chose, as an exit from any mod's `init` does:
	# `finished(2)`, never `started`.
	expect_eq(start(probe), OK, "start() of a guest whose _start exits with 2")
	await frames(2)
	expect_eq(probe.finished, [2], "`finished` with the set-up's exit code")
	expect_eq(probe.node.get_status(), WasmScript.STATUS_FINISHED, "status")
	expect_eq(probe.started, 0, "`started` emissions")
	expect_eq(probe.node.invoke("echo", PackedByteArray([1])), PackedByteArray(), "invoke after the exit")
	expect(probe.node.get_last_error() != "", "get_last_error() after invoke of an ended guest")
	await expect_frames_go_on("after a waPC guest's exit during set-up")


func test_the_wasgo_binding_moves_a_node() -> void:
	var probe := _echo_mod("wapc_wasgo_binding")
	if probe == null:
		return
	var target := Node2D.new()
	target.name = "Target"
	probe.node.add_child(target)
	var request := var_to_bytes(["Target", "position", Vector2(3, 4)])
	probe.node.invoke("call", _call_payload("wasgo", "node", "set", request))
	expect_eq(probe.node.get_last_error(), "", "get_last_error() after wasgo/node/set")
	expect_eq(target.position, Vector2(3, 4), "the Node2D's position after wasgo/node/set")
	var reply: PackedByteArray = probe.node.invoke("call", _call_payload("wasgo", "node", "get", var_to_bytes(["Target", "position"])))
	expect_eq(bytes_to_var(reply), Vector2(3, 4), "wasgo/node/get of the position")
	# A member the allowlist denies: a host error and `unexposed_call`, no trap.
	probe.node.invoke("call", _call_payload("wasgo", "node", "call", var_to_bytes(["Target", "set_script", null])))
	await frames(2)
	expect_eq(probe.unexposed.size(), 1, "unexposed_call emissions for a denied member (%s)" % probe.describe())
	expect_eq(probe.traps, PackedStringArray(), "traps")


func test_oversized_payloads_are_refused_and_the_mod_lives_on() -> void:
	if not _register("scores", "rank", _rank, 1):
		return
	var probe := _echo_mod("wapc_oversized")
	if probe == null:
		return
	var huge := PackedByteArray()
	huge.resize(2 << 20)
	expect_eq(probe.node.invoke("echo", huge), PackedByteArray(), "invoke with a 2 MiB payload")
	expect_contains(probe.node.get_last_error(), "over the waPC limit", "get_last_error() (oversized invoke)")
	# The guest sends 2 MiB to a host operation: refused before the handler runs.
	expect_eq(probe.node.invoke("big", PackedByteArray()), PackedByteArray(), "invoke(\"big\")")
	expect_eq(received, [], "payloads the handler received")
	expect_eq(probe.traps, PackedStringArray(), "traps")
	expect_eq(probe.node.invoke("echo", PackedByteArray([1, 2])), PackedByteArray([1, 2]), "invoke after oversized payloads")


## A host call naming a binding, namespace or operation over 1 KiB is refused like an oversized
## payload, a host error naming the names' limit (it trapped the mod, naming the payloads' one).
func test_oversized_names_are_refused_and_the_mod_lives_on() -> void:
	var probe := _echo_mod("wapc_long_name")
	if probe == null:
		return
	expect_eq(probe.node.invoke("call", _call_payload("b".repeat(2000), "ns", "op", PackedByteArray())), PackedByteArray(), "invoke with a 2000-byte binding")
	expect_contains(probe.node.get_last_error(), "over the waPC limit of 1024 bytes", "get_last_error() (long binding)")
	expect_eq(probe.node.invoke("call", _call_payload("game", "ns", "o".repeat(1025), PackedByteArray())), PackedByteArray(), "invoke with a 1025-byte operation")
	expect_contains(probe.node.get_last_error(), "the operation is 1025 bytes", "get_last_error() (long operation)")
	expect_eq(probe.traps, PackedStringArray(), "traps")
	expect_eq(probe.node.invoke("echo", PackedByteArray([3])), PackedByteArray([3]), "invoke after the refused names")


func test_a_trapping_operation_ends_the_instance_and_the_game_runs_on() -> void:
	var probe := _echo_mod("wapc_trap")
	if probe == null:
		return
	expect_eq(probe.node.invoke("trap", PackedByteArray()), PackedByteArray(), "invoke(\"trap\")")
	await frames(2)
	expect_eq(probe.traps.size(), 1, "traps (%s)" % probe.describe())
	expect_eq(probe.node.get_status(), WasmScript.STATUS_TRAPPED, "status after the trap")
	expect_eq(probe.node.invoke("echo", PackedByteArray([1])), PackedByteArray(), "invoke after the trap")
	await expect_frames_go_on("after a waPC trap")
	await expect_hello_still_works("after a waPC trap")


func test_console_log_arrives_on_output() -> void:
	var probe := _echo_mod("wapc_log")
	if probe == null:
		return
	probe.node.invoke("log", "from the guest".to_utf8_buffer())
	await frames(2)
	expect(probe.has_output("from the guest"), "no console line: %s" % probe.describe())
