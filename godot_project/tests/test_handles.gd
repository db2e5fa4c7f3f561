## Handles a mod passes are checked without arithmetic that can overflow: 0, negative numbers,
## `i32::MIN` and numbers past the table answer -4 (invalid handle), and the mod goes on.
extends "res://tests/lib/wasgo_test.gd"


func test_negative_min_and_huge_handles_answer_invalid_handle() -> void:
	var probe := new_mod("bad_handles", {"module": wat_module("bad_handles"), "safety_level": 1})
	if not expect_eq(start(probe), OK, "start()"):
		return
	for which in 3:
		expect_eq(probe.node.call_export("probe", [which]), -4, "get_node from bad handle #%d" % which)
	expect_eq(probe.node.get_status(), WasmScript.STATUS_RUNNING, "the mod still runs")


## A handle of a node the game freed answers -4 wherever it is used, releasing it included, and
## the mod goes on (releasing it panicked in the host: the mod trapped).
func test_a_freed_nodes_handle_can_be_used_and_released_without_harm() -> void:
	var probe := new_mod("freed_handles", {"module": wat_module("freed_handles"), "safety_level": 1})
	var target := Node2D.new()
	target.name = "Target"
	target.rotation = 0.5
	probe.node.add_child(target)
	if not expect_eq(start(probe), OK, "start()"):
		return
	var h: int = probe.node.call_export("hold", [])
	expect(h > 0, "a handle for Target: %d" % h)
	expect_eq(probe.node.call_export("rotation", [h]), 500, "rotation x1000 while Target lives")
	target.free()
	expect_eq(probe.node.call_export("rotation", [h]), -4, "get_float on the freed node")
	# A name the handle has not used yet: the checks that ask the object for its property
	# list ran on the freed object (a host-bug trap in debug builds, a crash in release).
	expect_eq(probe.node.call_export("unknown", [h]), -4, "an unknown property of the freed node")
	expect_eq(probe.node.call_export("denied", [h]), -4, "a denied property of the freed node")
	expect_eq(probe.node.call_export("drop", [h]), null, "release of the freed node's handle")
	expect_eq(probe.node.get_status(), WasmScript.STATUS_RUNNING, "the mod still runs: %s" % probe.describe())
	expect_eq(probe.node.call_export("rotation", [h]), -4, "the released handle")
	expect_eq(probe.node.call_export("again", []), -1, "Target is gone")
	expect(probe.traps.is_empty(), "no trap: %s" % probe.describe())
