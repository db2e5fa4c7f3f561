## WasGo's own permission dialog, which needs a display: `cargo xtask test` runs this folder in a
## windowed Godot under `xvfb-run` when it is installed (`run_tests.gd -- --dir=res://tests/display/`).
## Nothing is connected to `permission_requested`, so WasGo asks the player itself.
extends "res://tests/lib/level2_test.gd"


## The one WasGo dialog `probe`'s request for `files` opened (its grants forgotten first), or
## null when there is not exactly one (the failure says so).
func _ask_files(probe: ModProbe) -> ConfirmationDialog:
	forget_grants(probe)
	expect_eq(op_code(probe, 5, ["files"]), 0, "request_permission(files)")
	await frames(2)
	var dialogs := _dialogs(probe)
	if not expect_eq(dialogs.size(), 1, "WasGo dialogs under the root"):
		return null
	return dialogs[0]


## WasGo's dialogs: internal children of the root window, never under a mod's node.
func _dialogs(probe: ModProbe) -> Array:
	expect(probe.node.get_children(true).all(func(c: Node) -> bool: return not c is ConfirmationDialog),
		"a dialog sits under the mod's node")
	return tree.root.get_children(true).filter(func(c: Node) -> bool: return c is ConfirmationDialog and c.name.begins_with("WasgoPermissionDialog"))


func test_the_dialog_names_the_mod_and_the_power_and_allow_grants() -> void:
	expect(DisplayServer.get_name() != "headless", "this test needs a display (run it under xvfb-run)")
	var probe := level2_mod("l2_dialog_yes", 2, false)
	var dialog := await _ask_files(probe)
	if dialog == null:
		return
	expect(dialog.visible, "the dialog is shown")
	expect_contains(dialog.dialog_text, "l2_dialog_yes", "the dialog names the mod")
	expect_contains(dialog.dialog_text, "read and write files", "the dialog names the power")
	expect_eq(op_code(probe, 10, ["files"]), 0, "asking a thousand times while the dialog is open")
	await frames(2)
	expect_eq(_dialogs(probe).size(), 1, "still one dialog")
	dialog.get_ok_button().pressed.emit()
	await frames(2)
	expect_eq(op_code(probe, 1, ["allowed.txt", "x"]), 0, "file_write after Allow")
	expect_eq(saved_grants("l2_dialog_yes"), PackedStringArray(["files"]), "Allow saves the grant")
	expect_eq(_dialogs(probe).size(), 0, "the dialog is gone")
	forget_grants(probe)
	remove_tree(sandbox("l2_dialog_yes"))


## A mod chooses when it asks and can watch the player's input: Deny has the focus and Allow
## takes no press for a second, so a key or click meant for the game cannot answer Allow.
func test_allow_takes_no_press_at_first_and_deny_has_the_focus() -> void:
	var probe := level2_mod("l2_dialog_wait", 2, false)
	forget_grants(probe)
	var asked := Time.get_ticks_msec()
	expect_eq(op_code(probe, 5, ["files"]), 0, "request_permission(files)")
	await frames(2)
	var dialogs := _dialogs(probe)
	if not expect_eq(dialogs.size(), 1, "WasGo dialogs under the root"):
		return
	var dialog: ConfirmationDialog = dialogs[0]
	# Only checked while the second has surely not passed (a slow machine skips the check).
	if Time.get_ticks_msec() - asked < 800:
		expect(dialog.get_ok_button().disabled, "Allow takes no press at first")
	expect(dialog.get_cancel_button().has_focus(), "Deny has the focus")
	expect(await wait_until(func() -> bool: return not dialog.get_ok_button().disabled, 5000),
		"Allow takes presses after a moment")
	dialog.get_cancel_button().pressed.emit()
	await frames(2)
	expect_eq(saved_grants("l2_dialog_wait"), PackedStringArray(), "nothing saved")


## Keys meant for the game reach the dialog while it shows (it has the focus): focus navigation
## (`ui_right`, `ui_focus_next`) moved the focus to Allow, disabled or not, and the next
## `ui_accept` (a jump) granted once the second had passed. Allow never takes the focus, and
## every press the dialog gets while Allow waits starts the wait again.
func test_keys_meant_for_the_game_never_answer_allow() -> void:
	var probe := level2_mod("l2_dialog_keys", 2, false)
	var dialog := await _ask_files(probe)
	if dialog == null:
		return
	var allow := dialog.get_ok_button()
	expect_eq(allow.focus_mode, Control.FOCUS_NONE, "Allow never takes the focus")
	for action in ["ui_right", "ui_focus_next", "ui_left", "ui_focus_prev", "ui_right"]:
		_press(action)
		await frames(1)
		expect(not allow.has_focus(), "Allow has the focus after %s" % action)
	# A key pressed every 0.3 s keeps Allow waiting (checked right after a press, while less than
	# the second has passed since the one before; a slow machine skips the check).
	for i in 6:
		var before := Time.get_ticks_msec()
		await get_tree_timer(0.3)
		_press("ui_down")
		await frames(1)
		if Time.get_ticks_msec() - before < 800:
			expect(allow.disabled, "Allow takes no press while keys keep coming (press %d)" % i)
	expect(await wait_until(func() -> bool: return not allow.disabled, 5000),
		"Allow takes presses a second after the last key")
	for action in ["ui_right", "ui_focus_next", "ui_accept"]:
		_press(action)
		await frames(2)
	expect_eq(saved_grants("l2_dialog_keys"), PackedStringArray(), "keys meant for the game granted nothing")
	expect_eq(op_code(probe, 1, ["keys.txt", "x"]), -6, "file_write without the grant")
	if is_instance_valid(dialog):
		dialog.get_cancel_button().pressed.emit()
	await frames(2)
	forget_grants(probe)


## One of WasGo's dialogs at a time: each opened over the last, centred and as wide, so a mod
## that saw another mod's dialog appear asked at once and its dialog covered the other one pixel
## for pixel (the player reading the trusted mod's request granted the other). The second waits
## until the first is answered; the shown one is above every other window.
func test_dialogs_of_two_mods_are_shown_one_at_a_time() -> void:
	var first := level2_mod("l2_dialog_one", 2, false)
	var second := level2_mod("l2_dialog_two", 2, false)
	forget_grants(first)
	forget_grants(second)
	expect_eq(op_code(first, 5, ["files"]), 0, "the first mod asks")
	expect_eq(op_code(second, 5, ["files"]), 0, "the second mod asks")
	await frames(2)
	var shown := _all_dialogs().filter(func(d: Window) -> bool: return d.visible)
	if not expect_eq(shown.size(), 1, "dialogs shown at once"):
		return
	var dialog: ConfirmationDialog = shown[0]
	expect_contains(dialog.dialog_text, "l2_dialog_one", "the first asked is shown first")
	expect(dialog.get_flag(Window.FLAG_ALWAYS_ON_TOP), "the dialog is above other windows")
	dialog.get_cancel_button().pressed.emit()
	await frames(3)
	shown = _all_dialogs().filter(func(d: Window) -> bool: return d.visible)
	if expect_eq(shown.size(), 1, "the second dialog once the first is answered"):
		expect_contains(shown[0].dialog_text, "l2_dialog_two", "the second mod's dialog")
		# Its Allow waits its own second from when it is shown.
		expect(shown[0].get_ok_button().disabled, "Allow of the second waits")
		shown[0].get_cancel_button().pressed.emit()
	await frames(2)
	expect_eq(_all_dialogs().size(), 0, "no dialog left")
	expect_eq(saved_grants("l2_dialog_one"), PackedStringArray(), "nothing granted")
	expect_eq(saved_grants("l2_dialog_two"), PackedStringArray(), "nothing granted")


## Two dialogs closed in one frame (the shown one's and the next one's nodes freed, a scene
## change) left the queue thinking none was shown: the next requests opened over the one shown.
func test_dialogs_closed_together_still_show_one_at_a_time() -> void:
	var probes: Array[ModProbe] = []
	for id in ["l2_dq_a", "l2_dq_b", "l2_dq_d"]:
		var probe := level2_mod(id, 2, false)
		forget_grants(probe)
		expect_eq(op_code(probe, 5, ["files"]), 0, "%s asks" % id)
		probes.append(probe)
	await frames(2)
	probes[0].node.free()
	probes[1].node.free()
	await frames(3)
	var shown := _all_dialogs().filter(func(d: Window) -> bool: return d.visible)
	if expect_eq(shown.size(), 1, "dialogs shown after the two were closed"):
		expect_contains(shown[0].dialog_text, "l2_dq_d", "the third mod's dialog")
	var late := level2_mod("l2_dq_e", 2, false)
	forget_grants(late)
	expect_eq(op_code(late, 5, ["files"]), 0, "a fourth mod asks")
	await frames(3)
	expect_eq(_all_dialogs().filter(func(d: Window) -> bool: return d.visible).size(), 1, "dialogs shown after the fourth asked")
	for probe in [probes[2], late]:
		for d in _all_dialogs():
			if d.visible:
				d.get_cancel_button().pressed.emit()
		await frames(3)
	expect_eq(_all_dialogs().size(), 0, "no dialog left")


## Every WasGo dialog under the root.
func _all_dialogs() -> Array:
	return tree.root.get_children(true).filter(func(c: Node) -> bool: return c is ConfirmationDialog and c.name.begins_with("WasgoPermissionDialog"))


## Presses and releases `action` as the player would.
func _press(action: String) -> void:
	for pressed in [true, false]:
		var e := InputEventAction.new()
		e.action = action
		e.pressed = pressed
		Input.parse_input_event(e)


## The wait before Allow takes a press is real time, whatever `Engine.time_scale` is: fast
## forward shortened it (a key meant for the game could answer Allow), and a game paused by a
## time scale of 0 never let Allow take a press.
func test_allow_waits_real_time_whatever_the_time_scale() -> void:
	for scale in [8.0, 0.0]:
		var probe := level2_mod("l2_dialog_scale_%d" % int(scale), 2, false)
		forget_grants(probe)
		Engine.time_scale = scale
		var asked := Time.get_ticks_msec()
		expect_eq(op_code(probe, 5, ["files"]), 0, "request_permission(files)")
		await frames(2)
		var dialogs := _dialogs(probe)
		if expect_eq(dialogs.size(), 1, "WasGo dialogs under the root"):
			var dialog: ConfirmationDialog = dialogs[0]
			# A quarter second of real time is two seconds of game time at 8x.
			await get_tree_timer(0.25)
			if Time.get_ticks_msec() - asked < 800:
				expect(dialog.get_ok_button().disabled, "Allow takes no press a quarter second in, at time scale %s" % scale)
			expect(await wait_until(func() -> bool: return not dialog.get_ok_button().disabled, 5000),
				"Allow takes presses after a moment, at time scale %s" % scale)
			dialog.get_cancel_button().pressed.emit()
		Engine.time_scale = 1.0
		await frames(2)
		forget_grants(probe)


## Waits `seconds` of real time.
func get_tree_timer(seconds: float) -> void:
	await tree.create_timer(seconds, true, false, true).timeout


func test_deny_keeps_the_permission_and_stops_asking() -> void:
	var probe := level2_mod("l2_dialog_no", 2, false)
	forget_grants(probe)
	op_code(probe, 5, ["network"])
	await frames(2)
	var dialogs := _dialogs(probe)
	if not expect_eq(dialogs.size(), 1, "WasGo dialogs under the root"):
		return
	expect_contains((dialogs[0] as ConfirmationDialog).dialog_text, "HTTP requests", "the dialog names the power")
	(dialogs[0] as ConfirmationDialog).get_cancel_button().pressed.emit()
	await frames(2)
	expect_eq(op_code(probe, 5, ["network"]), 0, "asking again after Deny")
	await frames(2)
	expect_eq(_dialogs(probe).size(), 0, "no new dialog after Deny")
	expect_eq(op_code(probe, 6, ["http://127.0.0.1:9/x", "GET", ""]), -6, "http_request after Deny")
	expect_eq(saved_grants("l2_dialog_no"), PackedStringArray(), "nothing saved")


## The same mod run on several nodes, each asking: the player answers once. Deny answers the
## mod's other waiting requests for that kind (and Allow grants them), instead of one identical
## dialog after another until the player gives in.
func test_one_answer_serves_every_request_of_the_same_mod_and_kind() -> void:
	var first := level2_mod("l2_many", 2, false)
	var second := level2_mod("l2_many", 2, false)
	var third := level2_mod("l2_many", 2, false)
	forget_grants(first)
	for probe in [first, second, third]:
		expect_eq(op_code(probe, 5, ["files"]), 0, "a node of the mod asks")
	await frames(2)
	var shown := _all_dialogs().filter(func(d: Window) -> bool: return d.visible)
	if not expect_eq(shown.size(), 1, "dialogs shown"):
		return
	shown[0].get_cancel_button().pressed.emit()
	await frames(3)
	expect_eq(_all_dialogs().size(), 0, "no dialog left after one Deny")
	for probe in [first, second, third]:
		expect_eq(op_code(probe, 5, ["files"]), 0, "asking again after Deny")
	await frames(2)
	expect_eq(_all_dialogs().size(), 0, "no new dialog after Deny")
	expect_eq(saved_grants("l2_many"), PackedStringArray(), "nothing saved")
	# A node of the mod made after the Deny, asking on its own: the player's answer stands for
	# this run (a mod on many nodes asking one at a time showed a dialog after each Deny).
	var fourth := level2_mod("l2_many", 2, false)
	expect_eq(op_code(fourth, 5, ["files"]), 0, "a new node of the mod asks after the Deny")
	await frames(2)
	expect_eq(_all_dialogs().size(), 0, "no dialog for the new node")
	expect_eq(op_code(fourth, 1, ["x.txt", "x"]), -6, "file_write of the new node: still denied")
	# The game grants, then revokes: the denial no longer answers, and the player is asked.
	fourth.node.grant_permission("files")
	fourth.node.revoke_permission("files")
	expect_eq(op_code(fourth, 5, ["files"]), 0, "asking after the game revoked")
	await frames(2)
	var asked := _all_dialogs()
	if expect_eq(asked.size(), 1, "a dialog once the game granted and revoked"):
		asked[0].get_cancel_button().pressed.emit()
	await frames(2)
	forget_grants(fourth)


func test_a_node_freed_before_its_dialog_is_shown_takes_the_dialog_with_it() -> void:
	var probe := level2_mod("l2_dialog_freed", 2, false)
	forget_grants(probe)
	expect_eq(op_code(probe, 5, ["files"]), 0, "request_permission(files)")
	# Freed before the deferred calls that show the dialog run: the dialog was freed with the
	# node, and the queued `add_child` handed Godot the freed object.
	probe.node.free()
	await frames(3)
	var left := tree.root.get_children(true).filter(func(c: Node) -> bool: return c.name.begins_with("WasgoPermissionDialog"))
	expect_eq(left.size(), 0, "WasGo dialogs left under the root")


var _attack_paths: PackedStringArray = []


func test_a_mod_cannot_reach_or_rewrite_the_dialog_and_deny_never_grants() -> void:
	expect_eq(register_game_function("attack", "path",
		func(i: int) -> String: return _attack_paths[i] if i >= 0 and i < _attack_paths.size() else "",
		["i32"], ["string"], 1), OK, "registering attack.path")
	set_setting(SAFETY_LEVEL, 3)
	var probe := new_mod("dialog_attacker", {"module": wat_module("dialog_attack"), "safety_level": 2})
	forget_grants(probe)
	if not expect_eq(start(probe), OK, "start()"):
		return
	expect_eq(probe.node.call_export("ask_files", []), 0, "request_permission(files)")
	await frames(3)
	var dialogs := _dialogs(probe)
	if not expect_eq(dialogs.size(), 1, "WasGo dialogs under the root"):
		return
	var dialog: ConfirmationDialog = dialogs[0]
	var ok := dialog.get_ok_button()
	var cancel := dialog.get_cancel_button()
	_attack_paths = PackedStringArray([str(dialog.get_path()), str(ok.get_path()),
		str(cancel.get_path()), str(probe.node.get_path())])
	for i in 3:
		expect_eq(probe.node.call_export("try_path", [i, 1]), -1, "get_node(%s) by the mod" % _attack_paths[i])
	expect(probe.node.call_export("try_path", [3, 0]) > 0, "the mod still reaches its own node")
	expect_eq(ok.text, "Allow", "the Allow button's text")
	expect_eq(cancel.text, "Deny", "the Deny button's text")
	cancel.pressed.emit()
	await frames(2)
	expect_eq(saved_grants("dialog_attacker"), PackedStringArray(), "grants saved after Deny")
	expect_eq(_dialogs(probe).size(), 0, "the dialog is gone")
	forget_grants(probe)


## The answer is for the instance that asked and the mod the dialog names: a node restarted with
## another mod before the player answers does not get the permission (before, "Allow" granted
## and saved it for whatever mod the node ran by then).
func test_an_answer_after_the_node_changed_mod_goes_to_the_mod_that_asked() -> void:
	var probe := level2_mod("l2_dialog_asker", 2, false)
	var dialog := await _ask_files(probe)
	if dialog == null:
		return
	probe.node.kill()
	probe.node.module = WasmEngine.compile_module(FileAccess.get_file_as_bytes(LEVEL2_WASM), "l2_dialog_other")
	expect_eq(probe.node.start(), OK, "start() with the other mod")
	forget_grants(probe)
	dialog.get_ok_button().pressed.emit()
	await frames(2)
	expect_eq(op_code(probe, 1, ["other.txt", "x"]), -6, "file_write of the other mod after the Allow")
	expect_eq(saved_grants("l2_dialog_other"), PackedStringArray(), "grants saved for the other mod")
	expect_eq(saved_grants("l2_dialog_asker"), PackedStringArray(["files"]), "the grant saved for the mod that asked")
	forget_grants(probe)
	# The asker's saved grant goes through a node running it.
	var asker := level2_mod("l2_dialog_asker", 2, false)
	forget_grants(asker)
	remove_tree(sandbox("l2_dialog_asker"))
	remove_tree(sandbox("l2_dialog_other"))


## A mod may ask while the game is paused (a pause menu): the dialog still takes the player's
## answer (it inherited the pause, and neither button could be pressed).
func test_the_dialog_answers_while_the_game_is_paused() -> void:
	var probe := level2_mod("l2_dialog_paused", 2, false)
	forget_grants(probe)
	tree.paused = true
	expect_eq(op_code(probe, 5, ["files"]), 0, "request_permission(files)")
	await frames(2)
	var dialogs := _dialogs(probe)
	if expect_eq(dialogs.size(), 1, "WasGo dialogs under the root"):
		var dialog: ConfirmationDialog = dialogs[0]
		expect(dialog.can_process(), "the dialog processes (takes input) while the game is paused")
		expect(dialog.get_ok_button().can_process(), "and so does Allow")
		dialog.get_cancel_button().pressed.emit()
	tree.paused = false
	await frames(2)
	forget_grants(probe)


## A long mod id (ids may have 100 characters) wraps: the dialog and its Allow button stay inside
## the window (Allow was pushed off the screen and the request cut off).
func test_a_long_mod_id_wraps_inside_the_window() -> void:
	var id := "Allow_is_safe_this_is_the_game_itself_" + "x".repeat(62)
	var probe := level2_mod(id, 2, false)
	forget_grants(probe)
	expect_eq(op_code(probe, 5, ["files"]), 0, "request_permission(files)")
	await frames(3)
	var dialogs := _dialogs(probe)
	if expect_eq(dialogs.size(), 1, "WasGo dialogs under the root"):
		var dialog: ConfirmationDialog = dialogs[0]
		var window := tree.root.get_visible_rect()
		var rect := Rect2(dialog.position, dialog.size)
		expect(window.encloses(rect), "the dialog %s inside the window %s" % [rect, window])
		var allow := dialog.get_ok_button()
		var allow_right := dialog.position.x + allow.get_global_rect().end.x
		expect(allow_right <= window.end.x, "Allow ends at %d, inside the window (%d)" % [allow_right, window.end.x])
		dialog.get_cancel_button().pressed.emit()
	await frames(2)
	forget_grants(probe)
