## Values a mod sends that the engine cannot hold (issue 13, finding 8): a Plane without a
## normal, NaN and infinities in math structures, also nested in an Array. Each answers -3, the
## host never panics, the game goes on and the next mod still works.
extends "res://tests/lib/wasgo_test.gd"


func test_hostile_variants_get_invalid_argument_and_the_game_goes_on() -> void:
	var probe := new_mod("variant_hostile_ok", {"module": wat_module("variant_hostile")})
	if await run_to_end(probe):
		expect(probe.traps.is_empty(), "a hostile Variant trapped the mod: %s" % probe.describe())
		# 1 zero Plane, 2 NaN Quaternion, 4 infinite Basis, 8 nested zero Plane: -3 each;
		# 16: a valid String afterwards is still set.
		expect_eq(probe.finished, [31], "expectations met by `main` (bits)")
	await expect_frames_go_on("hostile variants")
	await expect_hello_still_works("hostile variants")


## A game value that holds itself (an Array appended to itself, a Dictionary holding itself) or
## nests deeper than the wire's 64 levels reaches a mod as an error. It was followed until the
## stack overflowed, which ended the game.
func test_a_game_value_that_holds_itself_reaches_a_mod_as_an_error() -> void:
	set_setting("wasgo/safety/level", 3)
	var probe := new_mod("read_loop", {"module": wat_module("read_loop"), "safety_level": 3})
	expect_eq(start(probe), OK, "start() of read_loop")
	var ring := []
	ring.append(ring)
	var knot := {}
	knot["self"] = knot
	var deep := []
	for i in 70:
		deep = [deep]
	var shallow := []
	for i in 60:
		shallow = [shallow]
	for case: Array in [["an Array holding itself", ring], ["a Dictionary holding itself", knot], ["70 nested Arrays", deep]]:
		probe.node.set_meta("loop", case[1])
		expect_eq(probe.node.call_export("read", []), -5, "get of %s" % case[0])
		expect_eq(probe.node.get_status(), WasmScript.STATUS_RUNNING, "status after %s" % case[0])
	probe.node.set_meta("loop", shallow)
	expect(probe.node.call_export("read", []) > 0, "60 nested Arrays still reach the mod")
	probe.node.remove_meta("loop")
	ring.clear()
	knot.clear()
	await expect_frames_go_on("self-holding values")
