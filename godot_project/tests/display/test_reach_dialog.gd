## Reach and WasGo's permission dialog (needs a display, like `test_permission_dialog.gd`): even a
## level-1 mod whose `reach` is the whole tree (`/root`) gets no handle to the dialog or anything
## in it, by path, by search, or among the root's children. The attacker is
## `res://tests/wat/reach.wat` (see `tests/test_reach.gd`).
extends "res://tests/lib/level2_test.gd"

var _texts: PackedStringArray = []


func _t(text: String) -> int:
	_texts.append(text)
	return _texts.size() - 1


func _invoke(probe: ModProbe, handle: int, method: String, text := "", extra := 0) -> int:
	return probe.node.call_export("call_m", [handle, _t(method), _t(text) if text != "" else -1, extra])


func test_a_mod_reaching_the_whole_tree_still_cannot_reach_the_dialog() -> void:
	expect(DisplayServer.get_name() != "headless", "this test needs a display (run it under xvfb-run)")
	var asker := level2_mod("reach_dialog_asker", 2, false)
	forget_grants(asker)
	expect_eq(op_code(asker, 5, ["files"]), 0, "request_permission(files)")
	await frames(2)
	var dialogs := tree.root.get_children(true).filter(func(c: Node) -> bool: return c is ConfirmationDialog and c.name.begins_with("WasgoPermissionDialog"))
	if not expect_eq(dialogs.size(), 1, "WasGo dialogs under the root"):
		return
	var dialog: ConfirmationDialog = dialogs[0]
	expect_eq(register_game_function("reach", "text",
		func(i: int) -> String: return _texts[i] if i >= 0 and i < _texts.size() else "",
		["i32"], ["string"], 1), OK, "registering reach.text")
	expect_eq(register_game_function("reach", "report", func(_text: String) -> void: pass,
		["string"], [], 1), OK, "registering reach.report")
	# `find_child` is not in the default list; a game that opens it must still not expose the dialog.
	WasmEngine.extend_allowlist("Node", "methods", PackedStringArray(["find_child"]))
	var attacker := new_mod("reach_dialog_attacker", {"module": wat_module("reach"), "safety_level": 1, "reach": NodePath("/root")})
	if not expect_eq(start(attacker), OK, "start() of the attacker"):
		return
	var root := attacker.node.call_export("node", [0, _t("/root")]) as int
	expect(root > 0, "the attacker reaches /root: %d" % root)
	expect_eq(attacker.node.call_export("node", [0, _t(str(dialog.get_path()))]), -1, "get_node(the dialog)")
	expect_eq(attacker.node.call_export("node", [0, _t(str(dialog.get_ok_button().get_path()))]), -1, "get_node(its Allow button)")
	expect_eq(_invoke(attacker, root, "find_child", "WasgoPermissionDialog*", 1), -1, "find_child(WasgoPermissionDialog*) from the root")
	var children := _invoke(attacker, root, "get_children", "", 3)
	expect(children >= 1000, "get_children(true) of the root gives the dialog as null: %d" % children)
	dialog.get_cancel_button().pressed.emit()
	await frames(2)
	forget_grants(asker)
