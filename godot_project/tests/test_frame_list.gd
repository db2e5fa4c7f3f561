## The frame driver's list of live scripts: a node joins it when its instance starts and leaves
## it when the node is freed or the mod ends, so nodes that are gone cost nothing per frame.
extends "res://tests/lib/wasgo_test.gd"

const MOVER := "res://tests/mods/bench_mover.wasm"


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
