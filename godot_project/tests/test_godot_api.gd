## The Godot API for mods (issue 3): handles, get/set/call, the typed fast paths, signals to
## `native_callback`, `mod_event`, calls from `main`, freed handles, and the allowlist that keeps
## the escape hatches closed at levels 1 and 2.
extends "res://tests/lib/wasgo_test.gd"

const GODOT_API := MODS + "godot_api.wasm"

var _scene: Node
var target: Node2D


## The scene the `godot_api` mod expects: Stage/{Mod, Target (Node2D with signal poked(a, b)),
## Tick (Timer), Net (HTTPRequest)}. Returns the mod's probe (not started).
func stage(node_name: String, properties := {}) -> ModProbe:
	if _scene == null:
		_scene = Node.new()
		_scene.name = "Stage"
		tree.root.add_child(_scene)
		target = Node2D.new()
		target.name = "Target"
		target.add_user_signal("poked", [{"name": "a", "type": TYPE_INT}, {"name": "b", "type": TYPE_STRING}])
		_scene.add_child(target)
		var tick := Timer.new()
		tick.name = "Tick"
		tick.wait_time = 0.02
		tick.autostart = true
		_scene.add_child(tick)
		var net := HTTPRequest.new()
		net.name = "Net"
		_scene.add_child(net)
	var props := {"wasm_file": GODOT_API}
	props.merge(properties, true)
	var probe := new_mod(node_name, props)
	_scene.add_child(probe.node)
	return probe


## Starts a staged mod and, unless it was given arguments, waits for its `main` (which then
## returns at once) to finish: exports cannot be called while `main` holds the instance.
func begin(probe: ModProbe) -> int:
	var error: int = probe.node.start()
	if error == OK and probe.node.args.is_empty():
		var done: bool = await wait_until(func() -> bool: return not probe.finished.is_empty() or not probe.traps.is_empty(), 3000)
		expect(done, "main of %s did not return: %s" % [probe.node.name, probe.describe()])
	return error


func cleanup() -> void:
	super.cleanup()
	if _scene != null and is_instance_valid(_scene):
		_scene.free()
	_scene = null


func test_mod_moves_a_node2d_every_frame_from_process() -> void:
	var probe := stage("mover")
	expect_eq(await begin(probe), OK, "start()")
	await frames(30)
	var moved = probe.node.call_export("frames", [])
	if not expect(moved is int, "frames() gave %s: %s" % [moved, probe.describe()]):
		return
	expect(moved >= 20, "process ran only %d times in 30 frames: %s" % [moved, probe.describe()])
	expect_eq(target.position, Vector2(moved, moved * 0.5), "Target.position after %d frames of +(1, 0.5)" % moved)
	expect_eq(probe.traps.size(), 0, "traps")


func test_fast_paths_set_float_and_call_float() -> void:
	var probe := stage("spinner")
	expect_eq(await begin(probe), OK, "start()")
	await frames(2)
	expect_eq(probe.node.call_export("spin_target", []), 750, "rotation*1000 after set_float(0.25) and rotate(0.5)")
	expect(is_equal_approx(target.rotation, 0.75), "Target.rotation is %f" % target.rotation)


func test_call_float_writes_bools_as_numbers_and_refuses_other_results() -> void:
	# Level 3: no method without arguments or result is on the level-1 allowlist.
	set_setting(SAFETY_LEVEL, 3)
	var probe := new_mod("call_float_results", {"module": wat_module("call_float_results"), "safety_level": 3})
	if not expect_eq(start(probe), OK, "start()"):
		return
	expect_eq(probe.node.call_export("bool_result", []), 0, "call_float(is_inside_tree)")
	expect_eq(probe.node.call_export("out", []), 1.0, "is_inside_tree() as a number")
	expect_eq(probe.node.call_export("no_result", []), 0, "call_float(update_configuration_warnings)")
	expect_eq(probe.node.call_export("out", []), 0.0, "no result as a number")
	expect_eq(probe.node.call_export("path_result", []), -3, "call_float(get_path): a NodePath is no number")
	expect_eq(probe.node.call_export("out", []), -1.0, "nothing written for a NodePath")
	expect_eq(probe.node.get_status(), WasmScript.STATUS_RUNNING, "the mod runs on: %s" % probe.describe())


func test_a_property_name_that_is_not_utf8_traps_naming_the_function() -> void:
	for export_name in ["bad_get", "bad_set_float"]:
		var probe := new_mod("bad_name_text", {"module": wat_module("bad_name_text"), "safety_level": 1})
		if not expect_eq(start(probe), OK, "start()"):
			return
		probe.node.call_export(export_name, [])
		if expect_eq(probe.traps.size(), 1, "traps of %s: %s" % [export_name, probe.describe()]):
			var function := "`wasgo.%s`" % export_name.trim_prefix("bad_")
			expect_contains(probe.traps[0], function, "the trap of %s" % export_name)
			expect_contains(probe.traps[0], "not valid UTF-8", "the trap of %s" % export_name)
		probe.node.queue_free()


func test_typed_arrays_reach_the_mod_as_arrays() -> void:
	var probe := stage("children")
	expect_eq(await begin(probe), OK, "start()")
	# Stage holds Target, Tick, Net and the mod: get_children() returns a typed Array[Node].
	expect_eq(probe.node.call_export("stage_children", []), 4, "elements of get_children() as the mod decoded them")
	expect_eq(probe.traps.size(), 0, "traps")


func test_signals_reach_native_callback_with_their_arguments() -> void:
	var probe := stage("listener")
	var events: Array = []
	probe.node.mod_event.connect(func(name: String, payload: Variant) -> void: events.append([name, payload]))
	expect_eq(await begin(probe), OK, "start()")
	expect(probe.has_output("ready target=true connect timeout=0 poked=0"), "ready did not connect: %s" % probe.describe())
	var ticked: bool = await wait_until(func() -> bool: return probe.has_output("timeout args=0"), 3000)
	expect(ticked, "the Timer's timeout never reached the mod: %s" % probe.describe())
	target.emit_signal("poked", 7, "seven")
	var poked: bool = await wait_until(func() -> bool: return events.size() > 0, 2000)
	expect(poked, "no mod_event after the user signal: %s" % probe.describe())
	expect(probe.has_output("poked args=2 a=7 b=seven"), "callback_args were wrong: %s" % probe.describe())
	if poked:
		expect_eq(events[0][0], "poked_seen", "mod_event name")
		expect_eq(events[0][1], {"a": 7, "b": "seven", "where": Vector2(1.5, -2.0)}, "mod_event payload (a Dictionary)")


func test_main_walks_the_tree_thousands_of_times_with_correct_results() -> void:
	var probe := stage("walker", {"args": PackedStringArray(["walk"])})
	var started_at := Time.get_ticks_msec()
	expect_eq(probe.node.start(), OK, "start()")
	if not expect(await wait_for_end(probe, 60000), "the walk did not end: %s" % probe.describe()):
		return
	expect_eq(probe.finished, [2000], "main's result: round trips that read back what they wrote")
	expect(probe.has_output("walk ok 2000 of 2000"), "walk output: %s" % probe.describe())
	expect_eq(target.position, Vector2(1999, 3998), "Target.position after the last set from main")
	print("2000 get_node+set+get round trips from main took %d ms" % (Time.get_ticks_msec() - started_at))


## Target's script for the next test: a change of its position (a `set` from the mod's `main`,
## made on the main thread while the mod's object table is in use) runs `on_move` once.
const MOVE_HOOK := """extends Node2D
var on_move := Callable()
func _ready() -> void:
	set_notify_local_transform(true)
func _notification(what: int) -> void:
	if what == NOTIFICATION_LOCAL_TRANSFORM_CHANGED and on_move.is_valid():
		var hook := on_move
		on_move = Callable()
		hook.call()
"""


func test_a_kill_from_game_code_that_a_call_from_main_runs_releases_the_mods_connections() -> void:
	var probe := stage("killed_mid_call", {"args": PackedStringArray(["walk"])})
	var hook := GDScript.new()
	hook.source_code = MOVE_HOOK
	expect_eq(hook.reload(), OK, "the hook script compiles")
	target.set_script(hook)
	target.set_notify_local_transform(true)
	target.set("on_move", func() -> void: probe.node.kill())
	expect_eq(probe.node.start(), OK, "start()")
	var ended: bool = await wait_until(func() -> bool: return not probe.kills.is_empty(), 5000)
	expect(ended, "the kill from inside main's call did not end the mod: %s" % probe.describe())
	await frames(2)
	# `ready` connected Target's `poked` and Tick's `timeout` to the mod: both go with it.
	var mod_connections: int = target.get_signal_connection_list("poked").size() \
		+ _scene.get_node("Tick").get_signal_connection_list("timeout").size()
	expect_eq(mod_connections, 0, "connections left by the killed mod")
	target.set_script(null)


func test_kill_during_a_pending_call_from_main_ends_it_within_10_ms() -> void:
	var probe := stage("chatty", {"args": PackedStringArray(["chatty"])})
	expect_eq(await begin(probe), OK, "start()")
	await frames(5)
	expect(probe.node.is_running(), "chatty is not running: %s" % probe.describe())
	# While main runs, call_export is refused as busy rather than waiting.
	expect_eq(probe.node.call_export("frames", []), null, "call_export while main runs")
	expect_contains(probe.node.get_last_error(), "busy", "get_last_error() after a busy call_export")
	var t0 := Time.get_ticks_usec()
	probe.node.kill()
	var took := Time.get_ticks_usec() - t0
	print("kill during pending calls took %d us" % took)
	expect(took < 10000, "kill() took %d us" % took)
	expect_eq(probe.kills.size(), 1, "`killed` emissions when kill() returned")
	# The worker thread ends after kill() returns (it is given a few ms, then the reaper's):
	# on a loaded machine it may not have run yet.
	expect(await wait_for_no_workers(5000), "worker threads after kill(): %d" % WasmEngine.get_stats()["workers"])


## A node whose `main` runs is ready again (moved in the tree after `request_ready()`): the mod
## goes on, and no start is tried (it would be refused as busy, with an error in the log).
func test_a_node_ready_again_while_main_runs_goes_on_quietly() -> void:
	var probe := stage("rechatty", {"args": PackedStringArray(["chatty"])})
	expect_eq(await begin(probe), OK, "start()")
	await frames(3)
	expect(probe.node.is_running(), "chatty runs: %s" % probe.describe())
	probe.node.autostart = true
	var errors := preload("res://tests/lib/log_counter.gd").new("WasGo", Logger.ERROR_TYPE_ERROR)
	OS.add_logger(errors)
	var parent := probe.node.get_parent()
	parent.remove_child(probe.node)
	probe.node.request_ready()
	parent.add_child(probe.node)
	await frames(3)
	OS.remove_logger(errors)
	expect_eq(errors.count(), 0, "errors logged when ready again")
	expect(probe.node.is_running(), "chatty still runs: %s" % probe.describe())
	probe.node.kill()


func test_handle_of_a_node_freed_by_the_game_gives_minus_4() -> void:
	var probe := stage("holder")
	expect_eq(await begin(probe), OK, "start()")
	await frames(2)
	var handle = probe.node.call_export("target_handle", [])
	if not expect(handle is int, "target_handle() gave %s: %s" % [handle, probe.describe()]):
		return
	expect(handle > 0, "target handle %d" % handle)
	expect_eq(probe.node.call_export("read_rotation", [handle]), 0, "get_float on a live node")
	target.free()
	target = null
	expect_eq(probe.node.call_export("read_rotation", [handle]), -4, "get_float on the freed node")
	await frames(3)
	expect_eq(probe.traps.size(), 0, "traps after using a freed handle")
	expect(probe.node.get_status() == WasmScript.STATUS_FINISHED, "the mod goes on: %s" % probe.describe())


## name of each hatch in the mod's `hatch(which)`, and the member the trap must name.
const HATCHES := [
	[0, "WasmScript.call"], [1, "WasmScript.callv"], [2, "WasmScript.call_deferred"],
	[3, "WasmScript.propagate_call"], [4, "WasmScript.set_script"], [5, "WasmScript.script"],
	[6, "OS"], [7, "Engine"], [8, "ClassDB"], [9, "ResourceLoader"], [10, "ProjectSettings"],
	[11, "JavaScriptBridge"], [12, "HTTPRequest.request"], [13, "SceneTree.quit"],
]


func test_escape_hatches_trap_at_levels_1_and_2_with_name_and_level() -> void:
	for level in [1, 2]:
		set_setting(SAFETY_LEVEL, level)
		for hatch: Array in HATCHES:
			var probe := stage("hatch_%d_%d" % [level, hatch[0]], {"safety_level": level})
			expect_eq(await begin(probe), OK, "start() at level %d" % level)
			var got: Variant = probe.node.call_export("hatch", [hatch[0]])
			await frames(1)
			var want := "call to `%s`, which is not exposed at safety level %d" % [hatch[1], level]
			expect(got == null and probe.traps.size() == 1 and probe.traps[0].contains(want),
				"hatch %d at level %d: expected a trap containing %s, got %s and %s" % [hatch[0], level, want, got, probe.describe()])
			expect_eq(probe.unexposed, [[hatch[1], level]], "unexposed_call for hatch %d at level %d" % [hatch[0], level])
		# A Callable smuggled inside a Variant is refused as invalid, without a trap.
		var smuggler := stage("smuggler_%d" % level, {"safety_level": level})
		await begin(smuggler)
		expect_eq(smuggler.node.call_export("hatch", [14]), -3, "a Callable in a Variant at level %d" % level)
		expect_eq(smuggler.traps.size(), 0, "traps for the smuggled Callable")


func test_the_same_route_works_at_level_3() -> void:
	set_setting(SAFETY_LEVEL, 3)
	var probe := stage("os_name", {"safety_level": 3})
	expect_eq(await begin(probe), OK, "start() at level 3")
	expect_eq(probe.node.call_export("hatch", [15]), 0, "OS.get_name through singleton + call at level 3")
	expect(probe.has_output("os name " + OS.get_name()), "output: %s" % probe.describe())


func test_allowlist_can_be_extended_by_the_game() -> void:
	var probe := stage("extended")
	expect_eq(await begin(probe), OK, "start()")
	await frames(1)
	# `Node2D.rotate` is allowed by the shipped list; an unknown kind is refused.
	expect_eq(WasmEngine.extend_allowlist("Node2D", "colours", PackedStringArray(["x"])), ERR_INVALID_PARAMETER, "bad kind")
	expect_eq(WasmEngine.extend_allowlist("Node2D", "properties", PackedStringArray(["z_as_relative"])), OK, "extend properties")


## What the game holds of a mod's `mod_event`s waiting for delivery is bounded in bytes, not only
## in count: one call queued seven 60 MiB payloads (half a gigabyte for a mod of 64 MiB). Past
## 16 MiB `emit` answers -7; once the events are delivered (after the call), it works again.
func test_queued_mod_events_are_bounded_in_bytes() -> void:
	var probe := new_mod("emit_flood", {"module": wat_module("emit_flood"), "safety_level": 1})
	if not expect_eq(start(probe), OK, "start(): %s" % probe.node.get_last_error()):
		return
	var sizes: Array = []
	probe.node.mod_event.connect(func(_name: String, payload: Variant) -> void: sizes.append((payload as PackedByteArray).size()))
	expect_eq(probe.node.call_export("flood", [10]), 2007, "two 6 MiB events accepted, then -7")
	expect_eq(sizes, [6 << 20, 6 << 20], "the accepted events were delivered when the call returned")
	expect_eq(probe.node.call_export("flood", [1]), 1, "emit works again once they were delivered")


## The count of waiting `mod_event`s is bounded too: the 10,001st in one call is -7, where the
## queue dropped its oldest event, which `emit` had accepted, with no sign.
func test_queued_mod_events_are_bounded_in_count_without_dropping_any() -> void:
	var wat := "(module (import \"wasgo\" \"emit\" (func $emit (param i32 i32 i32 i32) (result i32))) (memory (export \"memory\") 1) (data (i32.const 0) \"e\") (func (export \"many\") (param $n i32) (result i32) (local $i i32) (local $r i32) (block $done (loop $next (br_if $done (i32.ge_u (local.get $i) (local.get $n))) (local.set $r (call $emit (i32.const 0) (i32.const 1) (i32.const 16) (i32.const 4))) (if (i32.lt_s (local.get $r) (i32.const 0)) (then (return (i32.sub (i32.mul (local.get $i) (i32.const 1000)) (local.get $r))))) (local.set $i (i32.add (local.get $i) (i32.const 1))) (br $next))) (local.get $i)))"
	var probe := new_mod("emit_count", {"module": WasmEngine.compile_module(wat.to_utf8_buffer(), "emit_count"), "safety_level": 1})
	if not expect_eq(start(probe), OK, "start(): %s" % probe.node.get_last_error()):
		return
	var seen := [0]
	probe.node.mod_event.connect(func(_name: String, _payload: Variant) -> void: seen[0] += 1)
	expect_eq(probe.node.call_export("many", [10001]), 10000 * 1000 + 7, "10,000 events accepted, then -7")
	await frames(15)
	expect_eq(seen[0], 10000, "every accepted event was delivered")


## A Godot call that Godot refuses (an argument of the wrong type, too many arguments) is the
## mod's -5 with Godot's reason in `last_error`, not a success with `null` (and no error in the
## game's log); the same call with the right arguments works.
func test_a_call_godot_refuses_answers_minus_5() -> void:
	var probe := new_mod("refused_call", {"module": wat_module("refused_call"), "safety_level": 1})
	probe.node.add_child(Node.new())
	if not expect_eq(start(probe), OK, "start()"):
		return
	expect_eq(probe.node.call_export("good", []), 1, "get_child_count(true)")
	expect_eq(probe.node.call_export("wrong_type", []), -5, "get_child_count([])")
	expect_eq(probe.node.call_export("too_many", []), -5, "get_child_count(true, true, true)")
	expect_eq(probe.node.get_status(), WasmScript.STATUS_RUNNING, "the mod runs on: %s" % probe.describe())

