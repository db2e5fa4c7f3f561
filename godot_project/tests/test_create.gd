## What mods create: `wasgo.new` makes objects of the classes the allowlist marks `instantiable`,
## owned by the instance (`created.rs`): counted against `wasgo/limits/max_objects_per_mod`,
## freed when the instance ends unless the game adopts them, and the only nodes a mod may
## `add_child`, `remove_child` or `queue_free`, under nodes in its reach. The mod is
## `mods/tests/create` (Rust, SDK).
##
## The tree each test builds:
##   /root/CreateArena        (the mod's reach)
##     Game  Spot  CreateMod (the WasmScript)
##   /root/CreateOutside      (outside the reach)
extends "res://tests/lib/wasgo_test.gd"

const CREATE := MODS + "create.wasm"
const MAX_OBJECTS := "wasgo/limits/max_objects_per_mod"
## `mods/tests/create`: 24 node classes, 22 resource classes, and a shape on a collision shape.
const DEFAULT_NODES := 24
const CREATED_BY_DEFAULTS := 24 + 22 + 2
const NOT_FOUND := -1
const INVALID_ARGUMENT := -3
const BUSY := -7

var _arena: Node2D
var _outside: Node2D
var _game: Node2D
var _spot: Node2D


func _objects() -> int:
	return int(Performance.get_monitor(Performance.OBJECT_COUNT))


## Nodes and resources alive now (exact: the instance's own bookkeeping objects are neither).
func _nodes_and_resources() -> Array:
	return [int(Performance.get_monitor(Performance.OBJECT_NODE_COUNT)), int(Performance.get_monitor(Performance.OBJECT_RESOURCE_COUNT))]


## Waits up to `frames_max` frames for the object count to fall to `baseline`; returns the count.
func _settle(baseline: int, frames_max := 10) -> int:
	for i in frames_max:
		if _objects() <= baseline:
			break
		await tree.process_frame
	return _objects()


## The classes of the objects the mod owns, sorted.
func _owned_classes(probe: ModProbe) -> Array:
	var classes := {}
	for owned: Object in probe.node.get_owned_objects():
		classes[owned.get_class()] = true
	var sorted := classes.keys()
	sorted.sort()
	return sorted


## The classes `addons/wasgo/allowlist.cfg` marks `instantiable = true`.
func _instantiable_in_allowlist() -> Array:
	var classes := []
	var section := ""
	for line in FileAccess.get_file_as_string("res://addons/wasgo/allowlist.cfg").split("\n"):
		var text := line.get_slice("#", 0).strip_edges()
		if text.begins_with("[") and text.ends_with("]"):
			section = text.substr(1, text.length() - 2)
		elif text.replace(" ", "") == "instantiable=true" and not classes.has(section):
			classes.append(section)
	return classes


func _node(node_name: String, parent: Node) -> Node2D:
	var node := Node2D.new()
	node.name = node_name
	parent.add_child(node)
	return node


## Builds the tree and starts the mod in it; null (with a failure recorded) if it does not start.
func _started() -> ModProbe:
	await frames(1)
	_arena = _node("CreateArena", tree.root)
	_outside = _node("CreateOutside", tree.root)
	_game = _node("Game", _arena)
	_spot = _node("Spot", _arena)
	var probe := new_mod("CreateMod", {"wasm_file": CREATE, "safety_level": 1, "reach": NodePath("..")})
	_arena.add_child(probe.node)
	if not expect_eq(probe.node.start(), OK, "start(): %s" % probe.node.get_last_error()):
		return null
	# What the first frames of a mod make on their own is part of the baseline.
	await frames(2)
	return probe


func _call(probe: ModProbe, export: String, args := []) -> Variant:
	return probe.node.call_export(export, args)


func cleanup() -> void:
	super.cleanup()
	for node in [_arena, _outside]:
		if is_instance_valid(node):
			node.free()


func test_a_level_1_mod_creates_every_default_class_and_kill_frees_them() -> void:
	var probe: ModProbe = await _started()
	if probe == null:
		return
	var baseline := _objects()
	var kinds_before := _nodes_and_resources()
	var made: Variant = _call(probe, "create_defaults")
	if not expect_eq(made, CREATED_BY_DEFAULTS, "create_defaults(): %s" % probe.describe()):
		return
	var children := probe.node.get_children()
	expect_eq(children.size(), DEFAULT_NODES + 1, "nodes added under the mod's node")
	expect(probe.node.get_node_or_null("MadeSprite2D") is Sprite2D, "a Sprite2D under the mod's node")
	expect(probe.node.get_node_or_null("MadeAudioStreamPlayer3D") is AudioStreamPlayer3D, "an AudioStreamPlayer3D")
	var holder := probe.node.get_child(DEFAULT_NODES) as CollisionShape2D
	expect(holder != null and holder.shape is CircleShape2D, "the mod's shape on its collision shape")
	expect_eq(probe.node.get_owned_objects().size(), CREATED_BY_DEFAULTS, "get_owned_objects()")
	var listed := _instantiable_in_allowlist()
	listed.sort()
	expect_eq(_owned_classes(probe), listed, "the classes created are every class the allowlist marks instantiable")
	expect(_objects() >= baseline + CREATED_BY_DEFAULTS, "the objects exist: %d, baseline %d" % [_objects(), baseline])
	probe.node.kill()
	var after: int = await _settle(baseline)
	expect(after <= baseline, "objects a few frames after kill(): %d, baseline %d" % [after, baseline])
	expect_eq(_nodes_and_resources(), kinds_before, "[nodes, resources] after kill()")
	expect_eq(probe.node.get_child_count(), 0, "children of the mod's node after kill()")
	expect_eq(probe.node.get_owned_objects().size(), 0, "get_owned_objects() after kill()")


func test_adopted_objects_outlive_the_instance() -> void:
	var probe: ModProbe = await _started()
	if probe == null:
		return
	if not expect_eq(_call(probe, "create_defaults"), CREATED_BY_DEFAULTS, "create_defaults(): %s" % probe.describe()):
		return
	var label := probe.node.get_node("MadeLabel") as Label
	var timer := probe.node.get_node("MadeTimer") as Timer
	expect(probe.node.adopt(label), "adopt() of the mod's Label")
	expect(not probe.node.adopt(label), "a second adopt() of the same Label")
	expect(not probe.node.adopt(_game), "adopt() of a game node the mod does not own")
	expect_eq(probe.node.get_owned_objects().size(), CREATED_BY_DEFAULTS - 1, "owned after adopt()")
	# The game takes the adopted node out from under the mod's node before the mod ends.
	probe.node.remove_child(label)
	_arena.add_child(label)
	probe.node.kill()
	await frames(2)
	expect(is_instance_valid(label) and label.is_inside_tree(), "the adopted Label lives on")
	expect(not is_instance_valid(timer), "a Timer it did not adopt was freed")


## A Control a mod makes never takes the mouse: an invisible one the size of the screen would
## swallow the player's clicks on the game's UI below it, outside the mod's reach.
func test_controls_a_mod_makes_let_the_mouse_through() -> void:
	var probe: ModProbe = await _started()
	if probe == null:
		return
	if not expect_eq(_call(probe, "create_defaults"), CREATED_BY_DEFAULTS, "create_defaults(): %s" % probe.describe()):
		return
	var controls := 0
	var inner := 0
	for object in probe.node.get_owned_objects():
		if object is Control:
			controls += 1
			expect_eq((object as Control).mouse_filter, Control.MOUSE_FILTER_IGNORE, "mouse_filter of the mod's %s" % object.get_class())
			# The Controls a Control makes for itself (a RichTextLabel's scroll bar, internal:
			# the mod gets no handle to it) took the clicks over their rectangle all the same.
			for child in _internal_controls(object):
				inner += 1
				expect_eq(child.mouse_filter, Control.MOUSE_FILTER_IGNORE, "mouse_filter of the %s inside the mod's %s" % [child.get_class(), object.get_class()])
	expect(controls >= 4, "the defaults hold Controls (Control, Label, ColorRect, ...): %d" % controls)
	expect(inner >= 1, "the defaults' RichTextLabel has its scroll bar: %d internal Controls" % inner)


## The physics twin of the rule above: a collision object a mod makes is not pickable, and the
## mod cannot make it so (Godot's object picking handed every click to a mod's huge area on top,
## 2D, or in front of the camera, 3D). A game's own area keeps what the allowlist gives.
func test_collision_objects_a_mod_makes_are_not_pickable() -> void:
	var probe := new_mod("PickMod", {"module": wat_module("names_to_godot"), "safety_level": 1})
	var game_area := Area2D.new()
	game_area.name = "GameArea"
	probe.node.add_child(game_area)
	if not expect_eq(start(probe), OK, "start(): %s" % probe.node.get_last_error()):
		return
	var area2d: int = probe.node.call_export("make", ["Area2D"])
	var area3d: int = probe.node.call_export("make", ["Area3D"])
	if not expect(area2d > 0 and area3d > 0, "handles: %d %d %s" % [area2d, area3d, probe.outputs]):
		return
	var seen := 0
	for object in probe.node.get_owned_objects():
		if object is CollisionObject2D:
			seen += 1
			expect(not (object as CollisionObject2D).input_pickable, "the mod's Area2D is not pickable")
		elif object is CollisionObject3D:
			seen += 1
			expect(not (object as CollisionObject3D).input_ray_pickable, "the mod's Area3D is not ray-pickable")
	expect_eq(seen, 2, "the mod's two areas")
	expect_eq(probe.node.call_export("set_on", [area2d, "input_pickable", var_to_bytes(true)]), -3,
		"input_pickable set on the mod's own Area2D")
	expect(probe.has_output("a mod's own collision objects are not pickable"), "the refusal: %s" % [probe.outputs])
	var game: int = probe.node.call_export("get_node", ["GameArea"])
	if expect(game > 0, "the game's area: %s" % [probe.outputs]):
		expect_eq(probe.node.call_export("set_on", [game, "input_pickable", var_to_bytes(false)]), 0,
			"input_pickable on the game's own Area2D (the allowlist gives it)")
		expect(not game_area.input_pickable, "set")


func _internal_controls(node: Node) -> Array[Control]:
	var found: Array[Control] = []
	for child in node.get_children(true):
		if child is Control:
			found.append(child)
		found.append_array(_internal_controls(child))
	return found


## A null object (a freed or missing node) is an answer, not an error that stops the caller.
func test_adopt_and_start_mods_of_null_answer_without_a_script_error() -> void:
	var probe: ModProbe = await _started()
	if probe == null:
		return
	expect(not probe.node.adopt(null), "adopt(null)")
	expect_eq(WasmEngine.start_mods(null), [], "start_mods(null)")
	expect_contains(WasmEngine.get_last_error(), "parent node is null", "start_mods(null)'s error")


## Adopting a node adopts the nodes above it that the mod made: neither the instance's end nor
## the mod's own `queue_free` of a parent it made frees the adopted node with it.
func test_adopting_a_node_adopts_the_mod_made_nodes_above_it() -> void:
	var probe: ModProbe = await _started()
	if probe == null:
		return
	if not expect_eq(_call(probe, "nested_pair"), 0, "nested_pair(): %s" % probe.describe()):
		return
	var outer := probe.node.get_node("Outer") as Node2D
	var inner := outer.get_node("Inner") as Node2D
	expect(probe.node.adopt(inner), "adopt() of the mod's Inner (under its Outer)")
	expect(not probe.node.get_owned_objects().has(outer), "Outer was adopted with Inner")
	expect_eq(_call(probe, "free_nodes"), INVALID_ARGUMENT, "the mod's queue_free of the adopted Outer")
	probe.node.kill()
	await frames(3)
	expect(is_instance_valid(inner) and inner.is_inside_tree(), "the adopted Inner lives on")
	expect(is_instance_valid(outer) and inner.get_parent() == outer, "and so does the Outer above it")
	if is_instance_valid(outer):
		outer.free()


## Adopting a node adopts the mod-made nodes below it too: an adopted "enemy" kept its node but
## lost the sprite and collision shape the mod had made under it when the mod ended.
func test_adopting_a_node_adopts_the_mod_made_nodes_below_it() -> void:
	var probe: ModProbe = await _started()
	if probe == null:
		return
	if not expect_eq(_call(probe, "nested_pair"), 0, "nested_pair(): %s" % probe.describe()):
		return
	var outer := probe.node.get_node("Outer") as Node2D
	var inner := outer.get_node("Inner") as Node2D
	expect(probe.node.adopt(outer), "adopt() of the mod's Outer (above its Inner)")
	expect(not probe.node.get_owned_objects().has(inner), "Inner was adopted with Outer")
	probe.node.kill()
	await frames(3)
	expect(is_instance_valid(outer) and outer.is_inside_tree(), "the adopted Outer lives on")
	expect(is_instance_valid(inner) and inner.get_parent() == outer, "and so does the Inner below it")
	if is_instance_valid(outer):
		outer.free()


func test_a_class_not_marked_instantiable_is_refused_and_the_game_goes_on() -> void:
	var probe: ModProbe = await _started()
	if probe == null:
		return
	var baseline := _objects()
	expect_eq(_call(probe, "create_denied", [0]), INVALID_ARGUMENT, "new(\"Window\")")
	expect(probe.has_output("FAIL Window: `wasgo.new`: `Window` is not instantiable by mods at safety level 1"), "the message: %s" % [probe.outputs])
	expect_eq(_call(probe, "create_denied", [1]), INVALID_ARGUMENT, "new(\"HTTPRequest\")")
	expect_eq(_call(probe, "create_denied", [2]), NOT_FOUND, "new(\"NoSuchClass\")")
	expect(probe.has_output("there is no class `NoSuchClass`"), "the message: %s" % [probe.outputs])
	expect_eq(_call(probe, "create_denied", [3]), INVALID_ARGUMENT, "new(\"Object\")")
	expect_eq(_call(probe, "kept"), 0, "nothing was created")
	expect_eq(_objects(), baseline, "object count")
	expect_eq(probe.node.get_status(), WasmScript.STATUS_RUNNING, "the mod still runs")
	await expect_frames_go_on("after refused creations")


## Resources a mod made and let go of still count while something holds them: made, put into a
## SpriteFrames the mod owns and released, each left the count at once, so the cap bounded
## nothing (256 animations x 1024 frames per SpriteFrames).
func test_released_resources_count_while_they_live() -> void:
	set_setting(MAX_OBJECTS, 20)
	var probe: ModProbe = await _started()
	if probe == null:
		return
	expect_eq(_call(probe, "stash_textures", [100]), BUSY, "100 textures stashed in a SpriteFrames past a cap of 20")
	expect(probe.has_output("this mod already has 20 objects it made"), "the message: %s" % [probe.outputs])
	_call(probe, "drop_stash")
	await frames(1)
	expect_eq(_call(probe, "stash_textures", [10]), 10, "textures once the SpriteFrames (and what it held) was let go of")
	expect_eq(probe.node.get_status(), WasmScript.STATUS_RUNNING, "the mod still runs")


## The allowlist bounds each SpriteFrames (256 animations of 1024 frames); all of a mod's
## together hold at most 65,536 frames (1023 of them could hold 268 million, gigabytes).
func test_a_mods_sprite_frames_together_hold_at_most_65536_frames() -> void:
	# 65,536 calls from callbacks, a few microseconds each in a debug build: a budget for them.
	set_setting("wasgo/limits/callback_budget_ms", 2000)
	var probe: ModProbe = await _started()
	if probe == null:
		return
	var total := 0
	for i in 200:
		var got: Variant = _call(probe, "add_frames", [512])
		if got == null:
			fail("add_frames(512) gave null: %s %s" % [probe.describe(), probe.node.get_last_error()])
			return
		total = got
		if total < 0 or total > 65536:
			break
	expect_eq(total, INVALID_ARGUMENT, "add_frame past 65,536 frames in all")
	expect(probe.has_output("would hold 65537 frames together, over 65536"), "the message: %s" % [probe.outputs.slice(-3)])
	expect_eq(probe.node.get_status(), WasmScript.STATUS_RUNNING, "the mod still runs")


## A growth-limited call (`add_frame`, counted with `get_frame_count(animation)`) given an
## argument the counter does not take: the count was asked with a call that panics when Godot
## refuses it (a host-bug trap of the mod, or a panic through the frame hook for a `main`). The
## mod gets the refusal, as for the call itself.
func test_a_growth_counter_given_a_wrong_argument_refuses_the_call() -> void:
	var probe: ModProbe = await _started()
	if probe == null:
		return
	var code: int = _call(probe, "add_frame_array")
	expect(code < 0, "add_frame([], texture) is refused: %d" % code)
	expect_eq(probe.traps, PackedStringArray(), "traps")
	expect_eq(probe.node.get_status(), WasmScript.STATUS_RUNNING, "the mod still runs")


func test_creating_past_the_per_mod_cap_is_refused_and_kill_frees_everything() -> void:
	set_setting(MAX_OBJECTS, 50)
	var probe: ModProbe = await _started()
	if probe == null:
		return
	var baseline := _objects()
	var kinds_before := _nodes_and_resources()
	expect_eq(_call(probe, "flood", [200]), BUSY, "flood(200) past a cap of 50")
	expect_eq(_call(probe, "kept"), 50, "objects made before the refusal")
	expect(probe.has_output("this mod already has 50 objects it made, the most `wasgo/limits/max_objects_per_mod` allows"), "the message: %s" % [probe.outputs])
	expect_eq(probe.node.get_status(), WasmScript.STATUS_RUNNING, "the mod still runs")
	# Freeing its own nodes makes room again.
	expect_eq(_call(probe, "free_nodes"), 0, "free_nodes()")
	await frames(1)
	expect_eq(_call(probe, "flood", [10]), 0, "flood(10) after freeing")
	probe.node.kill()
	var after: int = await _settle(baseline)
	expect(after <= baseline, "objects a few frames after kill(): %d, baseline %d" % [after, baseline])
	expect_eq(_nodes_and_resources(), kinds_before, "[nodes, resources] after kill()")


func test_tree_calls_on_the_games_nodes_are_refused() -> void:
	var probe: ModProbe = await _started()
	if probe == null:
		return
	for attack in 4:
		expect_eq(_call(probe, "attack_game_node", [attack]), INVALID_ARGUMENT, "attack %d: %s" % [attack, probe.outputs])
	expect(probe.has_output("FAIL attack 0: `add_child` refused: the mod may add and remove only the nodes it created"), "add_child message: %s" % [probe.outputs])
	expect(probe.has_output("FAIL attack 1: `queue_free` refused: the mod may free only the nodes it created"), "queue_free message")
	expect(probe.has_output("FAIL attack 3: `add_child` takes at most `child` and `force_readable_name`"), "internal add_child message")
	await frames(1)
	expect(is_instance_valid(_game) and _game.get_parent() == _arena, "the game's node is untouched")
	expect_eq(_game.get_child_count(true), 0, "nothing was added to the game's node")


func test_add_child_outside_the_reach_is_refused() -> void:
	var probe: ModProbe = await _started()
	if probe == null:
		return
	expect_eq(_call(probe, "find_spot"), 0, "find_spot()")
	_arena.remove_child(_spot)
	_outside.add_child(_spot)
	expect_eq(_call(probe, "add_to_spot"), NOT_FOUND, "add_child under a node moved out of reach")
	expect(probe.has_output("FAIL add_to_spot: the node behind handle"), "the message: %s" % [probe.outputs])
	expect_eq(_spot.get_child_count(), 0, "nothing was added outside the reach")
	_outside.remove_child(_spot)
	_arena.add_child(_spot)
	expect_eq(_call(probe, "add_to_spot"), 0, "add_child under a node in reach")
	var sprite := _spot.get_node_or_null("ModSprite") as Sprite2D
	if not expect(sprite != null, "the mod's sprite under the game's Spot"):
		return
	# The mod's own node stays reachable even when the game moves it out of reach.
	_spot.remove_child(sprite)
	_outside.add_child(sprite)
	expect_eq(_call(probe, "touch_sprite", [42.0]), 0, "touch_sprite() on its own node outside reach")
	expect_eq(sprite.position.x, 42.0, "the mod moved its own sprite")
	probe.node.kill()
	await frames(2)
	expect(not is_instance_valid(sprite), "the mod's sprite was freed with the instance")
	expect(is_instance_valid(_spot), "the game's Spot lives on")


## A game's dialog lays its plain children over its own message: a mod's node added to one
## covered what the player confirms ("Keep your save?" over "Delete your save?"). Below level 3
## a mod may not add to a window of the game's.
func test_add_child_into_a_games_dialog_is_refused() -> void:
	var probe: ModProbe = await _started()
	if probe == null:
		return
	_spot.name = "NotTheSpot"
	var dialog := ConfirmationDialog.new()
	dialog.name = "Spot"
	dialog.dialog_text = "Delete your save?"
	_arena.add_child(dialog)
	expect_eq(_call(probe, "find_spot"), 0, "find_spot() finds the dialog")
	expect_eq(_call(probe, "add_to_spot"), INVALID_ARGUMENT, "add_child under the game's dialog")
	expect(probe.has_output("is a window of the game's"), "the message: %s" % [probe.outputs])
	expect_eq(dialog.get_child_count(), 0, "nothing was added to the dialog")
	dialog.free()
	# Nor anywhere inside one (a dialog's own container lays its children over the message too):
	# the mod's node moved into a window, where `../Spot` is a container.
	var window := Window.new()
	window.name = "GameWindow"
	_arena.add_child(window)
	probe.node.reparent(window)
	var box := VBoxContainer.new()
	box.name = "Spot"
	window.add_child(box)
	expect_eq(_call(probe, "find_spot"), 0, "find_spot() finds the container in the window")
	expect_eq(_call(probe, "add_to_spot"), INVALID_ARGUMENT, "add_child under a container inside the game's window")
	expect_eq(box.get_child_count(), 0, "nothing was added inside the window")
	probe.node.reparent(_arena)
	window.free()


## A CanvasLayer the game raises to layer 1024 or above after the mod took a handle under it:
## no signal says so (the kept reach decision still holds), but `add_child` there is refused,
## checked as the layer is now (its nodes would draw over WasGo's permission dialog).
func test_add_child_under_a_layer_raised_over_the_windows_is_refused() -> void:
	var probe: ModProbe = await _started()
	if probe == null:
		return
	var layer := CanvasLayer.new()
	layer.name = "Hud"
	layer.layer = 10
	_arena.add_child(layer)
	probe.node.reparent(layer)
	_spot.reparent(layer)
	expect_eq(_call(probe, "find_spot"), 0, "find_spot() in the layer at 10")
	layer.layer = 2000
	expect_eq(_call(probe, "add_to_spot"), INVALID_ARGUMENT, "add_child once the layer is at 2000")
	expect(probe.has_output("draws over WasGo's permission dialog"), "the message: %s" % [probe.outputs])
	expect_eq(_spot.get_child_count(), 0, "nothing was added in the raised layer")
	layer.layer = 10
	_spot.reparent(_arena)
	probe.node.reparent(_arena)
	layer.free()


func test_freeing_the_mods_node_frees_what_it_created_elsewhere() -> void:
	var probe: ModProbe = await _started()
	if probe == null:
		return
	expect_eq(_call(probe, "find_spot"), 0, "find_spot()")
	expect_eq(_call(probe, "add_to_spot"), 0, "add_to_spot()")
	var sprite := _spot.get_node_or_null("ModSprite")
	expect(sprite != null, "the mod's sprite under the game's Spot")
	probe.node.free()
	await frames(2)
	expect(not is_instance_valid(sprite), "the sprite under the game's node went with the mod's node")
	expect_eq(_spot.get_child_count(), 0, "Spot's children")


## A node freed while a resource loads on a thread (a `load()` from a Thread, or
## `load_threaded_request`): Godot gives the loading thread its own call queue and runs it on that
## thread, so the mod's release, a deferred call, ran there and was lost (the mod outlived its
## node; what it created stayed). It is let go of on the main thread all the same.
func test_a_node_freed_during_a_threaded_resource_load_lets_go_of_its_mod() -> void:
	var probe: ModProbe = await _started()
	if probe == null:
		return
	var live_before: int = WasmEngine.get_stats()["live_scripts"]
	expect_eq(_call(probe, "find_spot"), 0, "find_spot()")
	expect_eq(_call(probe, "add_to_spot"), 0, "add_to_spot()")
	var sprite := _spot.get_node_or_null("ModSprite")
	var node: WasmScript = probe.node
	_arena.remove_child(node)
	var loader_script := GDScript.new()
	loader_script.source_code = """extends ResourceFormatLoader
var victim: Object
func _get_recognized_extensions() -> PackedStringArray:
	return PackedStringArray(["wasgofreeme"])
func _handles_type(type: StringName) -> bool:
	return type == &"Resource"
func _get_resource_type(path: String) -> String:
	return "Resource" if path.ends_with(".wasgofreeme") else ""
func _load(path: String, original_path: String, use_sub_threads: bool, cache_mode: int) -> Variant:
	if victim != null:
		victim.free()
		victim = null
	return Resource.new()
"""
	expect_eq(loader_script.reload(), OK, "the loader's script compiles")
	var loader: ResourceFormatLoader = loader_script.new()
	loader.set("victim", node)
	ResourceLoader.add_resource_format_loader(loader)
	var thread := Thread.new()
	thread.start(func() -> void: ResourceLoader.load("res://tests/nothing.wasgofreeme", "", ResourceLoader.CACHE_MODE_IGNORE))
	thread.wait_to_finish()
	ResourceLoader.remove_resource_format_loader(loader)
	await frames(2)
	expect(not is_instance_valid(node), "the node was freed by the load")
	expect(not is_instance_valid(sprite), "what the mod made went with its node")
	expect_eq(WasmEngine.get_stats()["live_scripts"], live_before - 1, "scripts the frame driver visits")


## Game code may free a node outside the tree on another thread. The node's mod is let go of
## on the main thread at the end of the frame, as when it is freed there: before, its instance
## was dropped on that thread and its entries in the main thread's tables stayed (the frame
## driver listed it for ever, what it created lived on).
func test_freeing_the_mods_node_on_another_thread_frees_what_it_created() -> void:
	var probe: ModProbe = await _started()
	if probe == null:
		return
	var live_before: int = WasmEngine.get_stats()["live_scripts"]
	var instances_before: int = WasmEngine.get_stats()["instances"]
	expect_eq(_call(probe, "find_spot"), 0, "find_spot()")
	expect_eq(_call(probe, "add_to_spot"), 0, "add_to_spot()")
	var sprite := _spot.get_node_or_null("ModSprite")
	expect(sprite != null, "the mod's sprite under the game's Spot")
	var node: WasmScript = probe.node
	_arena.remove_child(node)
	var thread := Thread.new()
	thread.start(func() -> void: node.free())
	thread.wait_to_finish()
	await frames(2)
	expect(not is_instance_valid(sprite), "the sprite under the game's node went with the mod's node")
	expect_eq(_spot.get_child_count(), 0, "Spot's children")
	expect_eq(WasmEngine.get_stats()["live_scripts"], live_before - 1, "scripts the frame driver visits")
	expect_eq(WasmEngine.get_stats()["instances"], instances_before - 1, "live instances")
