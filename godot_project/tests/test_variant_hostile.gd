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
