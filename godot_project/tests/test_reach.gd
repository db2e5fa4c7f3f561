## Reach: a level-1 mod holds handles only to nodes inside its reach — the `WasmScript`'s `reach`
## (or `wasgo/safety/default_reach`, whose empty default is the current scene, else the node's
## parent) plus its own subtree. Every way of obtaining a handle is tried on the root, an
## autoload-like node under the root, internal children and nodes outside a narrower reach; the
## same ways inside reach work as before. The mod is `res://tests/wat/reach.wat`.
##
## The tree each test builds:
##   /root/ReachAutoload            (groups reach_outside, reach_mixed)
##   /root/ReachScene               (the current scene unless a test says otherwise)
##     Players/P1                   (groups reach_inside, reach_mixed)
##     Box  [Guts: internal child, first]  Shown
##     Marker (Marker2D), Bell (user signal `rang(who)`)
##     Mods/ReachMod (the WasmScript) /Own
extends "res://tests/lib/wasgo_test.gd"

const DEFAULT_REACH := "wasgo/safety/default_reach"

var _texts: PackedStringArray = []
var _reported := ""
var _made: Array[Node] = []
var _scene: Node2D
var _autoload: Node
var _p1: Node2D
var _box: Node
var _marker: Marker2D
var _bell: Node


## Builds the tree; with `current`, ReachScene is the current scene. (Waits a frame first: the
## first test of a run starts before the root has entered the tree.)
func _build(current: bool) -> void:
	await frames(1)
	_autoload = _node(Node.new(), "ReachAutoload", tree.root)
	_scene = _node(Node2D.new(), "ReachScene", tree.root)
	var players := _node(Node2D.new(), "Players", _scene)
	_p1 = _node(Node2D.new(), "P1", players)
	_box = _node(Node.new(), "Box", _scene)
	var guts := Node2D.new()
	guts.name = "Guts"
	_box.add_child(guts, false, Node.INTERNAL_MODE_FRONT)
	_node(Node.new(), "Shown", _box)
	_marker = _node(Marker2D.new(), "Marker", _scene)
	_bell = _node(Node.new(), "Bell", _scene)
	_bell.add_user_signal("rang", [{"name": "who", "type": TYPE_OBJECT}])
	_node(Node.new(), "Mods", _scene)
	_p1.add_to_group("reach_inside")
	_p1.add_to_group("reach_mixed")
	_autoload.add_to_group("reach_outside")
	_autoload.add_to_group("reach_mixed")
	if current:
		tree.current_scene = _scene


func _node(node: Node, node_name: String, parent: Node) -> Node:
	node.name = node_name
	parent.add_child(node)
	if parent == tree.root:
		_made.append(node)
	return node


## A started level-1 (or `level`) reach mod under ReachScene/Mods, with a child `Own`.
func _mod(properties := {}, level := 1) -> ModProbe:
	expect_eq(register_game_function("reach", "text",
		func(i: int) -> String: return _texts[i] if i >= 0 and i < _texts.size() else "",
		["i32"], ["string"], 1), OK, "registering reach.text")
	expect_eq(register_game_function("reach", "report",
		func(text: String) -> void: _reported = text, ["string"], [], 1), OK, "registering reach.report")
	properties["module"] = wat_module("reach")
	properties["safety_level"] = level
	var probe := new_mod("ReachMod", properties)
	_scene.get_node("Mods").add_child(probe.node)
	var own := Node2D.new()
	own.name = "Own"
	probe.node.add_child(own)
	expect_eq(start(probe), OK, "start(): %s" % probe.node.get_last_error())
	return probe


func _t(text: String) -> int:
	_texts.append(text)
	return _texts.size() - 1


func _get_node(probe: ModProbe, path: String, from := 0) -> int:
	return probe.node.call_export("node", [from, _t(path)])


func _invoke(probe: ModProbe, handle: int, method: String, text := "", extra := 0) -> int:
	return probe.node.call_export("call_m", [handle, _t(method), _t(text) if text != "" else -1, extra])


func _read(probe: ModProbe, handle: int, property: String) -> int:
	return probe.node.call_export("get_p", [handle, _t(property)])


func _error(probe: ModProbe) -> String:
	probe.node.call_export("report_error", [])
	return _reported


func cleanup() -> void:
	super()
	if tree.current_scene == _scene or _made.has(tree.current_scene):
		tree.current_scene = null
	for node in _made:
		if is_instance_valid(node):
			node.free()
	_made.clear()


# --- outside: every way, one assertion each --------------------------------------------------

func test_get_node_refuses_the_root_an_autoload_and_nodes_outside() -> void:
	await _build(true)
	var probe := _mod()
	expect_eq(_get_node(probe, "/root"), -1, "get_node(/root)")
	expect_contains(_error(probe), "outside the mod's reach", "last_error after get_node(/root)")
	expect_eq(_get_node(probe, "/root/ReachAutoload"), -1, "get_node(/root/ReachAutoload)")
	expect_eq(_get_node(probe, "../../.."), -1, "get_node(../../..), the root by a relative path")
	var own := _get_node(probe, "Own")
	expect_eq(_get_node(probe, "../../../../ReachAutoload", own), -1, "get_node from a handle to the autoload")


## A game may take the mod's node out of the tree and keep it: an absolute path from a node
## outside the tree names nothing (-1), and Godot is not asked (it logs an error per call).
func test_an_absolute_path_from_outside_the_tree_finds_nothing_and_logs_nothing() -> void:
	await _build(true)
	var probe := _mod()
	var mods := _scene.get_node("Mods")
	mods.remove_child(probe.node)
	var logger := preload("res://tests/lib/log_counter.gd").new("absolute paths", Logger.ERROR_TYPE_ERROR)
	OS.add_logger(logger)
	expect_eq(_get_node(probe, "/root/ReachScene/Players/P1"), -1, "get_node(absolute) from outside the tree")
	var own := _get_node(probe, "Own")
	expect(own > 0, "a relative path inside the mod's own subtree still works: %d" % own)
	expect_eq(_get_node(probe, "/root/ReachScene", own), -1, "get_node(absolute) from a held handle outside the tree")
	OS.remove_logger(logger)
	expect_eq(logger.count(), 0, "errors Godot logged for the mod's lookups")
	mods.add_child(probe.node)
	expect(_get_node(probe, "/root/ReachScene/Players/P1") > 0, "the same path works once the node is back")


func test_get_parent_of_the_scene_root_is_refused() -> void:
	await _build(true)
	var probe := _mod()
	var scene := _get_node(probe, "../..")
	expect(scene > 0, "the scene root is inside: %d" % scene)
	expect_eq(_invoke(probe, scene, "get_parent"), -1, "get_parent() of the scene root (the root)")


func test_get_child_refuses_an_internal_child() -> void:
	await _build(true)
	var probe := _mod()
	var box := _get_node(probe, "../../Box")
	expect_eq(_invoke(probe, box, "get_child", "", 2), -1, "get_child(0, true): an internal child")
	expect_contains(_error(probe), "internal child", "last_error after get_child")


## A node whose only children are internal (a SpinBox's LineEdit, an OptionButton's PopupMenu):
## the reach check tells its internal child apart without Godot logging an error for it.
func test_an_internal_child_of_a_node_without_plain_children_is_refused_quietly() -> void:
	await _build(true)
	var spin := _node(Node.new(), "Spin", _scene)
	spin.add_child(Node.new(), false, Node.INTERNAL_MODE_BACK)
	var probe := _mod()
	var logger := preload("res://tests/lib/log_counter.gd").new("", Logger.ERROR_TYPE_ERROR)
	OS.add_logger(logger)
	var handle := _get_node(probe, "../../Spin")
	expect_eq(_invoke(probe, handle, "get_child", "", 2), -1, "get_child(0, true): an internal child")
	OS.remove_logger(logger)
	expect_contains(_error(probe), "internal child", "last_error after get_child")
	expect_eq(logger.count(), 0, "errors Godot logged for the reach check")


func test_get_children_gives_null_for_children_outside() -> void:
	await _build(true)
	var probe := _mod()
	var box := _get_node(probe, "../../Box")
	expect_eq(_invoke(probe, box, "get_children", "", 3), 1001, "get_children(true): Guts null, Shown a handle")


func test_find_child_refuses_an_internal_child() -> void:
	await _build(true)
	# Not in the default list (its pattern matching is unbounded): a game that opens it still
	# gets reach.
	WasmEngine.extend_allowlist("Node", "methods", PackedStringArray(["find_child"]))
	var probe := _mod()
	var box := _get_node(probe, "../../Box")
	expect_eq(_invoke(probe, box, "find_child", "Guts", 1), -1, "find_child(Guts) finds an internal child")


func test_get_node_or_null_refuses_the_root_and_an_autoload() -> void:
	await _build(true)
	var probe := _mod()
	var me := probe.node.call_export("me", []) as int
	expect_eq(_invoke(probe, me, "get_node_or_null", "/root"), -1, "get_node_or_null(/root)")
	expect_eq(_invoke(probe, me, "get_node_or_null", "/root/ReachAutoload"), -1, "get_node_or_null(/root/ReachAutoload)")


func test_groups_give_no_node_outside() -> void:
	await _build(true)
	var probe := _mod()
	var me := probe.node.call_export("me", []) as int
	var tree_handle := _invoke(probe, me, "get_tree")
	expect(tree_handle > 0, "get_tree() (not a node) stays reachable: %d" % tree_handle)
	expect_eq(_invoke(probe, tree_handle, "get_first_node_in_group", "reach_outside"), -1, "get_first_node_in_group(reach_outside)")
	expect_eq(_invoke(probe, tree_handle, "get_nodes_in_group", "reach_mixed"), 1001, "get_nodes_in_group(reach_mixed): the autoload null, P1 a handle")


func test_get_viewport_refuses_the_root_window() -> void:
	await _build(true)
	var probe := _mod()
	var me := probe.node.call_export("me", []) as int
	expect_eq(_invoke(probe, me, "get_viewport"), -1, "get_viewport() (the root window)")


func test_a_signal_argument_outside_arrives_as_null() -> void:
	await _build(true)
	var probe := _mod()
	var bell := _get_node(probe, "../../Bell")
	expect_eq(probe.node.call_export("listen", [bell, _t("rang"), 7]), 0, "connect(rang)")
	_bell.emit_signal("rang", tree.root)
	await frames(2)
	expect_eq(probe.node.call_export("last_cb", []), 0, "callback_args()[0] for the root")
	_bell.emit_signal("rang", _p1)
	await frames(2)
	expect((probe.node.call_export("last_cb", []) as int) > 0, "callback_args()[0] for P1 is a handle")


func test_a_property_holding_a_node_outside_is_refused() -> void:
	# Only for this class: `owner` is not in the shipped allowlist.
	WasmEngine.extend_allowlist("Marker2D", "properties", PackedStringArray(["owner"]))
	await _build(true)
	_marker.owner = tree.root
	var probe := _mod()
	var marker := _get_node(probe, "../../Marker")
	expect_eq(_read(probe, marker, "owner"), -1, "get(owner) when the owner is the root")
	_marker.owner = _scene
	expect(_read(probe, marker, "owner") > 0, "get(owner) when the owner is the scene")


func test_self_is_always_inside() -> void:
	await _build(true)
	var probe := _mod({"reach": NodePath("../../Players")})
	expect((probe.node.call_export("me", []) as int) > 0, "self()")
	expect(_get_node(probe, "Own") > 0, "get_node(Own), the mod's own subtree")


# --- inside: as before ---------------------------------------------------------------------

func test_inside_the_current_scene_every_way_works() -> void:
	await _build(true)
	WasmEngine.extend_allowlist("Node", "methods", PackedStringArray(["find_child"]))
	var probe := _mod()
	var players := _get_node(probe, "../../Players")
	expect(players > 0, "get_node(../../Players)")
	var p1 := _invoke(probe, players, "find_child", "P1", 1)
	expect(p1 > 0, "find_child(P1)")
	expect_eq(_invoke(probe, players, "get_child", "", 2), p1, "get_child(0, true) of Players")
	expect_eq(_invoke(probe, p1, "get_parent"), players, "get_parent() of P1")
	expect_eq(_invoke(probe, players, "get_children"), 1, "get_children() of Players")
	var me := probe.node.call_export("me", []) as int
	expect_eq(_invoke(probe, me, "get_node_or_null", "../../Players"), players, "get_node_or_null(../../Players)")
	var tree_handle := _invoke(probe, me, "get_tree")
	expect_eq(_invoke(probe, tree_handle, "get_first_node_in_group", "reach_inside"), p1, "get_first_node_in_group(reach_inside)")
	expect_eq(probe.node.call_export("move_x", [p1, 5.0]), 0, "set_vec2(position) on P1")
	expect_eq(_p1.position, Vector2(5, 0), "P1's position")


# --- moved out, narrower reach, the project default, fallbacks, level 3 -------------------

func test_a_node_moved_out_of_reach_is_refused_at_next_use() -> void:
	await _build(true)
	var probe := _mod()
	var p1 := _get_node(probe, "../../Players/P1")
	expect_eq(probe.node.call_export("move_x", [p1, 3.0]), 0, "set_vec2 while inside")
	_p1.reparent(_autoload)
	expect_eq(probe.node.call_export("move_x", [p1, 9.0]), -1, "set_vec2 (fast path) after the move")
	expect_contains(_error(probe), "outside the mod's reach", "last_error after the move")
	expect_eq(_invoke(probe, p1, "get_name"), -1, "call(get_name) after the move")
	expect_eq(_p1.position, Vector2(3, 0), "P1 was not moved by the mod after leaving its reach")
	_p1.reparent(_scene)
	expect_eq(probe.node.call_export("move_x", [p1, 4.0]), 0, "set_vec2 after it came back")


## Godot draws embedded windows (WasGo's permission dialog among them) on canvas layer 1024: a
## game's CanvasLayer at that layer or above draws over them, and a mod's node added under it
## covered the dialog's buttons. Nodes in such a layer are out of reach below level 3, moved
## there or found there; a layer below it is ordinary.
func test_a_node_in_a_canvas_layer_over_the_windows_is_out_of_reach() -> void:
	await _build(true)
	var probe := _mod()
	var high := CanvasLayer.new()
	high.layer = 2000
	_node(high, "Fade", _scene)
	_node(Node2D.new(), "Inside", high)
	var low := CanvasLayer.new()
	low.layer = 10
	_node(low, "Hud", _scene)
	_node(Node2D.new(), "Inside", low)
	expect_eq(_get_node(probe, "../../Fade/Inside"), -1, "get_node of a node in a layer at 2000")
	expect_contains(_error(probe), "draws over WasGo's permission dialog", "last_error")
	expect_eq(_get_node(probe, "../../Fade"), -1, "get_node of the layer itself")
	expect(_get_node(probe, "../../Hud/Inside") > 0, "get_node of a node in a layer at 10")
	var p1 := _get_node(probe, "../../Players/P1")
	expect(p1 > 0, "get_node(P1)")
	_p1.reparent(high)
	expect_eq(probe.node.call_export("move_x", [p1, 9.0]), -1, "set_vec2 once P1 moved into the layer at 2000")
	_p1.reparent(_scene.get_node("Players"))
	# The mod's own node moved into such a layer: its own nodes would draw over the dialog too.
	var mods := _scene.get_node("Mods")
	mods.reparent(high)
	expect_eq(_get_node(probe, "Own"), -1, "get_node of the mod's own child inside the layer at 2000")
	mods.reparent(_scene)
	expect(_get_node(probe, "Own") > 0, "get_node of the mod's own child once back")


## A game's slider in reach: the mod may move its `value` (Godot keeps it within the bounds),
## not widen the bounds (`max_value` 1e30 let it hand the game's volume handler hundreds of
## decibels).
func test_the_bounds_of_a_games_control_are_the_games() -> void:
	await _build(true)
	var probe := _mod()
	var slider := HSlider.new()
	slider.max_value = 1.0
	slider.step = 0.0
	_node(slider, "Volume", _scene)
	var h := _get_node(probe, "../../Volume")
	expect(h > 0, "get_node(Volume)")
	expect_eq(probe.node.call_export("set_f", [h, _t("max_value")]), -3, "set max_value of the game's slider")
	expect_contains(_error(probe), "is the game's to set", "last_error")
	expect_eq(probe.node.call_export("set_f", [h, _t("min_value")]), -3, "set min_value of the game's slider")
	expect_eq(probe.node.call_export("set_f", [h, _t("value")]), 0, "set value of the game's slider")
	expect_eq(slider.value, 1.0, "the slider's value")
	expect_eq(slider.max_value, 1.0, "the slider's max_value")


func test_reach_set_to_a_subtree_limits_the_mod_to_it() -> void:
	await _build(true)
	var probe := _mod({"reach": NodePath("../../Players")})
	expect(_get_node(probe, "../../Players/P1") > 0, "get_node(../../Players/P1)")
	expect_eq(_get_node(probe, "../../Marker"), -1, "get_node(../../Marker), a sibling of the reach")
	expect_eq(_get_node(probe, "../.."), -1, "get_node(../..), the scene above the reach")
	expect_eq(_get_node(probe, ".."), -1, "get_node(..), the mod's parent")
	probe.node.reach = NodePath("")
	expect(_get_node(probe, "../../Marker") > 0, "get_node(../../Marker) once reach is the default again")


## A node set up on another thread (a scene instantiated there) keeps the `reach` set there: the
## setter could not record it in the main thread's table, and the mod reached the whole default
## area instead.
func test_a_reach_set_on_another_thread_limits_the_mod() -> void:
	await _build(true)
	expect_eq(register_game_function("reach", "text",
		func(i: int) -> String: return _texts[i] if i >= 0 and i < _texts.size() else "",
		["i32"], ["string"], 1), OK, "registering reach.text")
	var module := wat_module("reach")
	var thread := Thread.new()
	thread.start(func() -> WasmScript:
		var made := WasmScript.new()
		made.name = "ThreadMod"
		made.autostart = false
		made.safety_level = 1
		made.module = module
		made.reach = NodePath("../../Players")
		return made)
	var node: WasmScript = thread.wait_to_finish()
	_nodes.append(node)
	var probe := ModProbe.new(node)
	_scene.get_node("Mods").add_child(node)
	expect_eq(node.reach, NodePath("../../Players"), "the reach the thread set")
	expect_eq(node.start(), OK, "start(): %s" % node.get_last_error())
	expect(_get_node(probe, "../../Players/P1") > 0, "get_node(../../Players/P1), inside the reach")
	expect_eq(_get_node(probe, "../../Marker"), -1, "get_node(../../Marker), outside the reach the thread set")


func test_the_project_default_reach_applies_when_reach_is_empty() -> void:
	set_setting(DEFAULT_REACH, "/root/ReachScene/Players")
	await _build(true)
	var probe := _mod()
	expect(_get_node(probe, "/root/ReachScene/Players/P1") > 0, "get_node(P1) inside the default")
	expect_eq(_get_node(probe, "/root/ReachScene/Marker"), -1, "get_node(Marker) outside the default")


## A default reach typed as a NodePath (`^"..."`) or StringName is that path; before, anything
## but a String read as empty, the widest reach (the whole current scene).
func test_a_default_reach_given_as_a_node_path_is_that_path() -> void:
	await _build(true)
	var probe := _mod()
	for value: Variant in [NodePath("/root/ReachScene/Players"), StringName("/root/ReachScene/Players")]:
		set_setting(DEFAULT_REACH, value)
		expect(_get_node(probe, "/root/ReachScene/Players/P1") > 0, "get_node(P1) inside the default (%s)" % type_string(typeof(value)))
		expect_eq(_get_node(probe, "/root/ReachScene/Marker"), -1, "get_node(Marker) outside the default (%s)" % type_string(typeof(value)))


## The project's default reach narrowed while a mod holds a handle: a new handle follows the
## setting at once, the one held from before is refused once Godot reports the change (at the
## end of the frame), as when the tree changes.
func test_a_default_reach_narrowed_refuses_held_handles_from_the_end_of_the_frame() -> void:
	await _build(true)
	var probe := _mod()
	var marker := _get_node(probe, "../../Marker")
	expect(marker > 0, "get_node(../../Marker) inside the scene")
	expect_eq(probe.node.call_export("move_x", [marker, 3.0]), 0, "set_vec2 while inside")
	set_setting(DEFAULT_REACH, "/root/ReachScene/Players")
	expect_eq(_get_node(probe, "../../Box"), -1, "a new handle outside the narrowed reach")
	await frames(1)
	expect_eq(probe.node.call_export("move_x", [marker, 9.0]), -1, "set_vec2 with the handle held from before")
	expect_contains(_error(probe), "outside the mod's reach", "last_error")
	expect_eq(_marker.position, Vector2(3, 0), "Marker was not moved once outside the reach")
	expect(_get_node(probe, "/root/ReachScene/Players/P1") > 0, "get_node(P1) inside the narrowed reach")


## A game may make another node already in the tree the current scene (the default reach):
## that changes nothing in the tree, so no signal says so. A new lookup decides under the new
## scene at once, and so makes every handle held from before be decided again; without one,
## held handles and kept paths are decided again from the next frame on.
func test_another_current_scene_refuses_held_handles() -> void:
	await _build(true)
	var other := _node(Node2D.new(), "OtherScene", tree.root)
	var probe := _mod()
	var marker := _get_node(probe, "../../Marker")
	expect(marker > 0, "get_node(../../Marker) inside the scene")
	expect_eq(probe.node.call_export("move_x", [marker, 3.0]), 0, "set_vec2 while inside")
	tree.current_scene = other
	expect_eq(_get_node(probe, "../../Box"), -1, "a new handle outside the new current scene")
	expect_eq(probe.node.call_export("move_x", [marker, 9.0]), -1, "set_vec2 with the handle held from before, after a lookup")
	expect_contains(_error(probe), "outside the mod's reach", "last_error")
	expect(_get_node(probe, "/root/OtherScene") > 0, "get_node(/root/OtherScene), the new current scene")
	expect(_get_node(probe, "Own") > 0, "get_node(Own), the mod's own subtree")
	tree.current_scene = _scene
	await frames(1)
	expect_eq(probe.node.call_export("move_x", [marker, 4.0]), 0, "set_vec2 once the scene is current again")
	expect_eq(_get_node(probe, "../../Marker"), marker, "the same path, kept, once the scene is current again")
	# No lookup this time: the frame's start notices.
	tree.current_scene = other
	await frames(1)
	expect_eq(probe.node.call_export("move_x", [marker, 9.0]), -1, "set_vec2 with the handle held from before, a frame later")
	expect_eq(_get_node(probe, "../../Marker"), -1, "the kept path, a frame later")
	expect_eq(_marker.position, Vector2(4, 0), "Marker was not moved while outside the reach")


func test_without_a_current_scene_the_parent_bounds_the_mod() -> void:
	await _build(false)
	var probe := _mod()
	expect(_get_node(probe, "Own") > 0, "get_node(Own)")
	expect_eq(_get_node(probe, "../../Players"), -1, "get_node(../../Players) beside the parent")
	expect_eq(_get_node(probe, "/root"), -1, "get_node(/root)")


## Godot clears `current_scene` at once when a game changes scene and sets the new one at the end
## of the frame. A mod kept across levels under an autoload (or under the root window) then had
## its parent as its reach: every autoload, or the whole tree, for the rest of that frame (long
## enough to rename an autoload or connect to its signals). The root window and autoloads never
## stand in for a missing scene: the mod keeps its own subtree.
func test_without_a_current_scene_an_autoload_or_the_root_is_no_reach() -> void:
	await _build(true)
	var probe := _mod()
	var setting := "autoload/ReachAutoload"
	ProjectSettings.set_setting(setting, "*res://tests/lib/level2_test.gd")
	var mods: Node = probe.node.get_parent()
	probe.node.reparent(_autoload)
	expect_eq(_get_node(probe, "/root/ReachAutoload"), -1, "the autoload, with a current scene")
	tree.current_scene = null
	expect_eq(_get_node(probe, "/root/ReachAutoload"), -1, "the autoload while no scene is current")
	expect_eq(_get_node(probe, ".."), -1, "the parent autoload while no scene is current")
	expect(_get_node(probe, "Own") > 0, "its own node")
	probe.node.reparent(tree.root)
	expect_eq(_get_node(probe, "/root"), -1, "the root, under the root")
	expect_eq(_get_node(probe, "/root/ReachAutoload"), -1, "the autoload, under the root")
	expect_eq(_get_node(probe, "/root/ReachScene/Players/P1"), -1, "a scene's node, under the root")
	expect(_get_node(probe, "Own") > 0, "its own node, under the root")
	ProjectSettings.set_setting(setting, null)
	probe.node.reparent(mods)


func test_level_three_reaches_everything() -> void:
	set_setting(SAFETY_LEVEL, 3)
	await _build(true)
	var probe := _mod({}, 3)
	expect(_get_node(probe, "/root") > 0, "get_node(/root) at level 3")
	expect(_get_node(probe, "/root/ReachAutoload") > 0, "get_node(/root/ReachAutoload) at level 3")


# --- paths: parsed once per mod, resolved and checked at every use ----------------------------

func test_a_path_asked_again_finds_what_is_there_now() -> void:
	await _build(true)
	var probe := _mod()
	var first := _get_node(probe, "../../Box")
	expect(first > 0, "get_node(../../Box): %d" % first)
	expect_eq(_get_node(probe, "../../Box"), first, "the same node by the same path, again")
	# Another node under the same name: the same path now finds it, not the first one.
	_box.name = "OldBox"
	var second := _node(Node.new(), "Box", _scene)
	var again := _get_node(probe, "../../Box")
	expect(again > 0 and again != first, "get_node(../../Box) after the swap gives another handle: %d (first %d)" % [again, first])
	second.free()
	expect_eq(_get_node(probe, "../../Box"), -1, "get_node(../../Box) once no node has that name")
	# A path found inside reach once is refused once its node is outside.
	expect(_get_node(probe, "../../Marker") > 0, "get_node(../../Marker) inside")
	_marker.reparent(_autoload)
	expect_eq(_get_node(probe, "../../Marker"), -1, "the same path after Marker moved away")
	expect_eq(_get_node(probe, "/root/ReachAutoload/Marker"), -1, "Marker at its new place, outside")


func test_paths_longer_than_the_kept_ones_resolve_at_every_use() -> void:
	await _build(true)
	var long_name := "N".repeat(300)
	var far := _node(Node2D.new(), long_name, _scene)
	var outside := _node(Node.new(), long_name, _autoload)
	var probe := _mod()
	var path := "../../" + long_name
	var first := _get_node(probe, path)
	expect(first > 0, "get_node by a %d-byte path: %d" % [path.length(), first])
	for i in 3:
		expect_eq(_get_node(probe, path), first, "the same node by the same long path (#%d)" % i)
		expect_eq(_get_node(probe, "../../" + "N".repeat(299)), -1, "a path one byte shorter names no node (#%d)" % i)
		expect_eq(_get_node(probe, "/root/ReachAutoload/" + long_name), -1, "a long path outside the reach (#%d)" % i)
	far.name = "Short"
	expect_eq(_get_node(probe, path), -1, "the long path once the node was renamed")
	expect_eq(_get_node(probe, "../../Short"), first, "the node under its new name")
	expect(is_instance_valid(outside), "the node outside is untouched")
	expect_eq(probe.node.get_status(), WasmScript.STATUS_RUNNING, "the mod still runs")


## An answer found from a node outside the scene tree is not kept: no signal reports changes
## there (a rename, a child taken away), so the same path is looked up again at every use.
func test_a_path_from_a_node_outside_the_tree_finds_what_is_there_now() -> void:
	await _build(true)
	var probe := _mod()
	var mods := _scene.get_node("Mods")
	mods.remove_child(probe.node)
	var own: Node = probe.node.get_node("Own")
	var first := _get_node(probe, "Own")
	expect(first > 0, "get_node(Own) from the mod's node outside the tree: %d" % first)
	expect_eq(_get_node(probe, "Own"), first, "the same node again")
	own.name = "Moved"
	expect_eq(_get_node(probe, "Own"), -1, "get_node(Own) once Own was renamed outside the tree")
	var second := Node2D.new()
	second.name = "Own"
	probe.node.add_child(second)
	var again := _get_node(probe, "Own")
	expect(again > 0 and again != first, "get_node(Own) finds the new Own: %d (first %d)" % [again, first])
	probe.node.remove_child(second)
	second.free()
	expect_eq(_get_node(probe, "Own"), -1, "get_node(Own) once the new Own was taken away")
	mods.add_child(probe.node)


## A unique name (`%Name`) depends on owners and `unique_name_in_owner`, which no signal
## reports: such a path is looked up again at every use.
func test_a_unique_name_path_finds_what_is_there_now() -> void:
	await _build(true)
	var probe := _mod()
	probe.node.owner = _scene
	_marker.owner = _scene
	_marker.unique_name_in_owner = true
	var marker := _get_node(probe, "%Marker")
	expect(marker > 0, "get_node(%%Marker): %d" % marker)
	expect_eq(_get_node(probe, "%Marker"), marker, "the same node again")
	_marker.unique_name_in_owner = false
	expect_eq(_get_node(probe, "%Marker"), -1, "get_node(%Marker) once Marker is no longer unique")
	_marker.unique_name_in_owner = true
	expect_eq(_get_node(probe, "%Marker"), marker, "and again once it is")
	_marker.owner = null
	expect_eq(_get_node(probe, "%Marker"), -1, "get_node(%Marker) once Marker has no owner")


## The mod releases a node's handle: the same path gives a working handle again, not the
## released number (kept answers end with any release).
func test_a_path_asked_again_after_a_release_gives_a_working_handle() -> void:
	await _build(true)
	var probe := _mod()
	var box := _get_node(probe, "../../Box")
	expect(box > 0, "get_node(../../Box): %d" % box)
	expect_eq(_get_node(probe, "../../Box"), box, "the same handle again")
	probe.node.call_export("release_h", [box])
	var again := _get_node(probe, "../../Box")
	expect(again > 0 and again != box, "a new handle once the old one was released: %d (old %d)" % [again, box])
	expect(_invoke(probe, again, "get_parent") > 0, "the new handle works: %s" % _error(probe))


## `main` looks the same path up in a loop until it names nothing, counting its lookups: its
## kept answer (no round trip) must end when the game renames the node, and a lookup after
## that must find the node put in its place. (Kept past the change, the loop never ends.)
const LOOKUP_LOOP_WAT := """(module
  (import "wasgo" "get_node" (func $get_node (param i32 i32 i32) (result i32)))
  (import "wasgo" "log" (func $log (param i32 i32 i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "../../Box")
  (data (i32.const 16) "looking")
  (func (export "main") (result i32) (local $n i32) (local $first i32) (local $h i32)
    (local.set $first (call $get_node (i32.const 0) (i32.const 0) (i32.const 9)))
    (if (i32.le_s (local.get $first) (i32.const 0)) (then (return (i32.const -100))))
    (call $log (i32.const 1) (i32.const 16) (i32.const 7))
    (loop $l
      (local.set $n (i32.add (local.get $n) (i32.const 1)))
      (local.set $h (call $get_node (i32.const 0) (i32.const 0) (i32.const 9)))
      (if (i32.eq (local.get $h) (local.get $first)) (then (br $l))))
    ;; -1 once Box was renamed; then wait for the new Box.
    (if (i32.ne (local.get $h) (i32.const -1)) (then (return (i32.const -200))))
    (loop $w
      (local.set $h (call $get_node (i32.const 0) (i32.const 0) (i32.const 9)))
      (br_if $w (i32.lt_s (local.get $h) (i32.const 0))))
    (if (i32.eq (local.get $h) (local.get $first)) (then (return (i32.const -300))))
    (local.get $n)))"""


func test_main_looking_a_path_up_in_a_loop_sees_the_game_rename_its_node() -> void:
	await _build(true)
	var probe := new_mod("LoopMod", {"module": WasmEngine.compile_module(LOOKUP_LOOP_WAT.to_utf8_buffer(), "lookup_loop"), "safety_level": 1})
	_scene.get_node("Mods").add_child(probe.node)
	expect_eq(start(probe), OK, "start(): %s" % probe.node.get_last_error())
	expect(await wait_until(func() -> bool: return probe.has_output("looking") or probe.ended()), "main began its loop: %s" % probe.describe())
	await frames(3)
	expect(not probe.ended(), "main still finds Box: %s" % probe.describe())
	_box.name = "OldBox"
	await frames(3)
	_node(Node.new(), "Box", _scene)
	expect(await wait_for_end(probe, 5000), "main saw the rename and the new Box: %s" % probe.describe())
	expect_eq(probe.finished.size(), 1, "main finished once: %s" % probe.describe())
	if probe.finished.size() == 1:
		expect(probe.finished[0] > 0, "main's lookups before the rename (negative: what went wrong): %d" % probe.finished[0])


## A mod renaming its node to another mod's name (after renaming that one) would take its place
## where the game finds mods by name, e.g. to grant a permission. Below level 3 no `WasmScript`
## node is renamed by a mod; other nodes in reach still are.
func test_a_mod_may_not_rename_a_wasm_script_node() -> void:
	var probe := new_mod("Renamer", {"module": wat_module("rename"), "safety_level": 1, "reach": NodePath("..")})
	expect_eq(start(probe), OK, "start(): %s" % probe.node.get_last_error())
	var other := new_mod("Other", {"module": wat_module("callbacks_add"), "safety_level": 1})
	probe.node.get_parent().add_child(other.node)
	expect_eq(probe.node.call_export("rename_self"), -3, "its own node")
	expect_eq(probe.node.call_export("rename_other"), -3, "another mod's node")
	expect_eq(str(probe.node.name), "Renamer", "its node keeps its name")
	expect_eq(str(other.node.name), "Other", "the other keeps its name")
	other.node.free()
	var plain := Node2D.new()
	plain.name = "Other"
	probe.node.get_parent().add_child(plain)
	expect_eq(probe.node.call_export("rename_other"), 0, "a plain node in reach: %s" % probe.node.get_last_error())
	expect_eq(str(plain.name), "bad", "renamed")
	plain.free()



## A member or singleton that does not exist is -1 (not found), as the ABI says, at every level:
## a typo is not a denied call (it trapped the mod as "not exposed" below level 3), and at level
## 3 a property nobody has is not read as null.
func _expect_missing_members_not_found(probe: ModProbe, level: int) -> void:
	var me := int(probe.node.call_export("me", []))
	expect_eq(_read(probe, me, "no_such_property"), -1, "get of a missing property at level %d" % level)
	expect_eq(probe.node.call_export("set_f", [me, _t("no_such_property")]), -1, "set of a missing property at level %d" % level)
	expect_eq(_invoke(probe, me, "no_such_method"), -1, "call of a missing method at level %d" % level)
	expect_eq(probe.node.call_export("single", [_t("NoSuchSingleton")]), -1, "a missing singleton at level %d" % level)
	expect(probe.unexposed.is_empty(), "no unexposed_call at level %d: %s" % [level, probe.unexposed])
	expect_eq(probe.node.get_status(), WasmScript.STATUS_RUNNING, "the mod runs on at level %d" % level)


func test_a_member_that_does_not_exist_is_not_found_at_level_1() -> void:
	await _build(true)
	var probe := _mod({}, 1)
	_expect_missing_members_not_found(probe, 1)
	# A member that exists but is not allowed still traps.
	probe.node.call_export("get_p", [int(probe.node.call_export("me", [])), _t("script")])
	expect_eq(probe.node.get_status(), WasmScript.STATUS_TRAPPED, "a denied property traps")


func test_a_member_that_does_not_exist_is_not_found_at_level_3() -> void:
	set_setting(SAFETY_LEVEL, 3)
	await _build(true)
	_expect_missing_members_not_found(_mod({}, 3), 3)
