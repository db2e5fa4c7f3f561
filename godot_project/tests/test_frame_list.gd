## The frame driver's list of live scripts: a node joins it when its instance starts and leaves
## it when the node is freed or the mod ends, so nodes that are gone cost nothing per frame.
extends "res://tests/lib/wasgo_test.gd"

const MOVER := "res://tests/mods/bench_mover.wasm"
const LogCounter := preload("res://tests/lib/log_counter.gd")


func _live() -> int:
	return WasmEngine.get_stats()["live_scripts"]


func test_freed_scripts_leave_the_frame_list() -> void:
	var before := _live()
	var probes: Array[ModProbe] = []
	for i in 20:
		var probe := new_mod("mover_%d" % i, {"wasm_file": MOVER, "args": PackedStringArray(["empty"])})
		if not expect_eq(start(probe), OK, "start() of mover %d" % i):
			return
		probes.append(probe)
	expect_eq(_live(), before + 20, "live scripts after 20 starts")
	await frames(2)
	for probe in probes.slice(0, 10):
		probe.node.free()
	expect_eq(_live(), before + 10, "live scripts after freeing 10 nodes")
	for probe in probes.slice(10):
		probe.node.queue_free()
	await frames(2)
	expect_eq(_live(), before, "live scripts after freeing all 20")


func test_an_ended_mod_leaves_the_frame_list_and_its_node_stays() -> void:
	var before := _live()
	var probe := new_mod("mover_killed", {"wasm_file": MOVER, "args": PackedStringArray(["empty"])})
	if not expect_eq(start(probe), OK, "start()"):
		return
	expect_eq(_live(), before + 1, "live scripts after the start")
	probe.node.kill()
	await frames(2)
	expect_eq(_live(), before, "live scripts after kill()")
	expect(is_instance_valid(probe.node), "the node is still there")


func test_call_export_keeps_working_for_many_nodes_made_and_freed() -> void:
	# `call_export` finds a node's core in a table by instance id: nodes made and freed in
	# turn must each reach their own instance.
	for i in 30:
		var parent := Node2D.new()
		tree.root.add_child(parent)
		var probe := new_mod("mover_call_%d" % i, {"wasm_file": MOVER, "args": PackedStringArray(["fast"]), "reach": NodePath("..")})
		parent.add_child(probe.node)
		if not expect_eq(start(probe), OK, "start() of node %d" % i):
			return
		expect_eq(probe.node.call_export("process", [0.016]), null, "process() of node %d" % i)
		expect_eq(probe.node.get_last_error(), "", "last error of node %d" % i)
		expect_eq(parent.position.x, 1.0, "node %d's mod moved its own parent once" % i)
		parent.free()
	var stale := WasmScript.new()
	expect_eq(stale.call_export("process", [0.016]), null, "call_export on a node never started")
	expect_contains(stale.get_last_error(), "not started", "its error")
	stale.free()


## A mod that counts its `process` calls, and one with no frame export at all.
const COUNTING_WAT := """(module
  (global $n (mut i32) (i32.const 0))
  (func (export "process") (param f64) (global.set $n (i32.add (global.get $n) (i32.const 1))))
  (func (export "count") (result i32) (global.get $n)))"""
const IDLE_WAT := """(module (func (export "count") (result i32) (i32.const -1)))"""


func test_a_node_whose_new_instance_has_process_gets_frames() -> void:
	# The driver visits only scripts that want frames: a node that first ran a mod without
	# `process` must be visited once a mod with `process` starts in it.
	var idle := WasmEngine.compile_module(IDLE_WAT.to_utf8_buffer(), "idle")
	var counting := WasmEngine.compile_module(COUNTING_WAT.to_utf8_buffer(), "counting")
	var probe := new_mod("becomes_busy", {"module": idle, "safety_level": 1})
	if not expect_eq(start(probe), OK, "start() of the idle mod"):
		return
	await frames(3)
	expect_eq(probe.node.call_export("count", []), -1, "the idle mod answers")
	probe.node.module = counting
	expect_eq(probe.node.reload(), OK, "reload() with the counting mod in the same node")
	await frames(5)
	var count: int = probe.node.call_export("count", [])
	expect(count >= 3, "process calls of the new instance after 5 frames: %d" % count)


func test_an_idle_mod_given_a_group_later_runs_its_pass() -> void:
	# A group set after start makes a script that wanted no frames want them.
	const PASS_WAT := """(module
	  (global $n (mut i32) (i32.const 0))
	  (func (export "process_node") (param i32 f64) (global.set $n (i32.add (global.get $n) (i32.const 1))))
	  (func (export "count") (result i32) (global.get $n)))"""
	var module := WasmEngine.compile_module(PASS_WAT.to_utf8_buffer(), "pass_only")
	var holder := Node2D.new()
	holder.name = "GroupHolder"
	tree.root.add_child(holder)
	var member := Node2D.new()
	holder.add_child(member)
	member.add_to_group(&"frame_list_late_group")
	var probe := new_mod("late_group", {"module": module, "safety_level": 1, "reach": NodePath("..")})
	holder.add_child(probe.node)
	if not expect_eq(start(probe), OK, "start()"):
		holder.free()
		return
	await frames(3)
	expect_eq(probe.node.call_export("count", []), 0, "no pass before the group is set")
	probe.node.process_group = &"frame_list_late_group"
	await frames(5)
	var count: int = probe.node.call_export("count", [])
	expect(count >= 3, "process_node calls after the group was set: %d" % count)
	probe.node.process_group = &""
	await frames(1)
	var stopped: int = probe.node.call_export("count", [])
	await frames(3)
	expect_eq(probe.node.call_export("count", []), stopped, "no pass once the group is cleared")
	holder.free()


func test_processing_is_turned_on_only_for_mods_that_use_frames() -> void:
	var idle := WasmEngine.compile_module(IDLE_WAT.to_utf8_buffer(), "idle")
	var counting := WasmEngine.compile_module(COUNTING_WAT.to_utf8_buffer(), "counting")
	var physics_only := WasmEngine.compile_module("""(module
	  (func (export "physics_process") (param f64)))""".to_utf8_buffer(), "physics_only")
	var quiet := new_mod("no_frames", {"module": idle, "safety_level": 1})
	var busy := new_mod("with_process", {"module": counting, "safety_level": 1})
	var physics := new_mod("with_physics", {"module": physics_only, "safety_level": 1})
	for probe in [quiet, busy, physics]:
		if not expect_eq(start(probe), OK, "start() of %s" % probe.node.name):
			return
	await frames(2)
	expect(not quiet.node.is_processing() and not quiet.node.is_physics_processing(),
		"a mod without frame exports leaves its node unprocessed")
	expect(busy.node.is_processing(), "a mod with process turns processing on")
	expect(not busy.node.is_physics_processing(), "... and not physics processing")
	expect(physics.node.is_physics_processing() and not physics.node.is_processing(),
		"a mod with only physics_process turns on physics processing only")
	# After that the flags are the game's: turned off, the mod's process stops, and a new
	# instance in the node does not turn them on again.
	busy.node.set_process(false)
	await frames(1)
	var count: int = busy.node.call_export("count", [])
	await frames(3)
	expect_eq(busy.node.call_export("count", []), count, "process calls once set_process(false)")
	expect_eq(busy.node.reload(), OK, "reload()")
	await frames(2)
	expect(not busy.node.is_processing(), "a reload keeps the game's set_process(false)")
	busy.node.set_process(true)
	await frames(3)
	expect(busy.node.call_export("count", []) >= 2, "process runs again once set_process(true)")


## A game may take a running mod's node out of the tree and keep it (a node pool, a level
## swapped out). Godot does not process a node outside the tree, and neither does the frame
## driver, which must not ask such a node `can_process` either (Godot logs an error per call:
## one per mod per frame).
func test_a_node_taken_out_of_the_tree_is_not_processed_and_logs_nothing() -> void:
	var parent := Node2D.new()
	tree.root.add_child(parent)
	var probe := new_mod("mover_taken_out", {"wasm_file": MOVER, "args": PackedStringArray(["fast"])})
	parent.add_child(probe.node)
	if not expect_eq(probe.node.start(), OK, "start(): %s" % probe.node.get_last_error()):
		parent.free()
		return
	await frames(3)
	var x := parent.position.x
	expect(x > 0.0, "the mod moved its parent while in the tree")
	var logger := LogCounter.new("is_inside_tree", Logger.ERROR_TYPE_ERROR)
	OS.add_logger(logger)
	parent.remove_child(probe.node)
	await frames(3)
	OS.remove_logger(logger)
	expect_eq(logger.count(), 0, "errors logged while the node was out of the tree")
	expect_eq(parent.position.x, x, "the mod's process did not run while its node was out of the tree")
	parent.add_child(probe.node)
	await frames(3)
	expect(parent.position.x > x, "the mod runs again once its node is back (%s)" % parent.position.x)
	parent.free()
