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
