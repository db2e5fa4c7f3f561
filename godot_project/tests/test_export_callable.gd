## `WasmScript.get_export_callable(name)`: a Callable that calls one export as `call_export` does
## (same checks, budget and errors), kept across kill/start, connectable to signals, refusing
## calls from its own mod's call, from another thread and after its node is freed, all without
## crashing Godot.
extends "res://tests/lib/wasgo_test.gd"

const LogCounter := preload("res://tests/lib/log_counter.gd")

## `add(a, b)`, a counter `bump(by)` / `total()` for signal deliveries, `boom` traps.
const COUNTER_WAT := """(module
  (global $total (mut i32) (i32.const 0))
  (func (export "add") (param i32 i32) (result i32) (i32.add (local.get 0) (local.get 1)))
  (func (export "bump") (param i32) (global.set $total (i32.add (global.get $total) (local.get 0))))
  (func (export "total") (result i32) (global.get $total))
  (func (export "boom") unreachable))"""

var _logger: LogCounter
var _inner: Callable
var _inner_result: Variant = "not called"


func cleanup() -> void:
	_inner = Callable()
	if _logger != null:
		OS.remove_logger(_logger)
		_logger = null
	super()


func _counting_errors(part: String) -> LogCounter:
	_logger = LogCounter.new(part, Logger.ERROR_TYPE_ERROR)
	OS.add_logger(_logger)
	return _logger


func _counter(node_name: String) -> ModProbe:
	var module := WasmEngine.compile_module(COUNTER_WAT.to_utf8_buffer(), "counter")
	expect(module != null, "the counter WAT compiles")
	var probe := new_mod(node_name, {"module": module, "safety_level": 1})
	expect_eq(start(probe), OK, "start() of %s" % node_name)
	return probe


func test_the_callable_calls_the_export_with_its_arguments() -> void:
	var probe := _counter("callable_add")
	var add: Callable = probe.node.get_export_callable("add")
	expect(add.is_valid(), "is_valid() of a running node's Callable")
	expect(add.is_custom(), "the Callable is a custom one (no method of the node)")
	expect_eq(add.call(2, 3), 5, "add.call(2, 3)")
	expect_eq(add.callv([40, 2]), 42, "add.callv([40, 2])")
	expect_eq(add.bind(10).call(5), 15, "add.bind(10).call(5)")
	expect_eq(probe.node.get_export_callable("add"), add, "two Callables of one export compare equal")
	expect(probe.node.get_export_callable("total") != add, "Callables of two exports differ")
	expect_eq(add.get_object_id(), 0, "the Callable holds no object, only the node's id")
	expect_eq(probe.node.get_status(), WasmScript.STATUS_RUNNING, "status after the calls")


func test_failures_are_reported_like_call_export() -> void:
	var probe := _counter("callable_failures")
	var missing: Callable = probe.node.get_export_callable("no_such_export")
	expect_eq(missing.call(), null, "a Callable of a missing export returns null")
	expect_contains(probe.node.get_last_error(), "no_such_export", "get_last_error() after the missing export")
	# A name too long to be kept for the process is the Callable's own, and behaves the same.
	var long_name := "e".repeat(300)
	var long_missing: Callable = probe.node.get_export_callable(long_name)
	expect_eq(long_missing.call(), null, "a Callable of a missing 300-byte export returns null")
	expect_contains(probe.node.get_last_error(), long_name, "get_last_error() names the long export")
	expect_eq(probe.node.get_export_callable(long_name), long_missing, "two Callables of one long name compare equal")
	var add: Callable = probe.node.get_export_callable("add")
	expect_eq(add.call(1), null, "add with one argument of two")
	expect_contains(probe.node.get_last_error(), "add", "get_last_error() after the wrong argument count")
	expect_eq(add.call("x", 2), null, "add with a String argument")
	expect(probe.node.get_last_error() != "", "get_last_error() after a wrong argument type")
	expect_eq(add.call(2, 2), 4, "add still answers after refused calls")
	var boom: Callable = probe.node.get_export_callable("boom")
	expect_eq(boom.call(), null, "a trapping export returns null")
	expect_eq(probe.node.get_status(), WasmScript.STATUS_TRAPPED, "status after the trap")
	expect_eq(add.call(2, 2), null, "a call once the mod trapped")
	expect(probe.node.get_last_error() != "", "get_last_error() names the trap")


func test_the_callable_outlives_kill_and_start() -> void:
	var made_before := new_mod("callable_early", {"module": WasmEngine.compile_module(COUNTER_WAT.to_utf8_buffer(), "counter"), "safety_level": 1})
	var add: Callable = made_before.node.get_export_callable("add")
	expect_eq(add.call(1, 1), null, "a call before start()")
	expect(made_before.node.get_last_error() != "", "get_last_error() before start()")
	expect_eq(start(made_before), OK, "start()")
	expect_eq(add.call(1, 1), 2, "the Callable made before start() calls the started mod")
	made_before.node.kill()
	expect_eq(add.call(1, 1), null, "a call after kill()")
	expect_eq(made_before.node.start(), OK, "start() again")
	expect_eq(add.call(3, 4), 7, "the same Callable calls the new instance")


func test_a_signal_connected_to_the_callable_calls_the_export() -> void:
	var probe := _counter("callable_signal")
	var node: Node = probe.node
	node.add_user_signal("scored", [{"name": "points", "type": TYPE_INT}])
	var bump: Callable = node.get_export_callable("bump")
	expect_eq(node.connect("scored", bump), OK, "connect() to the Callable")
	expect(node.is_connected("scored", bump), "is_connected() with an equal Callable")
	node.emit_signal("scored", 3)
	node.emit_signal("scored", 4)
	expect_eq(node.call_export("total", []), 7, "total after two emissions")
	node.disconnect("scored", node.get_export_callable("bump"))
	node.emit_signal("scored", 100)
	expect_eq(node.call_export("total", []), 7, "total after disconnect()")
	# Connected through a deferred connection, it runs at the idle time of the frame.
	node.connect("scored", bump, CONNECT_DEFERRED)
	node.emit_signal("scored", 5)
	expect_eq(node.call_export("total", []), 7, "a deferred delivery has not run yet")
	await frames(2)
	expect_eq(node.call_export("total", []), 12, "total after the deferred delivery")


func test_a_freed_node_makes_the_callable_invalid_without_a_crash() -> void:
	var probe := _counter("callable_freed")
	var node: Node = probe.node
	var add: Callable = node.get_export_callable("add")
	node.add_user_signal("ping", [{"name": "a", "type": TYPE_INT}, {"name": "b", "type": TYPE_INT}])
	var holder := Node.new()
	holder.add_user_signal("ping", [{"name": "a", "type": TYPE_INT}, {"name": "b", "type": TYPE_INT}])
	holder.connect("ping", add)
	var instances_before: int = WasmEngine.get_stats()["instances"]
	node.free()
	expect(not add.is_valid(), "is_valid() once the node is freed")
	expect_eq(WasmEngine.get_stats()["instances"], instances_before - 1, "the instance went with the node")
	# A signal still connected to it: Godot skips or reports the invalid Callable, never crashes.
	var errors := _counting_errors("add")
	holder.emit_signal("ping", 1, 2)
	holder.free()
	var direct := errors.count()
	expect(direct <= 1, "errors for the one emission to a freed node's Callable: %d" % direct)
	await expect_frames_go_on("a Callable outlived its node")


func test_a_call_from_another_thread_is_refused() -> void:
	var probe := _counter("callable_thread")
	var add: Callable = probe.node.get_export_callable("add")
	var errors := _counting_errors("main thread")
	var thread := Thread.new()
	thread.start(func() -> Variant: return add.call(1, 2))
	var result: Variant = thread.wait_to_finish()
	expect_eq(result, null, "a call from another thread returns null")
	expect_eq(errors.count(), 1, "errors naming the main thread")
	expect_eq(add.call(1, 2), 3, "the main thread still calls it")


func _poke_through_callable(_source: int) -> void:
	if _inner.is_valid() and typeof(_inner_result) == TYPE_STRING:
		_inner_result = _inner.call(1, 2)


func test_a_call_from_inside_the_mods_own_call_fails_clearly() -> void:
	var registered := register_game_function("game", "poke", Callable(self, "_poke_through_callable"),
		PackedStringArray(["i32"]), PackedStringArray(), 1)
	expect_eq(registered, OK, "register_function(\"game\", \"poke\")")
	var probe := new_mod("callable_reenter", {"module": wat_module("reenter_game"), "safety_level": 1})
	expect_eq(start(probe), OK, "start()")
	_inner = probe.node.get_export_callable("add")
	await frames(3)
	expect_eq(_inner_result, null, "the Callable called from the mod's own process")
	expect_contains(probe.node.get_last_error(), "from inside one of its own calls", "get_last_error()")
	expect_eq(probe.node.get_status(), WasmScript.STATUS_RUNNING, "the mod still runs")
	_inner = Callable()
	expect_eq(probe.node.get_export_callable("add").call(5, 6), 11, "a call from outside afterwards")


func _make_script_off_thread() -> WasmScript:
	var node := WasmScript.new()
	node.name = "MadeOffThread"
	node.autostart = false
	return node


## A WasmScript made on another thread (supported) answers its Callables like any other: its core
## could not be registered there, and every call said the node was freed.
func test_the_callable_of_a_node_made_on_another_thread_works() -> void:
	var thread := Thread.new()
	thread.start(_make_script_off_thread)
	var node: WasmScript = thread.wait_to_finish()
	_nodes.append(node)
	node.module = WasmEngine.compile_module(COUNTER_WAT.to_utf8_buffer(), "counter")
	var before := node.get_export_callable("add")
	expect_eq(before.call(1, 1), null, "a call before start() is an error, not a crash")
	tree.root.add_child(node)
	expect_eq(node.start(), OK, "start()")
	var add := node.get_export_callable("add")
	expect(add.is_valid(), "the Callable is valid")
	expect_eq(add.call(2, 40), 42, "add(2, 40) through the Callable")
	expect_eq(before.call(1, 1), 2, "the Callable made before start()")
