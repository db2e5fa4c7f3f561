## A mod cannot make the game's console (and Godot's log file on the player's disk) print without
## end: of its output lines and of the errors Godot logs for its calls, at most 200 a second are
## printed, with one notice; the calls fail as before and the `output` signal gets every line.
## The mod is an inline WAT module: `print_lines(n)` logs `spam` n times, `bad_calls(n)` calls
## `get_child(99)` on its own node (which has no child) n times.
extends "res://tests/lib/wasgo_test.gd"

const FLOOD_WAT := """(module
  (import "wasgo" "log" (func $log (param i32 i32 i32)))
  (import "wasgo" "self" (func $self (result i32)))
  (import "wasgo" "call" (func $call (param i32 i32 i32 i32 i32 i32 i32) (result i32)))
  (import "wasgo" "emit" (func $emit (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "spam")
  (data (i32.const 32) "done")
  (func (export "print_and_emit") (param $n i32)
    (call $print (local.get $n))
    (drop (call $emit (i32.const 32) (i32.const 4) (i32.const 48) (i32.const 4))))
  (data (i32.const 16) "get_child")
  ;; [99] as an encoded Array: tag 28, one element, int tag 2, 99.
  (data (i32.const 64) "\\1c\\00\\00\\00\\01\\00\\00\\00\\02\\00\\00\\00\\63\\00\\00\\00")
  (func (export "print_lines") (param $n i32) (call $print (local.get $n)))
  (func $print (param $n i32)
    (loop $more
      (if (local.get $n)
        (then
          (call $log (i32.const 1) (i32.const 0) (i32.const 4))
          (local.set $n (i32.sub (local.get $n) (i32.const 1)))
          (br $more)))))
  (func (export "bad_calls") (param $n i32) (result i32)
    (local $h i32) (local $r i32)
    (local.set $h (call $self))
    (loop $more
      (if (local.get $n)
        (then
          (local.set $r (call $call (local.get $h) (i32.const 16) (i32.const 9)
            (i32.const 64) (i32.const 16) (i32.const 4096) (i32.const 1024)))
          (local.set $n (i32.sub (local.get $n) (i32.const 1)))
          (br $more))))
    (local.get $r)))"""

## `connect_ticks(n)` connects the node's user signal `tick` n times; each callback logs `spam`
## `lines` times (`set_lines`).
const CALLBACK_FLOOD_WAT := """(module
  (import "wasgo" "log" (func $log (param i32 i32 i32)))
  (import "wasgo" "self" (func $self (result i32)))
  (import "wasgo" "connect" (func $connect (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "spam")
  (data (i32.const 16) "tick")
  (global $lines (mut i32) (i32.const 0))
  (func (export "set_lines") (param $n i32) (global.set $lines (local.get $n)))
  (func (export "connect_ticks") (param $n i32) (result i32)
    (local $failed i32)
    (loop $more
      (if (local.get $n)
        (then
          (if (call $connect (call $self) (i32.const 16) (i32.const 4) (local.get $n))
            (then (local.set $failed (i32.add (local.get $failed) (i32.const 1)))))
          (local.set $n (i32.sub (local.get $n) (i32.const 1)))
          (br $more))))
    (local.get $failed))
  (func (export "native_callback") (param $id i32)
    (local $n i32)
    (local.set $n (global.get $lines))
    (loop $more
      (if (local.get $n)
        (then
          (call $log (i32.const 0) (i32.const 0) (i32.const 4))
          (local.set $n (i32.sub (local.get $n) (i32.const 1)))
          (br $more))))))"""


## The lines Godot's loggers receive (what the console and the log file print).
class Printed extends Logger:
	var mutex := Mutex.new()
	var spam := 0
	var out_of_bounds := 0
	var notices := 0
	var link_warnings := 0

	func _log_message(message: String, _error: bool) -> void:
		if message.begins_with("[flood") and message.contains("] spam"):
			mutex.lock()
			spam += 1
			mutex.unlock()

	func _log_error(_function: String, _file: String, _line: int, code: String, rationale: String,
			_editor_notify: bool, _error_type: int, _script_backtraces: Array[ScriptBacktrace]) -> void:
		var text := code + " " + rationale
		mutex.lock()
		if text.contains("out of bounds"):
			out_of_bounds += 1
		if text.contains("within a second"):
			notices += 1
		if text.contains("links to a stub"):
			link_warnings += 1
		mutex.unlock()


var _printed: Printed


func cleanup() -> void:
	if _printed != null:
		OS.remove_logger(_printed)
		_printed = null
	super()


## The console allowance is per mod, and each test's flood is a mod of its own (one mod's
## allowance spent by the test before would hold back this test's lines for the rest of that
## second).
var _flood_name := ""


func _flood_mod() -> ModProbe:
	_flood_name = "flood_%d" % Time.get_ticks_usec()
	var module := WasmEngine.compile_module(FLOOD_WAT.to_utf8_buffer(), _flood_name)
	if not expect(module != null, "the flood WAT compiles: %s" % WasmEngine.get_last_error()):
		return null
	var probe := new_mod("FloodMod", {"module": module, "safety_level": 1})
	if not expect_eq(start(probe), OK, "start(): %s" % probe.node.get_last_error()):
		return null
	_printed = Printed.new()
	OS.add_logger(_printed)
	return probe


func test_output_past_200_lines_a_second_is_not_printed_but_reaches_the_signal() -> void:
	var probe := _flood_mod()
	if probe == null:
		return
	probe.node.call_export("print_lines", [1000])
	await frames(2)
	expect_eq(probe.outputs_starting_with("spam").size(), 1000, "lines the `output` signal delivered")
	expect_eq(_printed.spam, 200, "lines the console printed")
	expect_eq(_printed.notices, 1, "notices that the rest was not printed")


## The allowance is the mod's, not each node's: two nodes of one mod printing 150 lines each in
## a second print 200 in all (a mod on a hundred nodes printed a hundred times the allowance).
func test_the_nodes_of_one_mod_share_its_console_allowance() -> void:
	var first := _flood_mod()
	if first == null:
		return
	var module := WasmEngine.compile_module(FLOOD_WAT.to_utf8_buffer(), _flood_name)
	var second := new_mod("FloodMod2", {"module": module, "safety_level": 1})
	if not expect_eq(start(second), OK, "start() of the second node"):
		return
	first.node.call_export("print_lines", [150])
	second.node.call_export("print_lines", [150])
	await frames(2)
	expect_eq(first.outputs_starting_with("spam").size() + second.outputs_starting_with("spam").size(), 300, "lines the `output` signals delivered")
	expect_eq(_printed.spam, 200, "lines the console printed for the mod's two nodes")
	expect_eq(_printed.notices, 1, "notices that the rest was not printed")


## A mod's `mod_event`s have an allowance of their own a pump: a call printing 3000 lines spent
## the one allowance on its output, and its `mod_event` waited (for good, for a `main` printing
## that much every frame).
func test_a_mod_event_is_not_held_back_by_the_mods_output() -> void:
	var probe := _flood_mod()
	if probe == null:
		return
	var events := []
	probe.node.mod_event.connect(func(name: String, _payload: Variant) -> void: events.append(name))
	probe.node.call_export("print_and_emit", [3000])
	expect_eq(events, ["done"], "mod_events delivered right after the call")
	expect_eq(probe.outputs_starting_with("spam").size(), 1000, "lines delivered right after the call")


## A live mod's events are emitted at most 1000 a pump, the rest in order at the next frames: a
## `main` printing in a loop had 10,000 `output` signals emitted every frame, outside every
## budget.
func test_output_is_delivered_at_most_1000_lines_a_pump_in_order() -> void:
	var probe := _flood_mod()
	if probe == null:
		return
	probe.node.call_export("print_lines", [3500])
	expect_eq(probe.outputs_starting_with("spam").size(), 1000, "lines delivered right after the call")
	expect(await wait_until(func() -> bool: return probe.outputs_starting_with("spam").size() == 3500, 5000),
		"every line, a few frames later: %d" % probe.outputs_starting_with("spam").size())
	expect_eq(probe.node.get_status(), WasmScript.STATUS_RUNNING, "the mod runs on")


## The allowance is the pump's, not each callback's: ten callbacks of one signal each printing
## 1000 lines had 10,000 `output` signals emitted in one go (each drain after a callback had a
## fresh 1000).
func test_callbacks_share_the_pumps_allowance_of_events() -> void:
	var module := WasmEngine.compile_module(CALLBACK_FLOOD_WAT.to_utf8_buffer(), "callback_flood")
	if not expect(module != null, "the WAT compiles: %s" % WasmEngine.get_last_error()):
		return
	var probe := new_mod("CallbackFlood", {"module": module, "safety_level": 1})
	if not expect_eq(start(probe), OK, "start(): %s" % probe.node.get_last_error()):
		return
	probe.node.add_user_signal("tick")
	expect_eq(probe.node.call_export("connect_ticks", [10]), 0, "connections that failed")
	probe.node.call_export("set_lines", [1000])
	probe.node.emit_signal("tick")
	await frames(1)
	var first := probe.outputs.size()
	expect(first <= 1000 + 10, "output signals in the frame the ten callbacks ran: %d" % first)
	expect(await wait_until(func() -> bool: return probe.outputs.size() >= 10000, 10000),
		"every line, in later frames: %d" % probe.outputs.size())


## The allowance of Godot errors is the mod's too, not each node's: two nodes of one mod making
## 150 failing calls each in a second have 200 errors printed in all (per instance, a mod on a
## hundred nodes had Godot write a hundred times the allowance to the console and the log).
func test_the_nodes_of_one_mod_share_its_allowance_of_godot_errors() -> void:
	var first := _flood_mod()
	if first == null:
		return
	var module := WasmEngine.compile_module(FLOOD_WAT.to_utf8_buffer(), _flood_name)
	var second := new_mod("FloodMod2", {"module": module, "safety_level": 1})
	if not expect_eq(start(second), OK, "start() of the second node"):
		return
	first.node.call_export("bad_calls", [150])
	second.node.call_export("bad_calls", [150])
	expect_eq(_printed.out_of_bounds, 200, "errors Godot printed for the mod's two nodes")
	expect_eq(_printed.notices, 1, "notices that the rest was not printed")
	expect(Engine.print_error_messages, "Godot's error printing is on again after the calls")


## WasGo's warnings about a mod's unresolved imports (printed at every start) count against the
## mod's console allowance, all its nodes together: a game that spawned a mod of 64 unresolved
## imports a hundred times printed 6,500 of them.
func test_link_warnings_share_the_mods_console_allowance() -> void:
	var wat := "(module (import \"env\" \"a\" (func)) (import \"env\" \"b\" (func)) (import \"env\" \"c\" (func)) (memory (export \"memory\") 1))"
	var module := WasmEngine.compile_module(wat.to_utf8_buffer(), "linkwarn_%d" % Time.get_ticks_usec())
	if not expect(module != null, "the module compiles: %s" % WasmEngine.get_last_error()):
		return
	_printed = Printed.new()
	OS.add_logger(_printed)
	for i in 100:
		var probe := new_mod("Linked%d" % i, {"module": module, "safety_level": 1})
		if not expect_eq(start(probe), OK, "start() of node %d" % i):
			return
	await frames(2)
	expect_eq(_printed.link_warnings, 200, "link warnings printed for 100 nodes of a mod with three unresolved imports")
	expect_eq(_printed.notices, 1, "notices that the rest was not printed")


## A game function the mod calls: Godot logs an out-of-bounds error for it.
func _bad_child() -> int:
	var node := Node.new()
	node.get_child(99)
	node.free()
	return 0


## What Godot logs for game code a mod's call runs (a game function) counts against the mod's
## allowance of Godot errors too: a game function passing the mod's text on to Godot had Godot
## log without bound for it.
func test_errors_of_game_functions_a_mod_calls_count_against_its_allowance() -> void:
	expect_eq(register_game_function("game", "bad_child", Callable(self, "_bad_child"),
		PackedStringArray(), PackedStringArray(["i32"]), 1), OK, "register game.bad_child")
	var wat := "(module (import \"game\" \"bad_child\" (func $bad (result i32))) (memory (export \"memory\") 1) (func (export \"many\") (param $n i32) (local $i i32) (loop $l (drop (call $bad)) (local.set $i (i32.add (local.get $i) (i32.const 1))) (br_if $l (i32.lt_u (local.get $i) (local.get $n))))))"
	var module := WasmEngine.compile_module(wat.to_utf8_buffer(), "game_errors_%d" % Time.get_ticks_usec())
	var probe := new_mod("GameErrors", {"module": module, "safety_level": 1})
	if not expect_eq(start(probe), OK, "start(): %s" % probe.node.get_last_error()):
		return
	_printed = Printed.new()
	OS.add_logger(_printed)
	probe.node.call_export("many", [300])
	expect_eq(_printed.out_of_bounds, 200, "errors Godot printed for 300 calls of the game function")
	expect_eq(_printed.notices, 1, "notices that the rest was not printed")
	expect(Engine.print_error_messages, "Godot's error printing is on again after the calls")
	expect_eq(probe.node.get_status(), WasmScript.STATUS_RUNNING, "the mod lives")


func test_godot_errors_past_200_a_second_are_not_printed_and_printing_comes_back() -> void:
	var probe := _flood_mod()
	if probe == null:
		return
	# 300 calls stay well inside the callback budget in a debug build.
	probe.node.call_export("bad_calls", [300])
	expect_eq(_printed.out_of_bounds, 200, "errors Godot printed for 300 failing calls")
	expect_eq(_printed.notices, 1, "notices that the rest was not printed")
	expect(Engine.print_error_messages, "Godot's error printing is on again after the calls")
	# Another node's call in the same second prints as usual.
	var other := Node.new()
	other.get_child(99)
	other.free()
	expect_eq(_printed.out_of_bounds, 201, "the game's own error printed meanwhile")
	# A second later the mod's errors print again.
	# Real time: the test runner's frames do not follow the clock.
	var until := Time.get_ticks_msec() + 1100
	while Time.get_ticks_msec() < until:
		await frames(1)
	probe.node.call_export("bad_calls", [5])
	expect_eq(probe.node.get_status(), WasmScript.STATUS_RUNNING, "the mod lives: %s" % probe.describe())
	expect_eq(_printed.out_of_bounds, 206, "errors printed in the next second")
	expect_eq(_printed.notices, 1, "no new notice under the allowance")
