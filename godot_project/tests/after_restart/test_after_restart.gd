## Phase 2 of the restart test, run by `cargo xtask test` in a second Godot process after the
## main suite (`run_tests.gd -- --dir=res://tests/after_restart/`): the grant phase 1 gave
## (`test_level2_files.gd::test_restart_phase_1_the_grant_is_saved`) must hold without asking
## again, and `revoke_permission` must remove it for good.
extends "res://tests/lib/level2_test.gd"


func test_restart_phase_2_the_grant_survived_and_revoke_removes_it() -> void:
	var id := "l2_restart"
	expect_eq(saved_grants(id), PackedStringArray(["files"]), "grants saved by the first run")
	var probe := level2_mod(id)
	expect_eq(op_code(probe, 1, ["after_restart.txt", "still granted"]), 0, "file_write in the second run, without grant_permission")
	expect_eq(FileAccess.get_file_as_string(sandbox(id) + "after_restart.txt"), "still granted", "the file on disk")
	probe.node.revoke_permission("files")
	expect_eq(op_code(probe, 1, ["after_revoke.txt", "x"]), -6, "file_write after revoke_permission")
	expect_eq(saved_grants(id), PackedStringArray(), "saved grants after revoke_permission")
	var fresh := level2_mod(id)
	expect_eq(op_code(fresh, 1, ["fresh.txt", "x"]), -6, "a node started after the revoke")
	remove_tree(sandbox(id))
