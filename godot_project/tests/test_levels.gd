## One mod runs unchanged, with the same results, at safety levels 1, 2 and 3.
extends "res://tests/lib/wasgo_test.gd"


func test_levels_mod_gives_identical_results_at_levels_1_2_3() -> void:
	set_setting(SAFETY_LEVEL, 3)
	var results := {}
	for level in [1, 2, 3]:
		var probe := new_mod("levels_%d" % level, {"wasm_file": MODS + "levels.wasm", "safety_level": level})
		if not await run_to_end(probe):
			return
		expect_eq(probe.finished, [0], "exit codes at level %d (%s)" % [level, probe.describe()])
		expect_eq(probe.outputs_starting_with("level: "), PackedStringArray(["level: %d" % level]), "level the mod reports")
		var lines: Array = Array(probe.outputs).filter(func(line: String) -> bool: return not line.begins_with("level: "))
		lines.sort()
		results[level] = lines
	expect_eq(results[1].size(), 2, "result lines at level 1 (println + wasgo.log) in %s" % [results[1]])
	var printed: Array = results[1].filter(func(line: String) -> bool: return line.begins_with("result: "))
	if expect_eq(printed.size(), 1, "`result:` lines at level 1 in %s" % [results[1]]):
		expect_contains(printed[0], "primes=454396537", "sum of the primes below 100000")
		expect_contains(printed[0], "has_log=1", "has_function(\"wasgo\", \"log\")")
	print("levels result: %s" % [results[1]])
	expect_eq(results[2], results[1], "results at level 2 compared with level 1")
	expect_eq(results[3], results[1], "results at level 3 compared with level 1")




## A node `safety_level` that is no level (a typo: -1, 4, 99) runs the mod at level 1, the
## safest; before, it ran at the project's ceiling (level 3 here: everything).
func test_a_node_level_that_is_no_level_runs_at_level_1() -> void:
	set_setting(SAFETY_LEVEL, 3)
	for bad in [-1, 4, 99]:
		var probe := new_mod("no_level_%d" % (bad + 1), {"wasm_file": MODS + "levels.wasm", "safety_level": bad})
		if not await run_to_end(probe):
			return
		expect_eq(probe.outputs_starting_with("level: "), PackedStringArray(["level: 1"]), "the level of safety_level %d" % bad)
		expect_contains("\n".join(probe.node.get_setup_warnings()), "no level", "the node's warning for %d" % bad)


## WasGo keeps the settings a start reads until one of them changes: a ceiling lowered or raised
## right before a start applies to it, in the same frame, after frames in which no mod started,
## and in a deferred call right after Godot reported the change (`settings_changed`).
func test_a_changed_ceiling_applies_to_the_next_start_in_the_same_frame_and_later() -> void:
	set_setting(SAFETY_LEVEL, 3)
	await frames(2)
	var steps := [
		# [the ceiling set first (0: none), then: frames awaited before the start, or -1 for a
		# start deferred behind Godot's report of the change; the level the mod reports]
		[0, 0, 3], [1, 0, 1], [0, 2, 1], [3, 0, 3], [0, 2, 3], [2, 2, 2], [0, 0, 2], [1, -1, 1],
	]
	var probes: Array[ModProbe] = []
	for i in steps.size():
		var step: Array = steps[i]
		if step[0] != 0:
			set_setting(SAFETY_LEVEL, step[0])
		if step[1] > 0:
			await frames(step[1])
		var probe := new_mod("ceiling_%d" % i, {"wasm_file": MODS + "levels.wasm", "safety_level": 3})
		tree.root.add_child(probe.node)
		if step[1] < 0:
			probe.node.start.call_deferred()
			await frames(1)
		else:
			expect_eq(probe.node.start(), OK, "start() of %s" % probe.node.name)
		probes.append(probe)
	for i in probes.size():
		var probe := probes[i]
		if not expect(await wait_for_end(probe), "%s did not end: %s" % [probe.node.name, probe.describe()]):
			continue
		expect_eq(probe.outputs_starting_with("level: "), PackedStringArray(["level: %d" % steps[i][2]]),
			"the level of start %d (steps %s)" % [i, steps])


## A setting removed with `ProjectSettings.clear()` (which Godot 4.6 does not report as a change)
## applies from the next frame: the kept settings are read again at least once a frame.
func test_a_ceiling_cleared_from_the_project_applies_from_the_next_frame() -> void:
	set_setting(SAFETY_LEVEL, 3)
	await frames(2)
	var kept := new_mod("ceiling_kept", {"wasm_file": MODS + "levels.wasm", "safety_level": 3})
	if not await run_to_end(kept):
		return
	expect_eq(kept.outputs_starting_with("level: "), PackedStringArray(["level: 3"]), "the level before the clear")
	ProjectSettings.clear(SAFETY_LEVEL)
	await frames(1)
	var cleared := new_mod("ceiling_cleared", {"wasm_file": MODS + "levels.wasm", "safety_level": 3})
	var ran := await run_to_end(cleared)
	# Put the setting back as the extension registered it (the cleanup sets the saved value).
	ProjectSettings.set_setting(SAFETY_LEVEL, 1)
	ProjectSettings.set_initial_value(SAFETY_LEVEL, 1)
	if ran:
		expect_eq(cleared.outputs_starting_with("level: "), PackedStringArray(["level: 1"]),
			"the level once the ceiling was cleared (its default is 1)")
