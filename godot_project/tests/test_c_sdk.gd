## The C header's helpers (`mods/sdk/c/wasgo.h`) for creating nodes, embedded assets, drawing and
## input, as a C mod uses them: `mods/tests/c_sdk` (built with the examples' clang command).
extends "res://tests/lib/wasgo_test.gd"

const C_SDK := MODS + "c_sdk.wasm"
const INPUT_EVENTS := "wasgo/safety/input_events"


func _started() -> ModProbe:
	await frames(1)
	var probe := new_mod("CMod", {"wasm_file": C_SDK, "safety_level": 1})
	if not expect_eq(start(probe), OK, "start(): %s" % probe.node.get_last_error()):
		return null
	await frames(1)
	return probe


func test_a_c_mod_creates_a_canvas_with_embedded_assets_and_draws_with_every_helper() -> void:
	var probe: ModProbe = await _started()
	if probe == null:
		return
	if not expect_eq(probe.node.call_export("setup", []), 0, "setup(): %s" % [probe.outputs]):
		return
	var canvas := probe.node.get_node_or_null("Canvas")
	expect(canvas is Node2D, "the mod's Node2D `Canvas` under its node: %s" % [probe.node.get_children()])
	var drew: bool = await wait_until(func() -> bool: return int(probe.node.call_export("draws", [])) != 0, 5000)
	expect(drew, "a draw callback ran: %s" % [probe.describe()])
	expect(int(probe.node.call_export("draws", [])) > 0,
		"the six drawing helpers were taken (and the SDK refused a polyline past its bound): %s" % [probe.outputs])
	expect_eq(probe.node.call_export("outside", []), -3, "a drawing helper outside the draw callback")
	expect_eq(probe.node.call_export("reader", []), 0, "the decoder's readers and wasgo_skip: %s" % [probe.outputs])
	expect_eq(probe.node.call_export("tween_chain", []), 0, "calls on a tween after wasgo_call_discard returned it: %s" % [probe.outputs])
	expect_eq(probe.node.call_export("drop", []), 0, "remove_child and queue_free: %s" % [probe.outputs])
	await frames(2)
	expect(not is_instance_valid(canvas), "the canvas was freed")
	expect_eq(probe.node.get_status(), WasmScript.STATUS_RUNNING, "the mod still runs")


func test_a_c_mod_reads_an_input_event_with_the_helpers() -> void:
	set_setting(INPUT_EVENTS, true)
	var probe: ModProbe = await _started()
	if probe == null:
		return
	var event := InputEventKey.new()
	event.keycode = KEY_ENTER
	event.pressed = true
	tree.root.push_input(event)
	var got: bool = await wait_until(func() -> bool: return int(probe.node.call_export("inputs", [])) == 1, 2000)
	expect(got, "the mod's input export ran once: %s" % probe.describe())
	var line := "INPUT key=1 keycode=%d pressed=1 accept=1" % KEY_ENTER
	expect(probe.has_output(line), "the mod read the event (%s): %s" % [line, probe.outputs])
	expect(not probe.has_output("FAIL"), "no helper failed: %s" % [probe.outputs])
