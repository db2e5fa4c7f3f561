## What the player types is the player's (README, "What the player types"): below level 3 a mod
## never reads or changes a secret LineEdit's text (its `text_changed` reaches the mod with the
## text emptied), sees no keys and no actions while an editable text field has the keyboard
## focus, and cannot move that focus. Before, a level-1 mod read a password field's text,
## logged it through `text_changed`, polled `Input.is_key_pressed` while the player typed, and
## moved the focus from the password field into a field it could read. The mod is
## `mods/tests/create` (Rust, SDK).
extends "res://tests/lib/wasgo_test.gd"

const CREATE := MODS + "create.wasm"
const INVALID_ARGUMENT := -3


func _started(node_name: String, level := 1) -> ModProbe:
	var probe := new_mod(node_name, {"wasm_file": CREATE, "safety_level": level})
	expect_eq(start(probe), OK, "start(): %s" % probe.node.get_last_error())
	return probe


func _field(probe: ModProbe, field_name: String, secret: bool) -> LineEdit:
	var field := LineEdit.new()
	field.name = field_name
	field.secret = secret
	probe.node.add_child(field)
	return field


func _last_fail(probe: ModProbe) -> String:
	for i in range(probe.outputs.size() - 1, -1, -1):
		if probe.outputs[i].begins_with("FAIL"):
			return probe.outputs[i]
	return ""


func _key(keycode: Key, pressed: bool) -> void:
	var event := InputEventKey.new()
	event.keycode = keycode
	event.physical_keycode = keycode
	event.pressed = pressed
	Input.parse_input_event(event)


func test_a_secret_field_text_is_never_the_mods() -> void:
	var probe := _started("SecretReader")
	var field := _field(probe, "Field", true)
	field.text = "hunter2"
	expect_eq(probe.node.call_export("read_field", []), INVALID_ARGUMENT, "reading a secret field")
	expect_contains(_last_fail(probe), "`secret` is on", "the refusal names the rule")
	expect(not probe.has_output("hunter2"), "the secret reached the mod: %s" % probe.outputs)
	field.secret = false
	expect_eq(probe.node.call_export("read_field", []), 0, "reading a plain field: %s" % _last_fail(probe))
	expect(probe.has_output("FIELD hunter2"), "the plain field's text: %s" % probe.outputs)


func test_a_secret_fields_signals_reach_the_mod_without_the_text() -> void:
	var probe := _started("SecretWatcher")
	var field := _field(probe, "Field", false)
	expect_eq(probe.node.call_export("watch_field", []), 0, "connect text_changed: %s" % _last_fail(probe))
	field.secret = true
	field.text_changed.emit("hunter2")
	var got: bool = await wait_until(func() -> bool: return probe.has_output("TYPED ["), 2000)
	expect(got, "the callback ran: %s" % probe.describe())
	expect(probe.has_output("TYPED []"), "the text emptied: %s" % probe.outputs)
	expect(not probe.has_output("hunter2"), "the secret reached the mod: %s" % probe.outputs)
	field.secret = false
	field.text_changed.emit("visible")
	got = await wait_until(func() -> bool: return probe.has_output("TYPED [visible]"), 2000)
	expect(got, "a plain field's text reaches the mod: %s" % probe.outputs)


func test_no_keys_while_the_player_types_and_the_focus_stays() -> void:
	var probe := _started("KeyWatcher")
	var field := _field(probe, "Field", true)
	var chat := _field(probe, "Chat", false)
	var button := Button.new()
	button.name = "Button"
	probe.node.add_child(button)
	_key(KEY_Q, true)
	await frames(1)  # Godot applies parsed input at the next frame (accumulated input)
	expect_eq(probe.node.call_export("key_pressed", [KEY_Q]), 1, "a held key, nobody typing: %s" % _last_fail(probe))
	field.grab_focus()
	expect(field.has_focus(), "the field took the focus (test setup)")
	expect_eq(probe.node.call_export("key_pressed", [KEY_Q]), 0, "a held key while the player types")
	expect_eq(probe.node.call_export("grab", [2]), INVALID_ARGUMENT, "moving the focus to a button")
	expect_contains(_last_fail(probe), "typing", "the refusal names the rule")
	expect(field.has_focus() and not chat.has_focus(), "the focus stayed in the field")
	# A mod may turn `editable` off: a focused field still counts.
	field.editable = false
	expect_eq(probe.node.call_export("key_pressed", [KEY_Q]), 0, "a held key, the focused field made read-only")
	field.editable = true
	# Hiding the field drops its focus; the mod still cannot move it into a field it reads.
	field.hide()
	expect(not field.has_focus(), "a hidden field lost the focus (test setup)")
	expect_eq(probe.node.call_export("grab", [0]), INVALID_ARGUMENT, "moving the focus into the chat field")
	expect_contains(_last_fail(probe), "text field", "the refusal names the rule")
	expect(not chat.has_focus(), "the chat field did not take the focus")
	field.show()
	expect_eq(probe.node.call_export("key_pressed", [KEY_Q]), 1, "a held key once no field has the focus")
	expect_eq(probe.node.call_export("grab", [2]), 0, "moving the focus to a button when nobody types: %s" % _last_fail(probe))
	expect(button.has_focus(), "the button has the focus")
	button.release_focus()
	_key(KEY_Q, false)
	await frames(1)


## Hiding the field the player types in (or a node above it) ends the typing: Godot drops a
## hidden control's focus and showing it again does not give it back, so the keys typed next
## (the rest of a password) reached the mod. Refused while the player types; allowed otherwise.
func test_the_field_the_player_types_in_is_not_hidden() -> void:
	var probe := _started("HideField")
	var panel := Panel.new()
	panel.name = "Panel"
	probe.node.add_child(panel)
	var field := LineEdit.new()
	field.name = "Field"
	field.secret = true
	panel.add_child(field)
	await frames(1)
	for which in [0, 1]:
		for how in [0, 1]:
			field.grab_focus()
			expect(field.has_focus(), "the field took the focus (test setup)")
			var what := "%s of %s" % [["hide()", "visible = false"][how], ["the field", "its parent"][which]]
			expect_eq(probe.node.call_export("hide_node", [which, how]), INVALID_ARGUMENT, what)
			expect_contains(_last_fail(probe), "typing", "the refusal names the rule")
			expect(field.has_focus() and field.is_visible_in_tree(), "the field kept the focus after %s" % what)
	_key(KEY_Q, true)
	await frames(1)
	expect_eq(probe.node.call_export("key_pressed", [KEY_Q]), 0, "a held key while the player types")
	field.release_focus()
	expect_eq(probe.node.call_export("hide_node", [1, 0]), 0, "hiding the panel when nobody types: %s" % _last_fail(probe))
	# A tween hides later, maybe while the player types: refused on a game node even now.
	expect_eq(probe.node.call_export("tween_visible", [0]), INVALID_ARGUMENT, "a tween of the game panel's `visible`")
	expect_contains(_last_fail(probe), "did not make", "the refusal names the rule")
	expect_eq(probe.node.call_export("tween_visible", [1]), 0, "a tween of its own node's `visible`: %s" % _last_fail(probe))
	_key(KEY_Q, false)
	await frames(1)


## A text field takes key presses but not releases: with input events on, the releases reached
## the mod's `input` export while the player typed, spelling out the text.
func test_key_events_do_not_reach_the_mod_while_the_player_types() -> void:
	set_setting("wasgo/safety/input_events", true)
	var probe := _started("KeyEvents")
	var field := _field(probe, "Field", true)
	await frames(1)
	field.grab_focus()
	var release := InputEventKey.new()
	release.keycode = KEY_Q
	release.pressed = false
	tree.root.push_input(release)
	await frames(3)
	expect_eq(probe.node.call_export("inputs", []), 0, "key events delivered while the player types")
	# A key pressed into the field and released once it lost the focus (a fast typist's last
	# letter, still held when Enter hid the login panel): its release is not the mod's either.
	var typed := InputEventKey.new()
	typed.keycode = KEY_W
	typed.physical_keycode = KEY_W
	typed.pressed = true
	tree.root.push_input(typed)
	field.release_focus()
	var typed_release: InputEventKey = typed.duplicate()
	typed_release.pressed = false
	tree.root.push_input(typed_release)
	await frames(3)
	expect_eq(probe.node.call_export("inputs", []), 0, "the release of a key pressed while the player typed")
	# A key pressed and released once nobody types reaches the mod, press and release.
	var press: InputEventKey = release.duplicate()
	press.pressed = true
	tree.root.push_input(press)
	tree.root.push_input(release)
	var got: bool = await wait_until(func() -> bool: return int(probe.node.call_export("inputs", [])) == 2, 2000)
	expect(got, "a key's press and release reach the mod once nobody types: %s" % probe.describe())


## An in-world screen: a text field inside a SubViewport has the focus of its own viewport.
func test_a_field_in_a_sub_viewport_counts() -> void:
	var probe := _started("ViewportKeys")
	var viewport := SubViewport.new()
	probe.node.add_child(viewport)
	var field := LineEdit.new()
	viewport.add_child(field)
	_key(KEY_Q, true)
	await frames(1)
	field.grab_focus()
	expect(field.has_focus(), "the field took its viewport's focus (test setup)")
	expect_eq(probe.node.call_export("key_pressed", [KEY_Q]), 0, "a held key while the player types in a sub-viewport")
	field.release_focus()
	expect_eq(probe.node.call_export("key_pressed", [KEY_Q]), 1, "a held key once the field let go")
	_key(KEY_Q, false)
	await frames(1)


## A key pressed into the field and still held once it lost the focus (a fast typist's last
## letter, still held when Enter hid the login panel) reads as not pressed until it is
## released: a mod polling `Input.is_key_pressed` when the focus went spelled it out.
func test_a_key_held_from_typing_reads_as_not_pressed_until_released() -> void:
	var probe := _started("HeldKeys")
	var field := _field(probe, "Field", true)
	await frames(1)
	field.grab_focus()
	_key(KEY_W, true)
	await frames(1)
	field.release_focus()
	expect_eq(probe.node.call_export("key_pressed", [KEY_W]), 0, "a key pressed while the player typed, still held")
	_key(KEY_W, false)
	await frames(1)
	_key(KEY_Q, true)
	await frames(1)
	expect_eq(probe.node.call_export("key_pressed", [KEY_Q]), 1, "a key pressed once nobody types")
	_key(KEY_Q, false)
	await frames(1)


func test_level_3_mods_see_what_the_game_shows_them() -> void:
	set_setting("wasgo/safety/level", 3)
	var probe := _started("TrustedReader", 3)
	var field := _field(probe, "Field", true)
	field.text = "hunter2"
	field.grab_focus()
	_key(KEY_Q, true)
	await frames(1)  # Godot applies parsed input at the next frame (accumulated input)
	expect_eq(probe.node.call_export("read_field", []), 0, "level 3 reads a secret field: %s" % _last_fail(probe))
	expect_eq(probe.node.call_export("key_pressed", [KEY_Q]), 1, "level 3 sees keys while the player types")
	field.release_focus()
	_key(KEY_Q, false)
	await frames(1)


## A tween is another way to set a member: a secret field's `max_length` (which would cut the
## player's password) is not animated either, nor a game's field that is not secret yet: the
## tween lands later (after a delay of up to a day), when the game may have made it a password
## field, and cut the password being typed.
func test_a_secret_field_is_not_tweened() -> void:
	var probe := _started("SecretTween")
	var field := _field(probe, "Field", true)
	field.max_length = 64
	expect_eq(probe.node.call_export("tween_field_max_length", []), INVALID_ARGUMENT, "tweening a secret field's max_length")
	expect_contains(_last_fail(probe), "`secret` is on", "the refusal names the rule")
	await frames(3)
	expect_eq(field.max_length, 64, "max_length after the refused tween")
	field.secret = false
	expect_eq(probe.node.call_export("tween_field_max_length", []), INVALID_ARGUMENT, "tweening a game's plain field")
	expect_contains(_last_fail(probe), "may make it a password field", "the refusal says why")
	await frames(3)
	expect_eq(field.max_length, 64, "max_length after the refused tween of the plain field")
