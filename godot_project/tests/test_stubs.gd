## Imports that are not exposed at the instance's level, and imports that do not exist, link to
## error stubs: instantiation succeeds and only a call traps. A call to a function above the
## level names the function and the level and emits `unexposed_call`; an unknown import is
## reported as a warning at load and traps with its own message, without `unexposed_call`.
## A node can never run above the project's level.
extends "res://tests/lib/wasgo_test.gd"

const LogCounter := preload("res://tests/lib/log_counter.gd")
const FILE_WRITE_AT_LEVEL_1 := "call to `wasgo.file_write`, which is not exposed at safety level 1"


func test_level_2_import_instantiates_at_level_1_and_traps_only_when_called() -> void:
	var probe := new_mod("file_write_level_1", {"module": wat_module("file_write")})
	expect_eq(start(probe), OK, "start() (instantiation must succeed despite the unexposed import)")
	if not expect(await wait_for_end(probe), "file_write did not end within 10 s: %s" % probe.describe()):
		return
	if expect_eq(probe.traps.size(), 1, "traps (%s)" % probe.describe()):
		expect_contains(probe.traps[0], FILE_WRITE_AT_LEVEL_1, "trap message")
	expect_eq(probe.unexposed, [["wasgo.file_write", 1]], "unexposed_call emissions")
	expect_eq(probe.node.get_status(), WasmScript.STATUS_TRAPPED, "status after the trap")
	expect(not probe.has_output("file_write returned"), "the mod went on after the stub call: %s" % probe.describe())
	expect(probe.finished.is_empty(), "`finished` fired for a trapped mod: %s" % probe.describe())


func test_unknown_import_traps_with_its_own_message() -> void:
	var probe := new_mod("env_nope", {"module": wat_module("env_nope")})
	expect_eq(start(probe), OK, "start() (instantiation must succeed despite the unknown import)")
	if not expect(await wait_for_end(probe), "env_nope did not end within 10 s: %s" % probe.describe()):
		return
	if expect_eq(probe.traps.size(), 1, "traps (%s)" % probe.describe()):
		expect_contains(probe.traps[0], "`env.nope`", "trap message")
		expect_contains(probe.traps[0], "safety level 1", "trap message")
	# The contract: an import that does not exist at all links to the same kind of stub, which
	# emits `unexposed_call` when called.
	expect_eq(probe.unexposed, [["env.nope", 1]], "unexposed_call emissions")
	expect_eq(probe.node.get_status(), WasmScript.STATUS_TRAPPED, "status after the trap")


func test_what_init_raised_before_it_trapped_reaches_the_node() -> void:
	var probe := new_mod("init_unexposed", {"module": wat_module("init_logs_then_unexposed")})
	expect_eq(start(probe), ERR_CANT_CREATE, "start() of a mod whose init traps")
	await frames(2)
	expect(probe.has_output("hi from init"), "the line init logged: %s" % probe.describe())
	expect_eq(probe.unexposed, [["wasgo.file_write", 1]], "unexposed_call emissions")
	if expect_eq(probe.traps.size(), 1, "traps (%s)" % probe.describe()):
		expect_contains(probe.traps[0], FILE_WRITE_AT_LEVEL_1, "trap message")
	expect_eq(probe.node.get_status(), WasmScript.STATUS_TRAPPED, "status after the trap")


## A WASI `exit` from `init` ends the mod the way an `exit` anywhere else does: `finished(code)`
## and STATUS_FINISHED, never a failed start, a trap or a kill; `main` never runs.
func test_an_exit_from_init_is_finished() -> void:
	var probe := new_mod("init_exits", {"module": wat_module("init_exits")})
	expect_eq(start(probe), OK, "start() of a mod whose init exits: %s" % probe.node.get_last_error())
	await frames(2)
	expect(probe.has_output("bye from init"), "the line init logged: %s" % probe.describe())
	expect_eq(probe.finished, [3], "finished emissions")
	expect(probe.traps.is_empty() and probe.kills.is_empty(), "no trap or kill: %s" % probe.describe())
	expect_eq(probe.node.get_status(), WasmScript.STATUS_FINISHED, "status after the exit")
	expect_eq(probe.node.get_last_error(), "", "last_error")


func test_level_2_import_does_not_trap_as_unexposed_at_level_2() -> void:
	set_setting(SAFETY_LEVEL, 2)
	var probe := new_mod("file_write_level_2", {"module": wat_module("file_write"), "safety_level": 2})
	expect_eq(start(probe), OK, "start()")
	if not expect(await wait_for_end(probe), "file_write did not end within 10 s at level 2: %s" % probe.describe()):
		return
	print("file_write at level 2: %s" % probe.describe())
	expect_eq(probe.unexposed, [], "unexposed_call emissions at level 2")
	for message in probe.traps:
		expect(not message.contains("not exposed"), "trapped as unexposed at level 2: %s" % message)


func test_node_level_above_the_project_level_is_clamped() -> void:
	set_setting(SAFETY_LEVEL, 1)
	var probe := new_mod("file_write_asks_3", {"module": wat_module("file_write"), "safety_level": 3})
	if await run_to_end(probe):
		if expect_eq(probe.traps.size(), 1, "traps (%s)" % probe.describe()):
			expect_contains(probe.traps[0], FILE_WRITE_AT_LEVEL_1, "trap message of a node asking for level 3 in a level-1 project")
		expect_eq(probe.unexposed, [["wasgo.file_write", 1]], "unexposed_call emissions")
	var levels := new_mod("levels_asks_3", {"wasm_file": MODS + "levels.wasm", "safety_level": 3})
	if await run_to_end(levels):
		expect_eq(levels.outputs_starting_with("level: "), PackedStringArray(["level: 1"]), "level the clamped mod reports")



## A game that frees the node from its `unexposed_call` handler still sees the trap that came
## with it in the console (it was dropped with the node).
func test_trap_is_printed_when_the_unexposed_call_handler_frees_the_node() -> void:
	var counter := LogCounter.new(FILE_WRITE_AT_LEVEL_1, Logger.ERROR_TYPE_ERROR)
	var probe := new_mod("freed_with_its_parent", {"module": wat_module("file_write_export")})
	var node := probe.node
	var parent := Node.new()
	tree.root.add_child(parent)
	parent.add_child(node)
	var handled := [0]
	# Godot refuses to free the emitting node itself; freeing its parent frees it all the same.
	node.unexposed_call.connect(func(_function: String, _level: int) -> void:
		handled[0] += 1
		parent.free(), CONNECT_ONE_SHOT)
	expect_eq(node.start(), OK, "start()")
	OS.add_logger(counter)
	# The stub traps inside this call; the events go out before it returns.
	node.call_export("write")
	OS.remove_logger(counter)
	expect_eq(handled[0], 1, "unexposed_call handler runs")
	expect(not is_instance_valid(parent), "the handler freed the parent")
	expect_eq(counter.count(), 1, "console errors naming the unexposed call after the node was freed")
	await expect_frames_go_on("after an unexposed_call handler freed its node")
