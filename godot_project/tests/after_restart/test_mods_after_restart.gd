## Phase 2 of the mod-list restart test, run by `cargo xtask test` in a second Godot process
## after the main suite: the enabled list and load order phase 1 saved
## (`test_mods_scan.gd::test_restart_phase_1_the_enabled_list_and_order_are_saved`) hold.
extends "res://tests/lib/wasgo_test.gd"


func test_restart_phase_2_the_enabled_list_and_order_survived() -> void:
	var dir := "user://scan_restart"
	var order := WasmEngine.get_mod_order()
	expect(order.has("restart_b") and order.find("restart_b") < order.find("restart_a"), "the saved order puts restart_b before restart_a: %s" % [order])
	var found := WasmEngine.scan_mods(dir)
	var ids := found.map(func(d: Dictionary) -> String: return d["id"])
	expect_eq(ids, ["restart_b", "restart_a"], "scan_mods in the saved order")
	if found.size() == 2:
		expect_eq(found[0]["enabled"], true, "restart_b stays enabled")
		expect_eq(found[1]["enabled"], false, "restart_a stays disabled")
	for file in DirAccess.get_files_at(dir):
		DirAccess.remove_absolute(dir.path_join(file))
	DirAccess.remove_absolute(dir)
