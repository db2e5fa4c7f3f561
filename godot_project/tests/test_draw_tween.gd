## Drawing and tweens by mods. A mod's CanvasItem delivers `draw` to the mod, whose `draw_*`
## calls on it are recorded during that callback and replayed inside Godot's draw
## (`drawing.rs`); outside it, or on a node the mod did not create, they are refused with -3.
## `create_tween` gives an owned tween whose `tween_property` target must be held by the mod and
## whose property must be allowlisted (a denied one traps the mod); tweens die with the instance
## (`tweens.rs`). The mod is `mods/tests/create` (Rust, SDK).
##
##   /root/DrawArena (the mod's reach): Game, DrawMod (the WasmScript)
##   /root/DrawOutside
extends "res://tests/lib/wasgo_test.gd"

const LogCounter := preload("res://tests/lib/log_counter.gd")
const CREATE := MODS + "create.wasm"
const NOT_FOUND := -1
const INVALID_ARGUMENT := -3

var _arena: Node2D
var _outside: Node2D
var _game: Node2D


func _node(node_name: String, parent: Node) -> Node2D:
	var node := Node2D.new()
	node.name = node_name
	parent.add_child(node)
	return node


## Thousands of drawing calls in one callback take about the callback budget (50 ms) when the
## mod is interpreted, over it on a loaded machine: the budget is not what the flood tests check.
func _roomy_budget() -> void:
	set_setting("wasgo/limits/callback_budget_ms", 2000)


func _started() -> ModProbe:
	await frames(1)
	_arena = _node("DrawArena", tree.root)
	_outside = _node("DrawOutside", tree.root)
	_game = _node("Game", _arena)
	var probe := new_mod("DrawMod", {"wasm_file": CREATE, "safety_level": 1, "reach": NodePath("..")})
	_arena.add_child(probe.node)
	if not expect_eq(probe.node.start(), OK, "start(): %s" % probe.node.get_last_error()):
		return null
	return probe


func _call(probe: ModProbe, export: String, args := []) -> Variant:
	return probe.node.call_export(export, args)


func cleanup() -> void:
	super.cleanup()
	for node in [_arena, _outside]:
		if is_instance_valid(node):
			node.free()


func test_the_draw_callback_of_an_owned_canvas_item_runs_and_is_replayed() -> void:
	var probe: ModProbe = await _started()
	if probe == null:
		return
	if not expect_eq(_call(probe, "draw_setup"), 0, "draw_setup(): %s" % [probe.outputs]):
		return
	# The first draw delivers the callback; its recording changes the drawing, which redraws
	# the item and delivers the callback again.
	var drawn: bool = await wait_until(func() -> bool: return int(_call(probe, "draws")) >= 2, 5000)
	expect(drawn, "draw callbacks: %s %s" % [_call(probe, "draws"), probe.describe()])
	expect(probe.node.get_node_or_null("Canvas") is Node2D, "the mod's canvas under its node")


## The Rust SDK's typed drawing helpers (`draw_rect`, `draw_circle`, `draw_line`,
## `draw_polyline`, `draw_string` with an embedded font, `draw_texture`) make calls the host takes.
func test_the_sdks_drawing_helpers_draw_on_an_owned_canvas() -> void:
	var probe: ModProbe = await _started()
	if probe == null:
		return
	if not expect_eq(_call(probe, "draw_setup"), 0, "draw_setup(): %s" % [probe.outputs]):
		return
	await wait_until(func() -> bool: return int(_call(probe, "draws")) >= 1, 5000)
	_call(probe, "draw_with_helpers")
	var drew: bool = await wait_until(func() -> bool: return int(_call(probe, "helper_draws")) >= 1, 5000)
	expect(drew, "a draw callback drew with every helper: %s %s" % [probe.outputs, probe.describe()])
	expect(int(_call(probe, "draws")) > 0, "no helper call refused: %s" % [probe.outputs])
	expect_eq(probe.node.get_status(), WasmScript.STATUS_RUNNING, "the mod still runs")


func test_drawing_outside_the_draw_callback_or_on_a_game_node_is_refused() -> void:
	var probe: ModProbe = await _started()
	if probe == null:
		return
	expect_eq(_call(probe, "draw_setup"), 0, "draw_setup()")
	expect_eq(_call(probe, "draw_outside", [0]), INVALID_ARGUMENT, "draw_line on its canvas outside draw")
	expect(probe.has_output("`draw_line` is allowed only on a CanvasItem the mod created, during the `native_callback` of its `draw` signal"), "message: %s" % [probe.outputs])
	expect_eq(_call(probe, "draw_outside", [1]), INVALID_ARGUMENT, "draw_line on the game's node")
	expect_eq(probe.node.get_status(), WasmScript.STATUS_RUNNING, "the mod still runs")


func test_a_draw_callback_past_the_drawing_cap_is_refused() -> void:
	_roomy_budget()
	var probe: ModProbe = await _started()
	if probe == null:
		return
	expect_eq(_call(probe, "draw_setup"), 0, "draw_setup()")
	await wait_until(func() -> bool: return int(_call(probe, "draws")) >= 1, 5000)
	_call(probe, "draw_flood", [5000])
	var refused: bool = await wait_until(func() -> bool: return int(_call(probe, "draws")) == -7, 5000)
	expect(refused, "5000 draw_line calls in one callback: %s" % [probe.outputs])
	expect(probe.has_output("`draw_line` refused: the drawings of one mod's items may together make at most 4096 drawing calls"), "message: %s" % [probe.outputs])
	expect_eq(probe.node.get_status(), WasmScript.STATUS_RUNNING, "the mod still runs")


## The cap is on all of a mod's drawings together (a cap per callback let a mod with a thousand
## items replay a thousand capped drawings at every redraw: 1.5 fps and half a gigabyte); an
## item the game freed no longer counts, and an item's new drawing replaces its own share.
func test_the_drawing_cap_counts_all_of_a_mods_items() -> void:
	_roomy_budget()
	var probe: ModProbe = await _started()
	if probe == null:
		return
	expect_eq(_call(probe, "draw_setup"), 0, "draw_setup() of a first canvas")
	await wait_until(func() -> bool: return int(_call(probe, "draws")) >= 1, 5000)
	var first := probe.node.get_node("Canvas")
	# Every drawing from now on is 3003 calls: the first canvas's fits.
	_call(probe, "draw_keep_flood", [3000])
	var before := int(_call(probe, "draws"))
	await wait_until(func() -> bool: return int(_call(probe, "draws")) > before, 5000)
	await frames(3)
	expect(int(_call(probe, "draws")) > before, "the first canvas drew 3003 calls: %s" % [probe.outputs])
	# A second canvas's 3003 would make 6006 together.
	expect_eq(_call(probe, "draw_setup"), 0, "draw_setup() of a second canvas")
	var refused: bool = await wait_until(func() -> bool: return int(_call(probe, "draws")) == -7, 5000)
	expect(refused, "3003 more calls on the second canvas: %s" % [probe.outputs])
	expect(probe.has_output("may together make at most 4096 drawing calls"), "message: %s" % [probe.outputs])
	# The game frees the first canvas: the second's drawing fits.
	first.free()
	_call(probe, "draw_keep_flood", [3000])
	before = int(_call(probe, "draws"))
	await wait_until(func() -> bool: return int(_call(probe, "draws")) > before, 5000)
	await frames(3)
	expect(int(_call(probe, "draws")) > before, "the second canvas drew 3003 calls once the first was freed: %s" % [probe.outputs])
	expect_eq(probe.node.get_status(), WasmScript.STATUS_RUNNING, "the mod still runs")


## A canvas the game adopts is the game's: the mod's drawing on it stops being replayed and its
## drawing calls there are refused like on any game node (they went on being recorded).
func test_a_canvas_the_game_adopts_is_no_longer_drawn_on_by_the_mod() -> void:
	var probe: ModProbe = await _started()
	if probe == null:
		return
	expect_eq(_call(probe, "draw_setup"), 0, "draw_setup()")
	await wait_until(func() -> bool: return int(_call(probe, "draws")) >= 1, 5000)
	var canvas := probe.node.get_node("Canvas")
	expect(probe.node.adopt(canvas), "adopt() of the mod's canvas")
	expect_eq(canvas.get_signal_connection_list("draw").filter(
		func(c: Dictionary) -> bool: return str(c["callable"]).contains("wasgo_draw_replay")).size(), 0,
		"the replay of the mod's drawing on the adopted canvas")
	_call(probe, "draw_flood", [1])
	var refused: bool = await wait_until(func() -> bool: return int(_call(probe, "draws")) == INVALID_ARGUMENT, 5000)
	expect(refused, "a drawing call on the adopted canvas: %s" % [probe.outputs])
	expect_eq(probe.node.get_status(), WasmScript.STATUS_RUNNING, "the mod still runs")


## A drawing call Godot would refuse is refused when recorded (-3), not replayed with an error
## printed at every redraw.
func test_drawing_calls_with_wrong_arguments_are_refused_when_recorded() -> void:
	for case in [[1, "`draw_line` takes 3 to 5 arguments, not 2"], [2, "`draw_texture`: argument 1 cannot be INT"], [3, "draw_string[10]"],
			[4, "a width has no effect on a filled shape"], [5, "an antialiased outline needs a width"],
			[6, "a polyline needs at least 2 points, not 1"], [7, "an antialiased polyline needs a width"],
			[8, "argument 3 is no colour name"], [9, "the fill alignment (3, HORIZONTAL_ALIGNMENT_FILL) is not drawn for mods"],
			[10, "cover at most 32 million pixels"]]:
		var probe: ModProbe = await _started()
		if probe == null:
			return
		expect_eq(_call(probe, "draw_setup"), 0, "draw_setup()")
		await wait_until(func() -> bool: return int(_call(probe, "draws")) >= 1, 5000)
		var errors := LogCounter.new("", Logger.ERROR_TYPE_ERROR)
		var warnings := LogCounter.new("", Logger.ERROR_TYPE_WARNING)
		OS.add_logger(errors)
		OS.add_logger(warnings)
		_call(probe, "draw_bad", [case[0]])
		# -3 for a call Godot would refuse, -7 past the drawings' bounds (case 10).
		var code := INVALID_ARGUMENT if case[0] != 10 else -7
		var refused: bool = await wait_until(func() -> bool: return int(_call(probe, "draws")) == code, 5000)
		await frames(3)
		OS.remove_logger(errors)
		OS.remove_logger(warnings)
		expect(refused, "bad drawing call %d: %s" % [case[0], probe.outputs])
		expect(probe.has_output(case[1]), "message: %s" % [probe.outputs])
		expect_eq(errors.count(), 0, "errors Godot printed for drawing call %d" % case[0])
		expect_eq(warnings.count(), 0, "warnings Godot printed for drawing call %d" % case[0])
		expect_eq(probe.node.get_status(), WasmScript.STATUS_RUNNING, "the mod still runs")
		cleanup()


## A tween's sub-path into a value animates part of it; into an object it would set a member of
## that object no allowlist check, range or pool saw (`label_settings:font_size` reached 3000,
## past the range 1..512): refused.
func test_a_tween_sub_path_into_an_object_is_refused() -> void:
	var probe: ModProbe = await _started()
	if probe == null:
		return
	expect_eq(_call(probe, "tween_sub", [0]), 0, "tween of position:x: %s" % [probe.outputs])
	expect_eq(_call(probe, "tween_sub", [1]), INVALID_ARGUMENT, "tween of label_settings:font_size")
	expect(probe.has_output("holds an object, and a tween may animate only the target's own values"), "message: %s" % [probe.outputs])
	await frames(5)
	var label := probe.node.get_node("SubLabel") as Label
	expect(label.label_settings.font_size <= 512, "font size after the tweens: %d" % label.label_settings.font_size)
	# Decided by what the property may hold, not by what it holds when the tween is made.
	expect_eq(_call(probe, "tween_sub", [2]), INVALID_ARGUMENT, "tween of label_settings:font_size while the label has none")
	expect_eq(probe.node.get_status(), WasmScript.STATUS_RUNNING, "the mod still runs")


func test_a_tween_on_an_owned_node_and_allowed_property_runs() -> void:
	var probe: ModProbe = await _started()
	if probe == null:
		return
	if not expect_eq(_call(probe, "tween", [0, 0]), 0, "tween(position): %s" % [probe.outputs]):
		return
	var tweened := probe.node.get_node("Tweened") as Node2D
	var done: bool = await wait_until(func() -> bool: return tweened.position.x == 100.0, 5000)
	expect(done, "the tween moved the mod's node: %s" % tweened.position)


## Godot refuses a global transform on a node outside the tree with an error at every step of
## the tween, outside every mod call (and its log limit): a mod's tween animates the local one.
## The PropertyTweener a mod's own tween gives back is the mod's to shape (the allowlist opens
## `set_delay`, `from`, `as_relative`, ...): it was refused as "the game's resource", as any
## ref-counted object the mod had not made. An object start value stays refused.
func test_a_mods_property_tweener_takes_its_options() -> void:
	var probe: ModProbe = await _started()
	if probe == null:
		return
	for kind in 5:
		expect_eq(_call(probe, "tweener_option", [kind]), 0, "tweener option %d: %s" % [kind, probe.outputs])
	expect_eq(_call(probe, "tweener_option", [5]), INVALID_ARGUMENT, "from(an object)")
	expect_eq(probe.node.get_status(), WasmScript.STATUS_RUNNING, "the mod still runs")


func test_a_tween_of_a_global_transform_is_refused() -> void:
	var probe: ModProbe = await _started()
	if probe == null:
		return
	expect_eq(_call(probe, "tween", [0, 3]), -3, "tween(global_position)")
	expect(probe.has_output("animate its local twin (`position`)"), "message: %s" % [probe.outputs])
	expect_eq(probe.node.get_status(), WasmScript.STATUS_RUNNING, "the mod still runs")


func test_a_tween_on_a_denied_property_traps_the_mod() -> void:
	var probe: ModProbe = await _started()
	if probe == null:
		return
	_call(probe, "tween", [0, 1])
	expect_eq(probe.node.get_status(), WasmScript.STATUS_TRAPPED, "status after tweening `script`")
	await wait_until(func() -> bool: return not probe.traps.is_empty(), 2000)
	expect(probe.traps.size() == 1 and probe.traps[0].contains("`Node2D.script`, which is not exposed at safety level 1"), "trap: %s" % [probe.traps])
	var other := new_mod("DrawMod2", {"wasm_file": CREATE, "safety_level": 1, "reach": NodePath("..")})
	_arena.add_child(other.node)
	expect_eq(other.node.start(), OK, "a second mod starts")
	other.node.call_export("tween", [0, 2])
	expect_eq(other.node.get_status(), WasmScript.STATUS_TRAPPED, "status after tweening `process_mode`")
	await expect_frames_go_on("after tweens on denied properties")


func test_a_tween_on_an_object_outside_reach_is_refused() -> void:
	var probe: ModProbe = await _started()
	if probe == null:
		return
	expect_eq(_call(probe, "find_game"), 0, "find_game()")
	_arena.remove_child(_game)
	_outside.add_child(_game)
	expect_eq(_call(probe, "tween", [1, 0]), NOT_FOUND, "tween on a node moved out of reach")
	await frames(3)
	expect_eq(_game.position, Vector2.ZERO, "the node outside reach did not move")


## Reach is checked when a tween is made; a tween of a game node the game then moves out of
## the mod's reach is killed at the next frame (it went on animating the node to the end).
func test_a_tween_of_a_node_the_game_moves_out_of_reach_stops() -> void:
	var probe: ModProbe = await _started()
	if probe == null:
		return
	expect_eq(_call(probe, "find_game"), 0, "find_game()")
	expect_eq(_call(probe, "tween", [1, 0]), 0, "tween on the game's node in reach: %s" % [probe.outputs])
	_arena.remove_child(_game)
	_outside.add_child(_game)
	# The tween takes 0.05 s: well past its end.
	await tree.create_timer(0.3).timeout
	expect(_game.position.x < 100.0, "the node moved out of reach was tweened to its end: %s" % _game.position)
	expect_eq(probe.node.get_status(), WasmScript.STATUS_RUNNING, "the mod still runs")


## The mod's own Node2D `Tweened`, which a tween of the started mod `probe` moves to (100, 0)
## over 1 s (null when the mod did not start or the tween was refused).
func _tweened_own_node(probe: ModProbe) -> Node2D:
	if probe == null:
		return null
	expect_eq(_call(probe, "tweener_option", [3]), 0, "tween on the mod's own node: %s" % [probe.outputs])
	var tweened := probe.node.get_node_or_null("Tweened") as Node2D
	expect(tweened != null, "the mod's node `Tweened`")
	return tweened


## A tween of the mod's own node is judged as one of a game node's once the game adopts the
## node: moved out of the mod's reach, it stops (it went on moving the node the game had taken).
func test_a_tween_of_a_node_the_game_adopts_and_moves_out_of_reach_stops() -> void:
	var probe: ModProbe = await _started()
	var tweened := _tweened_own_node(probe)
	if tweened == null:
		return
	expect(probe.node.adopt(tweened), "adopt()")
	probe.node.remove_child(tweened)
	_outside.add_child(tweened)
	# Past the tween's end.
	await tree.create_timer(1.3).timeout
	expect(tweened.position.x < 100.0, "the adopted node moved out of reach was tweened to its end: %s" % tweened.position)
	expect_eq(probe.node.get_status(), WasmScript.STATUS_RUNNING, "the mod still runs")


## The same when the game moves the mod's node out of reach first and adopts it a frame later,
## with nothing in the tree changing after: the tween stops at the frame after the adoption.
func test_a_tween_of_a_node_the_game_moves_out_of_reach_then_adopts_stops() -> void:
	var probe: ModProbe = await _started()
	var tweened := _tweened_own_node(probe)
	if tweened == null:
		return
	probe.node.remove_child(tweened)
	_outside.add_child(tweened)
	await frames(2)
	expect(probe.node.adopt(tweened), "adopt()")
	await tree.create_timer(1.3).timeout
	expect(tweened.position.x < 100.0, "the node adopted out of reach was tweened to its end: %s" % tweened.position)


func test_tweens_die_with_the_instance() -> void:
	var probe: ModProbe = await _started()
	if probe == null:
		return
	expect_eq(_call(probe, "find_game"), 0, "find_game()")
	expect_eq(_call(probe, "tween", [1, 0]), 0, "tween on the game's node in reach: %s" % [probe.outputs])
	probe.node.kill()
	await frames(5)
	expect_eq(_game.position, Vector2.ZERO, "the tween was killed with the instance")


## A new object's own values count against a range's per-mod total: a GradientTexture1D is 256
## wide before any `set`, so 64 of them are the 16,384 a mod may have (a thousand were 16 times
## that, each rebuilt whenever its Gradient changed).
func test_a_new_objects_own_values_count_against_the_totals() -> void:
	var probe: ModProbe = await _started()
	if probe == null:
		return
	expect_eq(_call(probe, "gradient_textures", [64]), 64, "64 textures of 256: %s" % [probe.outputs])
	expect_eq(_call(probe, "gradient_textures", [1]), INVALID_ARGUMENT, "the 65th")
	expect(probe.has_output("over the 16384"), "the refusal names the total: %s" % [probe.outputs])


## A tween a mod makes and gives no tweener is killed before Godot steps it: Godot logged "started
## with no Tweeners" for each, outside every mod call, where the mod's log budget saw nothing (a
## thousand a frame wrote 60,000 error lines a second). A tween given a tweener runs.
func test_a_mods_empty_tweens_are_killed_before_godot_logs_them() -> void:
	var probe: ModProbe = await _started()
	if probe == null:
		return
	var logger := preload("res://tests/lib/log_counter.gd").new("Tweeners")
	OS.add_logger(logger)
	for i in 3:
		expect_eq(_call(probe, "empty_tweens", [50]), 50, "fifty empty tweens: %s" % [probe.outputs])
		await frames(1)
	await frames(2)
	OS.remove_logger(logger)
	expect_eq(logger.count(), 0, "errors Godot logged about tweens with no tweeners")
	expect_eq(_call(probe, "looping_tweens", [1, 1000.0]), 1, "a tween given a tweener: %s" % [probe.outputs])
	await frames(3)
	expect_eq(probe.node.get_owned_objects().filter(func(o: Object) -> bool: return o is Tween and o.is_valid()).size(), 1, "the tween with a tweener runs")


## A mod's looping tweens are bounded together, not only one by one: 20,000 tweener steps a
## second of game time at most (twenty tweens looping every millisecond); one more is refused
## and killed (a thousand of them froze the game, each slow frame making the next one slower).
func test_a_mods_looping_tweens_are_bounded_together() -> void:
	var probe: ModProbe = await _started()
	if probe == null:
		return
	expect_eq(_call(probe, "looping_tweens", [10, 1000.0]), 10, "ten tweens looping every second: %s" % [probe.outputs])
	expect_eq(_call(probe, "looping_tweens", [19, 1.0]), 19, "nineteen looping every millisecond: %s" % [probe.outputs])
	expect_eq(_call(probe, "looping_tweens", [1, 1.0]), INVALID_ARGUMENT, "a twentieth (20,010 steps a second)")
	expect(probe.has_output("20000 tweener steps per second"), "the refusal: %s" % [probe.outputs])
	await frames(3)
	expect_eq(probe.node.get_status(), WasmScript.STATUS_RUNNING, "the mod runs on")


## Six started mods of the drawing test module, side by side under the arena (empty when one
## does not start).
func _six_mods() -> Array[ModProbe]:
	var probe: ModProbe = await _started()
	if probe == null:
		return []
	var probes: Array[ModProbe] = [probe]
	for i in 5:
		var more := new_mod("DrawMod%d" % i, {"wasm_file": CREATE, "safety_level": 1, "reach": NodePath("..")})
		_arena.add_child(more.node)
		if not expect_eq(more.node.start(), OK, "start() of node %d" % i):
			return []
		probes.append(more)
	return probes


## All mods' looping tweens together are bounded too: the bound was per instance, so six nodes
## of one mod ran 114,000 steps a second (fifty, a million: as many as froze the game).
func test_all_mods_looping_tweens_are_bounded_together() -> void:
	var probes := await _six_mods()
	if probes.is_empty():
		return
	for i in 5:
		expect_eq(_call(probes[i], "looping_tweens", [19, 1.0]), 19, "node %d: nineteen tweens looping every millisecond" % i)
	expect_eq(_call(probes[5], "looping_tweens", [19, 1.0]), INVALID_ARGUMENT, "the sixth node's (past 100,000 steps a second in all)")
	expect(probes[5].has_output("all mods' looping tweens may together run at most 100000"), "the refusal: %s" % [probes[5].outputs])
	for p in probes:
		expect_eq(p.node.get_status(), WasmScript.STATUS_RUNNING, "the mods run on")
		p.node.kill()


## The bound for all mods together counts a mod whose call is running up the stack: game code
## its call ran (a handler of a signal its `add_child` emitted) calling another mod, which made
## looping tweens then. The busy mod's tweens counted as none, and a chain of mods calling each
## other through the game passed the bound.
func test_all_mods_looping_tweens_count_a_mod_whose_call_runs() -> void:
	var probes := await _six_mods()
	if probes.is_empty():
		return
	for i in 5:
		expect_eq(_call(probes[i], "looping_tweens", [19, 1.0]), 19, "node %d: nineteen tweens looping every millisecond" % i)
	var nested := []
	probes[0].node.child_entered_tree.connect(func(_child: Node) -> void:
		nested.append(_call(probes[5], "looping_tweens", [19, 1.0])), CONNECT_ONE_SHOT)
	# `tween_sub` adds the mod's `SubLabel` under its node: the handler runs inside that call.
	_call(probes[0], "tween_sub", [0])
	expect_eq(nested, [INVALID_ARGUMENT], "the sixth node's tweens, made while the first node's call runs")
	expect(probes[5].has_output("all mods' looping tweens may together run at most 100000"), "the refusal: %s" % [probes[5].outputs])
	for p in probes:
		p.node.kill()


## A tween that ended (killed, or done) counts against the object cap while a handle the mod
## keeps holds it, as a released resource does: `create_tween` + `kill` with the handles kept
## pinned any number of tweens.
func test_an_ended_tween_the_mod_still_holds_counts_against_the_cap() -> void:
	set_setting("wasgo/limits/max_objects_per_mod", 8)
	var probe: ModProbe = await _started()
	if probe == null:
		return
	var objects_before := Performance.get_monitor(Performance.OBJECT_COUNT)
	expect_eq(_call(probe, "killed_tweens_kept", [8]), 8, "eight tweens within the cap: %s" % [probe.outputs])
	await frames(2)
	expect_eq(_call(probe, "killed_tweens_kept", [100]), -7, "a ninth tween while eight ended ones are held")
	expect(Performance.get_monitor(Performance.OBJECT_COUNT) - objects_before < 20, "objects the mod pinned")


## A tween whose handle the mod released is still the mod's: counted against the object cap and
## killed with the instance (released, it escaped both: 20,000 looping tweens ran on after a kill).
func test_a_released_tween_stays_owned_counted_and_dies_with_the_instance() -> void:
	set_setting("wasgo/limits/max_objects_per_mod", 8)
	var probe: ModProbe = await _started()
	if probe == null:
		return
	expect_eq(_call(probe, "find_game"), 0, "find_game()")
	expect_eq(_call(probe, "dropped_tweens", [20]), -7, "the ninth tween past a cap of 8, the first eight released")
	expect_eq(probe.node.get_owned_objects().size(), 8, "owned objects (the released tweens)")
	probe.node.kill()
	await frames(3)
	var stopped := _game.position
	await frames(5)
	expect_eq(_game.position, stopped, "the released tweens were killed with the instance")
