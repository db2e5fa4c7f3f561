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


## A Label's fill alignment (3) is out of a mod's range: Godot justifies a line with kashida by
## default, repeating each Arabic elongation glyph up to 255 times (in up to four passes a
## frame), as `draw_string`'s fill alignment did.
func test_a_labels_fill_alignment_is_refused() -> void:
	var probe := _started()
	if probe == null:
		return
	var label: int = probe.node.call_export("label", [])
	if not expect(label > 0, "a Label: %s" % [probe.outputs]):
		return
	for alignment in [0, 1, 2]:
		expect_eq(probe.node.call_export("set_on", [label, "horizontal_alignment", var_to_bytes(alignment)]), 0,
			"horizontal_alignment %d" % alignment)
	expect_eq(probe.node.call_export("set_on", [label, "horizontal_alignment", var_to_bytes(3)]), -3,
		"horizontal_alignment 3 (fill)")
	expect(probe.has_output("`Label.horizontal_alignment` takes a number from 0 to 2"), "the refusal: %s" % [probe.outputs])


## The encoded arguments `[sprite, "animation", value, 1.0]` of `tween_property`, the target as
## the mod's handle (an object id: tag 24 with the id flag, then the handle as 64 bits).
func _tween_args(sprite: int, value: Variant, property := "animation") -> PackedByteArray:
	var out := PackedByteArray()
	out.resize(20)
	out.encode_u32(0, TYPE_ARRAY)
	out.encode_u32(4, 4)
	out.encode_u32(8, TYPE_OBJECT | (1 << 16))
	out.encode_s64(12, sprite)
	out.append_array(var_to_bytes(property))
	out.append_array(var_to_bytes(value))
	out.append_array(var_to_bytes(1.0))
	return out


## An array, a packed array or a dictionary given where Godot takes a text (a method's String,
## StringName or NodePath parameter, a text property, a tween's value for one) is refused (-3):
## an exported game (a release build of Godot) converts an argument to its parameter's type
## unchecked and turned `[[60 MiB of bytes]]`, one element for a text range, into the text of
## all its elements (180 million characters shaped inside one call of `Font.get_string_size`).
func test_a_container_given_where_godot_takes_a_text_is_refused() -> void:
	var probe := _started()
	if probe == null:
		return
	var input: int = probe.node.call_export("input", [])
	var label: int = probe.node.call_export("label", [])
	var sprite: int = probe.node.call_export("sprite", [])
	var tween: int = probe.node.call_export("tween", [])
	if not expect(input > 0 and label > 0 and sprite > 0 and tween > 0, "handles: %s" % [probe.outputs]):
		return
	var containers := [[["ui_accept"]], [PackedByteArray([65, 66])], [{"a": 1}], [PackedStringArray(["ui_accept"])]]
	for args in containers:
		expect_eq(probe.node.call_export("call_on", [input, "is_action_pressed", var_to_bytes(args)]), -3,
			"is_action_pressed(%s), a name parameter" % [args])
		expect_eq(probe.node.call_export("call_on", [label, "is_class", var_to_bytes(args)]), -3,
			"is_class(%s), a String parameter" % [args])
		expect_eq(probe.node.call_export("set_on", [sprite, "animation", var_to_bytes(args[0])]), -3,
			"AnimatedSprite2D.animation set to %s" % [args])
		expect_eq(probe.node.call_export("call_on", [tween, "tween_property", _tween_args(sprite, args[0])]), -3,
			"tween_property of `animation` to %s" % [args])
	expect(probe.has_output("argument 1 of `wasgo.call` `Input.is_action_pressed` takes a text: pass a String, not an array or a dictionary"),
		"message for a method's argument: %s" % [probe.outputs])
	expect(probe.has_output("argument 1 of `wasgo.call` `Label.is_class` takes a text"), "message for a String parameter: %s" % [probe.outputs])
	expect(probe.has_output("`AnimatedSprite2D.animation` takes a text"), "message for a property: %s" % [probe.outputs])
	expect(probe.has_output("the value `tween_property` animates `AnimatedSprite2D.animation` to takes a text"),
		"message for a tween: %s" % [probe.outputs])
	# Texts and other values still pass.
	expect(probe.node.call_export("call_on", [label, "is_class", var_to_bytes(["Label"])]) >= 0, "is_class(\"Label\"): %s" % [probe.outputs])
	expect(probe.node.call_export("call_on", [input, "is_action_pressed", var_to_bytes([&"ui_accept", false])]) >= 0,
		"is_action_pressed(&\"ui_accept\", false): %s" % [probe.outputs])
	expect_eq(probe.node.call_export("set_on", [sprite, "animation", var_to_bytes(&"default")]), 0, "animation set to a name: %s" % [probe.outputs])
	expect_eq(probe.node.call_export("set_on", [label, "horizontal_alignment", var_to_bytes(1)]), 0, "a number property: %s" % [probe.outputs])
	expect_eq(probe.node.get_status(), WasmScript.STATUS_RUNNING, "the mod still runs")


## A tween's transition and ease are Godot's own (Godot took any number and logged an error at
## every step of every tweener, in its tween processing, where no mod's log allowance counts);
## a tween to `null` is refused (an exported game set the member to its type's default: black,
## 0, no resource), and so is one of a member whose setter refuses values between two valid ones.
func test_a_tween_takes_godots_transitions_and_no_null() -> void:
	var probe := _started()
	if probe == null:
		return
	var label: int = probe.node.call_export("label", [])
	var tween: int = probe.node.call_export("tween", [])
	if not expect(label > 0 and tween > 0, "handles: %s" % [probe.outputs]):
		return
	for bad in [["set_trans", 12], ["set_trans", -1], ["set_ease", 4], ["set_trans", 1e9]]:
		expect_eq(probe.node.call_export("call_on", [tween, bad[0], var_to_bytes([bad[1]])]), -3, "%s(%s)" % bad)
	expect(probe.has_output("set_trans"), "the refusal names the method: %s" % [probe.outputs])
	expect(probe.node.call_export("call_on", [tween, "set_trans", var_to_bytes([Tween.TRANS_BACK])]) >= 0, "set_trans(TRANS_BACK): %s" % [probe.outputs])
	expect(probe.node.call_export("call_on", [tween, "set_ease", var_to_bytes([Tween.EASE_OUT_IN])]) >= 0, "set_ease(EASE_OUT_IN): %s" % [probe.outputs])
	expect_eq(probe.node.call_export("call_on", [tween, "tween_property", _tween_args(label, null, "modulate")]), -3, "a tween of modulate to null")
	expect(probe.has_output("cannot animate `Label.modulate` to null"), "message: %s" % [probe.outputs])
	# Members whose setters refuse values a tween steps through (Godot logged an error at every
	# step: a frame past the sheet, a name no animation has, a timer's time of 0) and names.
	var sprite: int = probe.node.call_export("sprite", [])
	var sheet: int = probe.node.call_export("make", ["Sprite2D"])
	var timer: int = probe.node.call_export("make", ["Timer"])
	if expect(sprite > 0 and sheet > 0 and timer > 0, "handles: %s" % [probe.outputs]):
		for refused in [[sprite, "animation", &"walk"], [sheet, "frame", 40], [sheet, "hframes", 0], [timer, "wait_time", 0.0]]:
			expect_eq(probe.node.call_export("call_on", [tween, "tween_property", _tween_args(refused[0], refused[2], refused[1])]), -3,
				"a tween of `%s`" % refused[1])
		expect(probe.has_output("`tween_property` cannot animate `Sprite2D.frame`: Godot refuses some of the values"), "message: %s" % [probe.outputs])
	expect(probe.node.call_export("call_on", [tween, "tween_property", _tween_args(label, Color.RED, "modulate")]) >= 0,
		"a tween of modulate to a colour: %s" % [probe.outputs])
	await frames(3)
	expect_eq(_seen.count_containing("interpolate"), 0, "errors of Godot's tween steps")
	expect_eq(probe.node.get_status(), WasmScript.STATUS_RUNNING, "the mod still runs")
