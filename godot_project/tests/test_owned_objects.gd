## Engine objects a mod causes to exist are owned by its instance: the `SceneTreeTimer`s its
## `create_timer` calls made, and its connections to them, go when the instance ends (kill, node
## freed), so Godot's object count returns to where it was; at most 1024 of one instance's timers
## wait at once, and `create_timer` past that answers -7 with a message saying so.
extends "res://tests/lib/wasgo_test.gd"

## `owned.rs`: MAX_TIMERS_PER_INSTANCE.
const MAX_TIMERS := 1024
const BUSY := -7
const INVALID_ARGUMENT := -3


func _objects() -> int:
	return int(Performance.get_monitor(Performance.OBJECT_COUNT))


## Lets the started timer mod try to make `tries` timers of an hour.
func _flood(probe: ModProbe, tries: int) -> void:
	expect_eq(probe.node.call_export("flood", [tries]), BUSY, "flood(%d): the refusal past the cap" % tries)
	expect_eq(probe.node.call_export("created", []), MAX_TIMERS, "timers made before the refusal")
	expect(probe.has_output("`create_timer` refused: this mod already has %d timers, waiting to fire or held" % MAX_TIMERS),
		"the mod's last_error names the cap: %s" % [probe.outputs])


## A started timer mod; null (with a failure recorded) if it does not start.
func _timer_mod(node_name: String) -> ModProbe:
	var probe := new_mod(node_name, {"module": wat_module("timer_flood"), "safety_level": 1})
	if not expect_eq(start(probe), OK, "start()"):
		return null
	return probe


## Waits up to `frames_max` frames for the object count to fall to `baseline`; returns the count.
func _settle(baseline: int, frames_max := 10) -> int:
	for i in frames_max:
		if _objects() <= baseline:
			break
		await tree.process_frame
	return _objects()


## A timer of NaN seconds never fires (Godot fires one at `time_left <= 0`) and was not counted
## as waiting (`> 0` is false for NaN): the cap let any number through, and they outlived the
## mod, walked by the tree at every frame. A delay that is no finite number is refused.
func test_a_timer_that_is_no_finite_number_of_seconds_is_refused() -> void:
	var probe := _timer_mod("timer_flood_nan")
	if probe == null:
		return
	probe.node.call_export("use_nan_delay", [])
	expect_eq(probe.node.call_export("flood", [2000]), INVALID_ARGUMENT, "create_timer(NaN)")
	expect_eq(probe.node.call_export("created", []), 0, "timers made")
	expect(probe.has_output("finite"), "the mod's last_error says why: %s" % [probe.outputs])
	expect_eq(probe.node.get_status(), WasmScript.STATUS_RUNNING, "the mod still runs")


## The cap counted only timers still waiting: a timer fired at the next frame, but the mod's
## handle to it (which `flood` never releases) kept it alive, so a mod kept any number of fired
## timers alive, 1024 a frame. Timers held by a handle count until released.
func test_fired_timers_the_mod_still_holds_count_against_the_cap() -> void:
	var probe := _timer_mod("timer_flood_fired")
	if probe == null:
		return
	probe.node.call_export("use_zero_delay", [])
	expect_eq(probe.node.call_export("flood", [MAX_TIMERS]), 0, "create_timer(0) x %d" % MAX_TIMERS)
	expect(await wait_until(func() -> bool: return probe.node.call_export("fired", []) == 1, 5000),
		"the timers fired: %d timeouts" % probe.node.call_export("fired", []))
	await frames(2)
	expect_eq(probe.node.call_export("flood", [MAX_TIMERS + 1]), BUSY, "one more timer while the fired ones are held")
	expect(probe.has_output("held by its handles"), "the mod's last_error says why: %s" % [probe.outputs])
	expect_eq(probe.node.get_status(), WasmScript.STATUS_RUNNING, "the mod still runs")


func test_killing_a_mod_releases_its_timers_and_connections() -> void:
	var probe := _timer_mod("timer_flood")
	if probe == null:
		return
	await frames(2)
	var baseline := _objects()
	_flood(probe, 5000)
	var during := _objects()
	expect(during >= baseline + MAX_TIMERS, "the timers exist while the mod runs: %d objects, baseline %d" % [during, baseline])
	probe.node.kill()
	expect_eq(probe.node.get_status(), WasmScript.STATUS_KILLED, "status after kill()")
	expect_eq(probe.kills.size(), 1, "`killed` emissions")
	var after: int = await _settle(baseline)
	print("objects: baseline %d, with the timers %d, a few frames after kill() %d" % [baseline, during, after])
	expect(after <= baseline, "objects a few frames after kill(): %d, baseline %d" % [after, baseline])


func test_freeing_the_node_releases_its_timers() -> void:
	var probe := _timer_mod("timer_flood_freed")
	if probe == null:
		return
	await frames(2)
	var baseline := _objects()
	_flood(probe, 2000)
	probe.node.free()
	# The node itself is gone too.
	var after: int = await _settle(baseline - 1)
	expect(after <= baseline - 1, "objects a few frames after the node was freed: %d, baseline %d" % [after, baseline])


## A resource the game made is shared by every node using it, inside the mod's reach or not: a
## mod may not change it (a label's shared settings changed the labels outside reach too).
func test_a_mod_cannot_change_a_resource_the_game_made() -> void:
	var settings := LabelSettings.new()
	settings.font_size = 20
	var probe := new_mod("shared_resource", {"module": wat_module("shared_resource"), "safety_level": 1})
	var inside := Label.new()
	inside.name = "Target"
	inside.label_settings = settings
	probe.node.add_child(inside)
	var outside := Label.new()
	outside.label_settings = settings
	tree.root.add_child(outside)
	if expect_eq(start(probe), OK, "start()"):
		expect_eq(probe.node.call_export("font_size", [40]), -3, "set on the game's shared LabelSettings")
		expect_eq(settings.font_size, 20, "the shared settings after the refusal")
	outside.free()
