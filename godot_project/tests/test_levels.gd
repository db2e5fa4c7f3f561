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
