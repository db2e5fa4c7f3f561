## A `Callable` the game registers with `WasmEngine.register_function` is callable from a mod at
## its level and an error stub below it; reserved module names are refused.
extends "res://tests/lib/wasgo_test.gd"

var calls: Array = []


func _add(a: int, b: int) -> int:
	calls.append([a, b])
	return a + b


func _register_add() -> bool:
	var error := register_game_function("game", "add", Callable(self, "_add"),
		PackedStringArray(["i32", "i32"]), PackedStringArray(["i32"]), 2)
	return expect_eq(error, OK, "register_function(\"game\", \"add\", ..., level 2)")


func test_game_function_is_callable_at_its_level() -> void:
	if not _register_add():
		return
	set_setting(SAFETY_LEVEL, 2)
	var probe := new_mod("game_add_level_2", {"module": wat_module("game_add"), "safety_level": 2})
	if await run_to_end(probe):
		expect(probe.has_output("game.add returned 42"), "no `game.add returned 42` line: %s" % probe.describe())
		expect_eq(calls, [[40, 2]], "calls the game's Callable received")
		expect_eq(probe.finished, [0], "exit codes from `finished`")
		expect_eq(probe.unexposed, [], "unexposed_call emissions")

	# Unregistered, the same import is unknown again: a stub that traps when called.
	WasmEngine.unregister_function("game", "add")
	var after := new_mod("game_add_unregistered", {"module": wat_module("game_add"), "safety_level": 2})
	if await run_to_end(after):
		if expect_eq(after.traps.size(), 1, "traps after unregister_function (%s)" % after.describe()):
			expect_contains(after.traps[0], "`game.add`", "trap message after unregister_function")
		expect_eq(calls.size(), 1, "calls the game's Callable received in all")


func test_game_function_is_a_stub_below_its_level() -> void:
	if not _register_add():
		return
	set_setting(SAFETY_LEVEL, 1)
	var probe := new_mod("game_add_level_1", {"module": wat_module("game_add"), "safety_level": 1})
	if await run_to_end(probe):
		if expect_eq(probe.traps.size(), 1, "traps (%s)" % probe.describe()):
			expect_contains(probe.traps[0], "call to `game.add`, which is not exposed at safety level 1", "trap message")
		expect_eq(probe.unexposed, [["game.add", 1]], "unexposed_call emissions")
		expect_eq(calls, [], "calls the game's Callable received")


func test_reserved_module_names_are_refused() -> void:
	for module in ["wasgo", "wasi_snapshot_preview1", "wasi_unstable", "gojs", "wapc"]:
		var error := register_game_function(module, "add", Callable(self, "_add"),
			PackedStringArray(["i32", "i32"]), PackedStringArray(["i32"]), 1)
		expect(error != OK, "register_function(\"%s\", ...) was accepted" % module)


var other_calls: Array = []


func _other_add(a: int, b: int) -> int:
	other_calls.append([a, b])
	return a + b + 1000


## Registering a name again replaces it, also for the mods already running: with the same types
## and level their import calls the new Callable; with others, a call traps as unregistered.
## Before, running mods kept calling the first Callable (and it was never freed).
func test_a_replaced_game_function_is_the_one_running_mods_call() -> void:
	if not _register_add():
		return
	set_setting(SAFETY_LEVEL, 2)
	var wat := "(module (import \"game\" \"add\" (func $add (param i32 i32) (result i32))) (func (export \"call_add\") (param i32 i32) (result i32) (call $add (local.get 0) (local.get 1))))"
	var module := WasmEngine.compile_module(wat.to_utf8_buffer(), "replaced_add")
	var probe := new_mod("replaced_add", {"module": module, "safety_level": 2})
	expect_eq(start(probe), OK, "start(): %s" % probe.node.get_last_error())
	expect_eq(probe.node.call_export("call_add", [1, 2]), 3, "the first Callable")
	expect_eq(register_game_function("game", "add", Callable(self, "_other_add"),
		PackedStringArray(["i32", "i32"]), PackedStringArray(["i32"]), 2), OK, "registered again")
	expect_eq(probe.node.call_export("call_add", [1, 2]), 1003, "the running mod calls the new Callable")
	expect_eq(calls, [[1, 2]], "the first Callable's calls")
	expect_eq(other_calls, [[1, 2]], "the new Callable's calls")
	expect_eq(register_game_function("game", "add", Callable(self, "_other_add"),
		PackedStringArray(["i64", "i64"]), PackedStringArray(["i64"]), 2), OK, "registered with other types")
	expect_eq(probe.node.call_export("call_add", [1, 2]), null, "a call through the old types")
	if expect_eq(probe.traps.size(), 1, "traps (%s)" % probe.describe()):
		expect_contains(probe.traps[0], "`game.add`", "the trap names the function")
	expect_eq(other_calls.size(), 1, "no call reached a Callable of other types")


var _probes: Array = []


func _probe(i: int) -> void:
	_probes.append(i)
	if i == 9:
		OS.delay_msec(600)


## `main_timeout_ms` holds past a slow call into the game: `main` is stopped at its timeout
## instead of waiting out its main-thread share (after a long call, seconds) and going on to
## call the game again (it finished normally six seconds later).
func test_main_timeout_holds_after_a_slow_game_call() -> void:
	expect_eq(register_game_function("t", "probe", Callable(self, "_probe"), ["i32"], [], 1), OK, "register t.probe")
	_probes.clear()
	var probe := new_mod("slow_game", {"module": wat_module("main_slow_game"), "main_timeout_ms": 200})
	if not await run_to_end(probe):
		return
	expect_eq(_probes, [9], "the game calls `main` made before its timeout")
	if expect_eq(probe.traps.size(), 1, "traps: %s" % probe.describe()):
		expect_contains(probe.traps[0], "longer than its timeout of 200 ms", "the trap")


func _divmod(a: int, b: int) -> Array[int]:
	return [a / b, a % b]


## A game function of several results may answer a typed Array (`-> Array[int]`): read as an
## untyped one, it was refused ("it must return an Array of 2 values") and the mod trapped.
func test_a_game_function_of_several_results_may_answer_a_typed_array() -> void:
	var error := register_game_function("game", "divmod", Callable(self, "_divmod"),
		PackedStringArray(["i32", "i32"]), PackedStringArray(["i32", "i32"]), 1)
	if not expect_eq(error, OK, "register_function(\"game\", \"divmod\")"):
		return
	var wat := "(module (import \"game\" \"divmod\" (func $dm (param i32 i32) (result i32 i32))) (memory (export \"memory\") 1) (func (export \"dm\") (param i32 i32) (result i32 i32) (call $dm (local.get 0) (local.get 1))))"
	var probe := new_mod("game_divmod", {"module": WasmEngine.compile_module(wat.to_utf8_buffer(), "divmod")})
	expect_eq(start(probe), OK, "start()")
	expect_eq(probe.node.call_export("dm", [17, 5]), [3, 2], "dm(17, 5): %s" % probe.node.get_last_error())
	expect_eq(probe.traps, PackedStringArray(), "traps")
