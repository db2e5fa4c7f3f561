## Names and texts a mod passes Godot carry no escape sequence, and names no line of their own,
## into Godot's log: Godot copies them there as they are when a call fails (`The InputMap action
## "..." doesn't exist.`), where `ESC [2J` clears the player's terminal and a line break starts
## a line that reads like the engine's or WasGo's. Below level 3 such a name or text is refused
## with -3 before Godot sees it; ordinary names and texts with line breaks pass.
extends "res://tests/lib/wasgo_test.gd"

const LogCounter := preload("res://tests/lib/log_counter.gd")

const ESC := "\u001b[2J\u001b[31m"

## Everything Godot's loggers receive while the test runs (errors and printed lines).
var _seen: LogCounter


func cleanup() -> void:
	if _seen != null:
		OS.remove_logger(_seen)
		_seen = null
	super()


func _started() -> ModProbe:
	var probe := new_mod("NamesToGodot", {"module": wat_module("names_to_godot"), "safety_level": 1})
	if not expect_eq(start(probe), OK, "start(): %s" % probe.node.get_last_error()):
		return null
	_seen = LogCounter.new("", LogCounter.ANY_TYPE, true)
	OS.add_logger(_seen)
	return probe


func test_an_escape_sequence_or_line_break_in_a_name_is_refused_before_godot_logs_it() -> void:
	var probe := _started()
	if probe == null:
		return
	var input: int = probe.node.call_export("input", [])
	if not expect(input > 0, "the Input singleton's handle: %d %s" % [input, probe.outputs]):
		return
	# An ordinary name still reaches Godot, as a StringName or as a String, and so does one with
	# the zero-width non-joiner of Persian words.
	expect(probe.node.call_export("call_on", [input, "is_action_pressed", var_to_bytes([&"ui_accept"])]) >= 0,
		"is_action_pressed(&\"ui_accept\"): %s" % [probe.outputs])
	expect(probe.node.call_export("call_on", [input, "is_action_pressed", var_to_bytes(["ui_accept"])]) >= 0,
		"is_action_pressed(\"ui_accept\"): %s" % [probe.outputs])
	expect(probe.node.call_export("call_on", [probe.node.call_export("label", []), "has_method", var_to_bytes(["\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645"])]) >= 0,
		"has_method with a zero-width non-joiner: %s" % [probe.outputs])
	var refused := {
		"a StringName with an escape sequence": [StringName("x" + ESC + "WasGo: granted")],
		"a String with an escape sequence": ["x" + ESC + "WasGo: granted"],
		"a String with a line break, given to a name parameter": ["x\nWARNING: forged line"],
		"a StringName with a bidi override": [StringName("evil\u202etxt")],
	}
	for what: String in refused:
		expect_eq(probe.node.call_export("call_on", [input, "is_action_pressed", var_to_bytes(refused[what])]), -3, what)
	expect(probe.has_output("argument 1 of `wasgo.call` `is_action_pressed` refused: it holds the character U+001B; names and paths a mod passes Godot take visible characters only"),
		"message for a StringName: %s" % [probe.outputs])
	expect(probe.has_output("argument 1 of `wasgo.call` `Input.is_action_pressed` (a name) refused: it holds the character U+000A"),
		"message for a String given to a name parameter: %s" % [probe.outputs])
	expect(probe.has_output("U+202E"), "message for a bidi override: %s" % [probe.outputs])
	# A path, an event name and a property's text value are held to the same rules.
	expect_eq(probe.node.call_export("get_node", ["../x" + ESC]), -3, "a node path with an escape sequence")
	expect(probe.has_output("`wasgo.get_node`'s path refused: it holds the character U+001B"), "message: %s" % [probe.outputs])
	expect_eq(probe.node.call_export("emit", ["event\nWasGo: granted"]), -3, "an event name with a line break")
	expect(probe.has_output("`wasgo.emit`'s event name refused: it holds the character U+000A"), "message: %s" % [probe.outputs])
	expect_eq(probe.node.call_export("set_self", ["name", var_to_bytes("a" + ESC)]), -3,
		"a text value with an escape sequence")
	expect(probe.has_output("`wasgo.set`'s value refused: it holds the character U+001B; texts a mod passes Godot take no control character but tab and line breaks"),
		"message: %s" % [probe.outputs])
	# A String set to a property that takes a name (`Node.name` is a StringName) is a name.
	expect_eq(probe.node.call_export("set_self", ["name", var_to_bytes("a\nWARNING: forged line")]), -3,
		"a name property set to a text with a line break")
	expect(probe.has_output("the value set to `WasmScript.name` (a name) refused: it holds the character U+000A"),
		"message: %s" % [probe.outputs])
	expect_eq(probe.node.call_export("set_self", ["na\u200bme", var_to_bytes("x")]), -3, "a property name with a zero-width space")
	expect(probe.has_output("the property name refused: it holds the character U+200B"), "message: %s" % [probe.outputs])
	# A text keeps its line breaks and tabs.
	var label: int = probe.node.call_export("label", [])
	if expect(label > 0, "a Label: %s" % [probe.outputs]):
		expect_eq(probe.node.call_export("set_on", [label, "text", var_to_bytes("two\nlines\tand a tab")]), 0,
			"a Label's text with a line break and a tab: %s" % [probe.outputs])
	# A text animated into a name is set to it at the tween's end: held to the rule for names.
	var sprite: int = probe.node.call_export("sprite", [])
	var tween: int = probe.node.call_export("tween", [])
	if expect(sprite > 0 and tween > 0, "an AnimatedSprite2D and a Tween: %d %d %s" % [sprite, tween, probe.outputs]):
		expect_eq(probe.node.call_export("call_on", [tween, "tween_property", _tween_args(sprite, "a\nWARNING: forged line")]), -3,
			"tween_property of a text with a line break into `animation`")
		expect(probe.has_output("the value `tween_property` animates `AnimatedSprite2D.animation` to (a name) refused: it holds the character U+000A"),
			"message: %s" % [probe.outputs])
	expect(_seen.count_containing("\u001b") == 0, "no escape sequence reached Godot's log")
	expect(_seen.count_containing("forged line") == 0, "no forged line reached Godot's log")
	expect(_seen.count_containing("\u202e") == 0, "no bidi override reached Godot's log")
	await expect_frames_go_on("names to Godot")


## The encoded arguments `[sprite, "animation", value, 1.0]` of `tween_property`, the target as
## the mod's handle (an object id: tag 24 with the id flag, then the handle as 64 bits).
func _tween_args(sprite: int, value: String) -> PackedByteArray:
	var out := PackedByteArray()
	out.resize(20)
	out.encode_u32(0, TYPE_ARRAY)
	out.encode_u32(4, 4)
	out.encode_u32(8, TYPE_OBJECT | (1 << 16))
	out.encode_s64(12, sprite)
	out.append_array(var_to_bytes("animation"))
	out.append_array(var_to_bytes(value))
	out.append_array(var_to_bytes(1.0))
	return out
