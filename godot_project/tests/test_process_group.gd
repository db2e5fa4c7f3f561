## The batched frame path: a `WasmScript` with `process_group` set calls its mod's
## `process_node(node, delta)` for every node of that group each frame, in one entry, with the
## handles `get_node` gives; nodes outside reach are skipped, freed nodes are never handed out,
## membership is read each frame, the script's processing state, the frame budget (the pass
## resumes where it stopped) and the callback budget apply. The mod is `mods/tests/group_probe`.
##
## The tree each test builds:
##   /root/GroupScene (Node2D)
##     A, B, C (Node2D, in the test's group)
##     Probe (the WasmScript, reach "..")
##   /root/GroupOutside (Node2D, in the group, outside the mod's reach)
extends "res://tests/lib/wasgo_test.gd"

const LogCounter := preload("res://tests/lib/log_counter.gd")

const PROBE := "res://tests/mods/group_probe.wasm"
const FRAME_BUDGET := "wasgo/limits/frame_budget_ms"
const CALLBACK_BUDGET := "wasgo/limits/callback_budget_ms"
## A mod with `process` (counting frames) and neither `process_node` nor `physics_process_node`.
const COUNTER_WAT := """(module
  (global $frames (mut i32) (i32.const 0))
  (func (export "process") (param f64) (global.set $frames (i32.add (global.get $frames) (i32.const 1))))
  (func (export "frames") (result i32) (global.get $frames)))"""

var _made: Array[Node] = []
var _scene: Node2D
var _nodes_by_name := {}
var _group := ""
var _visits: Array = []     # [handle, frame] per call of `group_test.visit`
var _on_visit := Callable()
var _logger: LogCounter


func cleanup() -> void:
	# The visit hooks capture this test: dropped, or the cycle would leak it.
	_on_visit = Callable()
	super()
	for node in _made:
		if is_instance_valid(node):
			node.free()
	_made.clear()
	if _logger != null:
		OS.remove_logger(_logger)
		_logger = null


## Builds the tree with `names` in the group (plus GroupOutside, outside reach) and the probe
## mod with `args` (its mode; then the paths of the group's nodes, for `looked(i)`); registers
## the game function `group_test.visit` the mod imports.
func _build(mode: String, names: Array = ["A", "B", "C"]) -> ModProbe:
	await frames(1)
	_register_visit()
	_group = "wasgo_test_group_%d" % Time.get_ticks_usec()
	_scene = Node2D.new()
	_scene.name = "GroupScene"
	tree.root.add_child(_scene)
	_made.append(_scene)
	var args := PackedStringArray([mode])
	for node_name: String in names:
		_nodes_by_name[node_name] = _group_node(node_name, _scene)
		args.append("../" + node_name)
	var outside := _group_node("GroupOutside", tree.root)
	_made.append(outside)
	var probe := new_mod("Probe", {"wasm_file": PROBE, "args": args, "reach": NodePath(".."), "process_group": StringName(_group)})
	_scene.add_child(probe.node)
	return probe


func _group_node(node_name: String, parent: Node) -> Node2D:
	var node := Node2D.new()
	node.name = node_name
	parent.add_child(node)
	node.add_to_group(_group)
	_nodes_by_name[node_name] = node
	return node


func _export(probe: ModProbe, name: String, args: Array = []) -> int:
	return probe.node.call_export(name, args)


func _looked(probe: ModProbe, i: int) -> int:
	return _export(probe, "looked", [i])


func _visit(handle: int) -> void:
	_visits.append([handle, Engine.get_process_frames()])
	if _on_visit.is_valid():
		_on_visit.call(handle)


func _register_visit() -> bool:
	var error := register_game_function("group_test", "visit", _visit,
		PackedStringArray(["i32"]), PackedStringArray([]), 1)
	return expect_eq(error, OK, "register_function(\"group_test\", \"visit\", ...)")


# --- moving the group --------------------------------------------------------------------------

func test_process_node_moves_every_reachable_group_node_with_the_handles_get_node_gives() -> void:
	var probe: ModProbe = await _build("move")
	if not expect_eq(start(probe), OK, "start(): %s" % probe.node.get_last_error()):
		return
	var moved: bool = await wait_until(func() -> bool: return _nodes_by_name["C"].position.x >= 3.0)
	expect(moved, "C was not moved three times: %s" % probe.describe())
	for i in 3:
		var node: Node2D = _nodes_by_name[["A", "B", "C"][i]]
		var handle := _looked(probe, i)
		expect(handle > 0, "get_node(\"../%s\") gave a handle" % node.name)
		# The position the mod set is its count of calls for that handle.
		expect_eq(node.position.x, float(_export(probe, "calls_for", [handle])),
			"%s's position is the count of process_node calls with get_node's handle" % node.name)
	await frames(3)
	expect_eq(_export(probe, "seen_count"), 3, "distinct handles after more frames (the same every frame)")
	var seen := []
	for i in 3:
		seen.append(_export(probe, "seen", [i]))
	var looked := [_looked(probe, 0), _looked(probe, 1), _looked(probe, 2)]
	seen.sort()
	looked.sort()
	expect_eq(seen, looked, "the handles passed are the ones get_node gives")
	expect_eq(_nodes_by_name["GroupOutside"].position, Vector2.ZERO, "the node outside reach was not moved")
	expect_eq(_export(probe, "pass_calls"), 3, "calls in one frame's pass (the outside node skipped)")
	var physics: bool = await wait_until(func() -> bool: return _export(probe, "physics_calls") >= 3)
	expect(physics, "physics_process_node ran for the group in the physics frames")
	expect_eq(probe.node.get_last_error(), "", "no error")
	expect(probe.traps.is_empty(), "no trap: %s" % probe.describe())


func test_group_membership_and_nodes_freed_by_the_game_are_read_every_frame() -> void:
	var probe: ModProbe = await _build("move", ["A", "B"])
	if not expect_eq(start(probe), OK, "start()"):
		return
	await wait_until(func() -> bool: return _nodes_by_name["B"].position.x >= 2.0)
	var a: Node2D = _nodes_by_name["A"]
	a.remove_from_group(_group)
	var a_x := a.position.x
	_nodes_by_name["B"].free()
	var c := _group_node("C", _scene)
	var c_moved: bool = await wait_until(func() -> bool: return c.position.x >= 2.0)
	expect(c_moved, "a node added to the group is moved from the next frame: %s" % probe.describe())
	expect_eq(a.position.x, a_x, "a node removed from the group is no longer moved")
	expect_eq(_export(probe, "pass_calls"), 1, "one node (C) in each pass now")
	expect_eq(_export(probe, "seen_count"), 3, "handles seen: A, B, C")
	expect(probe.traps.is_empty() and probe.node.get_last_error() == "", "no trap or error: %s" % probe.describe())


func test_a_paused_or_non_processing_script_runs_no_pass() -> void:
	var probe: ModProbe = await _build("move", ["A"])
	if not expect_eq(start(probe), OK, "start()"):
		return
	var a: Node2D = _nodes_by_name["A"]
	await wait_until(func() -> bool: return a.position.x >= 1.0)
	probe.node.set_process(false)
	var x := a.position.x
	await frames(3)
	expect_eq(a.position.x, x, "no pass while the script's processing is off")
	probe.node.set_process(true)
	await frames(2)
	expect(a.position.x > x, "passes again once processing is back on")
	tree.paused = true
	x = a.position.x
	await frames(3)
	tree.paused = false
	expect_eq(a.position.x, x, "no pass while the tree is paused")
	await frames(2)
	expect(a.position.x > x, "passes again after the pause")
	probe.node.process_group = StringName()
	await frames(1)
	x = a.position.x
	await frames(2)
	expect_eq(a.position.x, x, "no pass once process_group is cleared")


# --- freeing, killing, hostile calls -----------------------------------------------------------

func test_nodes_freed_during_the_pass_are_never_handed_out() -> void:
	var probe: ModProbe = await _build("visit")
	var handles := {}
	# The first visit frees every other group node, in the middle of the pass.
	_on_visit = func(handle: int) -> void:
		if _visits.size() == 1:
			for node_name: String in ["A", "B", "C"]:
				var node: Node = _nodes_by_name[node_name]
				if handles[node_name] != handle and is_instance_valid(node):
					node.free()
	if not expect_eq(start(probe), OK, "start()"):
		return
	for i in 3:
		handles[["A", "B", "C"][i]] = _looked(probe, i)
	await wait_until(func() -> bool: return _visits.size() >= 3)
	var first: int = _visits[0][0]
	for visit: Array in _visits:
		expect_eq(visit[0], first, "only the node left is visited, never a freed one")
	expect_eq(probe.node.get_last_error(), "", "no error")
	expect(probe.traps.is_empty(), "no trap: %s" % probe.describe())


func test_freeing_the_script_during_its_pass_stops_the_pass() -> void:
	var probe: ModProbe = await _build("visit")
	var script_node := probe.node
	_on_visit = func(_handle: int) -> void:
		if is_instance_valid(script_node):
			script_node.free()
	if not expect_eq(start(probe), OK, "start()"):
		return
	await frames(4)
	expect_eq(_visits.size(), 1, "no node visited after the script was freed in the first call")
	expect(not is_instance_valid(script_node), "the script is gone")
	await expect_frames_go_on("script freed during its pass")


func test_kill_during_the_pass_stops_it_before_the_next_node() -> void:
	var probe: ModProbe = await _build("visit")
	_on_visit = func(_handle: int) -> void:
		probe.node.kill()
	if not expect_eq(start(probe), OK, "start()"):
		return
	await wait_until(func() -> bool: return not probe.kills.is_empty())
	await frames(2)
	expect_eq(_visits.size(), 1, "visits: the kill in the first call ends the pass")
	expect_eq(probe.kills.size(), 1, "killed once: %s" % probe.describe())
	expect_eq(probe.node.get_status(), WasmScript.STATUS_KILLED, "status")


func test_a_spinning_process_node_is_stopped_at_the_callback_budget_and_the_game_goes_on() -> void:
	set_setting(CALLBACK_BUDGET, 20)
	var probe: ModProbe = await _build("spin")
	if not expect_eq(start(probe), OK, "start()"):
		return
	var trapped: bool = await wait_until(func() -> bool: return not probe.traps.is_empty(), 10000)
	if expect(trapped, "a spinning process_node did not trap: %s" % probe.describe()):
		expect_contains(probe.traps[0].to_lower(), "budget", "trap message")
		expect_eq(probe.node.get_status(), WasmScript.STATUS_TRAPPED, "status after the trap")
	await expect_frames_go_on("spinning process_node")
	expect_eq(probe.traps.size(), 1, "traps after more frames (no pass once trapped)")


# --- budgets and configuration -----------------------------------------------------------------

func test_a_pass_over_the_frame_budget_resumes_next_frame_where_it_stopped() -> void:
	set_setting(FRAME_BUDGET, 1)
	var probe: ModProbe = await _build("visit")
	# Each visit takes longer than the whole frame budget: one node per frame.
	_on_visit = func(_handle: int) -> void:
		OS.delay_usec(2500)
	if not expect_eq(start(probe), OK, "start()"):
		return
	var six: bool = await wait_until(func() -> bool: return _visits.size() >= 6)
	if not expect(six, "six visits: %s" % [_visits]):
		return
	var frames_seen := {}
	for visit: Array in _visits.slice(0, 6):
		frames_seen[visit[1]] = true
	expect_eq(frames_seen.size(), 6, "each visit in a frame of its own: %s" % [_visits])
	var order := _visits.slice(0, 3).map(func(v: Array) -> int: return v[0])
	var unique := {}
	for handle: int in order:
		unique[handle] = true
	expect_eq(unique.size(), 3, "the first three frames visit the three nodes in turn: %s" % [_visits])
	for i in range(3, 6):
		expect_eq(_visits[i][0], order[i - 3], "the next round goes on in the same order (visit %d)" % i)


func test_a_group_on_a_mod_without_process_node_warns_once_and_process_still_runs() -> void:
	await frames(1)
	_logger = LogCounter.new("process_node", Logger.ERROR_TYPE_WARNING)
	OS.add_logger(_logger)
	var module := WasmEngine.compile_module(COUNTER_WAT.to_utf8_buffer(), "process_only")
	if not expect(module != null, "compile: %s" % WasmEngine.get_last_error()):
		return
	var parent := Node2D.new()
	tree.root.add_child(parent)
	_made.append(parent)
	parent.add_to_group("wasgo_test_group_unused")
	var probe := new_mod("NoProcessNode", {"module": module, "reach": NodePath(".."), "process_group": &"wasgo_test_group_unused"})
	parent.add_child(probe.node)
	if not expect_eq(start(probe), OK, "start()"):
		return
	await frames(5)
	expect_eq(_logger.count(), 1, "warnings naming process_node over five frames")
	expect_contains(probe.node.get_last_error(), "process_node", "get_last_error names the export")
	expect_contains(probe.node.get_last_error(), "process_group", "and the property")
	expect(probe.node.call_export("frames", []) >= 4, "the mod's own process still runs every frame")
	expect_contains("\n".join(probe.node.get_setup_warnings()), "process_node",
		"the node's configuration warnings name the missing export")
