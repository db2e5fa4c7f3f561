## Input for mods: with `wasgo/safety/input_events` on, a mod's `input(event_handle)` export
## receives the events the game did not handle, as a handle to its own copy (allowlisted
## properties and `is_action_pressed` readable; what it changes never reaches the game's event);
## off (the default), nothing is delivered. The mod is `mods/tests/create` (Rust, SDK).
extends "res://tests/lib/wasgo_test.gd"

const CREATE := MODS + "create.wasm"
const INPUT_EVENTS := "wasgo/safety/input_events"


func _started() -> ModProbe:
	await frames(1)
	var probe := new_mod("InputMod", {"wasm_file": CREATE, "safety_level": 1})
	if not expect_eq(start(probe), OK, "start(): %s" % probe.node.get_last_error()):
		return null
	await frames(1)
	return probe


func _enter_key() -> InputEventKey:
	var event := InputEventKey.new()
	event.keycode = KEY_ENTER
	event.pressed = true
	return event


func test_input_events_reach_the_mod_when_the_game_lets_them() -> void:
	set_setting(INPUT_EVENTS, true)
	var probe: ModProbe = await _started()
	if probe == null:
		return
	var event := _enter_key()
	tree.root.push_input(event)
	var got: bool = await wait_until(func() -> bool: return int(probe.node.call_export("inputs", [])) == 1, 2000)
	expect(got, "the mod's input export ran once: %s" % probe.describe())
	var line := "INPUT InputEventKey keycode=%d pressed=true accept=true" % KEY_ENTER
	expect(probe.has_output(line), "the mod read the event (%s): %s" % [line, probe.outputs])
	expect_eq(event.keycode, KEY_ENTER, "the game's event is untouched by the mod's change to its copy")


func test_input_events_are_not_delivered_by_default() -> void:
	var probe: ModProbe = await _started()
	if probe == null:
		return
	tree.root.push_input(_enter_key())
	await frames(3)
	expect_eq(probe.node.call_export("inputs", []), 0, "input events delivered with the setting off")


## Godot turns unhandled-input processing on at `ready` for every node whose class overrides
## `_unhandled_input`, and each event then entered every `WasmScript`: with 1000 mod nodes about
## a millisecond per event. Only a node whose mod can take input keeps it.
func test_only_a_mod_that_can_take_input_processes_unhandled_input() -> void:
	var off: ModProbe = await _started()
	if off == null:
		return
	expect(not off.node.is_processing_unhandled_input(),
		"a mod with an input export does not process input with the setting off")
	set_setting(INPUT_EVENTS, true)
	var plain := new_mod("NoInputMod", {"wasm_file": MODS + "hello.wasm", "safety_level": 1})
	if not expect_eq(start(plain), OK, "start(): %s" % plain.node.get_last_error()):
		return
	await frames(2)
	expect(not plain.node.is_processing_unhandled_input(),
		"a mod without an input export does not process input with the setting on")
	var taker: ModProbe = await _started()
	if taker == null:
		return
	expect(taker.node.is_processing_unhandled_input(),
		"a mod with an input export processes input with the setting on")


func test_input_events_turned_on_reach_a_running_mod_from_the_end_of_the_frame() -> void:
	var probe: ModProbe = await _started()
	if probe == null:
		return
	set_setting(INPUT_EVENTS, true)
	await frames(2)
	expect(probe.node.is_processing_unhandled_input(),
		"the running mod processes input once the setting's change is reported")
	tree.root.push_input(_enter_key())
	var got: bool = await wait_until(func() -> bool: return int(probe.node.call_export("inputs", [])) == 1, 2000)
	expect(got, "the running mod's input export ran once: %s" % probe.describe())


func test_a_game_that_stops_a_mods_input_keeps_it_stopped() -> void:
	set_setting(INPUT_EVENTS, true)
	var probe: ModProbe = await _started()
	if probe == null:
		return
	probe.node.set_process_unhandled_input(false)
	# A change Godot reports at the end of the frame (the value ends as it was).
	set_setting(INPUT_EVENTS, false)
	set_setting(INPUT_EVENTS, true)
	await frames(2)
	expect(not probe.node.is_processing_unhandled_input(), "the game's choice stands after a settings change")
	tree.root.push_input(_enter_key())
	await frames(3)
	expect_eq(probe.node.call_export("inputs", []), 0, "no input reached the mod the game stopped")


var _inputs := 0


func _slow_input() -> void:
	_inputs += 1
	OS.delay_msec(20)


## `input` runs under the frame budget: ten events in one frame, each taking a mod 20 ms, are
## not all delivered in that frame (a frame of ten events took 200 ms), and the time counts in
## the mod's frame time (a mod over the overrun limit frame after frame is trapped).
func test_input_runs_under_the_frame_budget() -> void:
	set_setting(INPUT_EVENTS, true)
	set_setting("wasgo/limits/frame_budget_ms", 8)
	expect_eq(register_game_function("game", "work", Callable(self, "_slow_input"),
		PackedStringArray(), PackedStringArray(), 1), OK, "register_function(\"game\", \"work\")")
	await frames(1)
	var probe := new_mod("SlowInput", {"module": wat_module("input_work"), "safety_level": 1})
	if not expect_eq(start(probe), OK, "start(): %s" % probe.node.get_last_error()):
		return
	await frames(1)
	_inputs = 0
	for i in 10:
		tree.root.push_input(_enter_key())
	await frames(1)
	expect(_inputs >= 1 and _inputs <= 2, "events delivered in the frame they came: %d of 10" % _inputs)
	# One event a frame, each over twice the budget: trapped after the overrun frames.
	var killed := false
	for i in 400:
		tree.root.push_input(_enter_key())
		await frames(1)
		if probe.node.get_status() != WasmScript.STATUS_RUNNING:
			killed = true
			break
	expect(killed, "a mod taking over twice the frame budget in `input` every frame is trapped: %s" % probe.describe())
