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

## The per-node form written to release a handle mid-pass (against the ABI's advice): each
## `process_node` moves its node to (frames, 0) with `set_vec2` and counts the calls whose
## `set_vec2` failed; it remembers the handle of each pass's second node, and after
## `release_second()` its next pass's first call releases that handle, so the second node's
## call comes after its handle was released.
const RELEASE_WAT := """(module
  (import "wasgo" "set_vec2" (func $set_vec2 (param i32 i32 i32 f32 f32) (result i32)))
  (import "wasgo" "release" (func $release (param i32)))
  (memory (export "memory") 1)
  (data (i32.const 16) "position")
  (global $frames (mut i32) (i32.const 0))
  (global $index (mut i32) (i32.const 0))
  (global $second (mut i32) (i32.const 0))
  (global $armed (mut i32) (i32.const 0))
  (global $released (mut i32) (i32.const 0))
  (global $failed (mut i32) (i32.const 0))
  (func (export "release_second") (global.set $armed (i32.const 1)))
  (func (export "released") (result i32) (global.get $released))
  (func (export "failed") (result i32) (global.get $failed))
  (func (export "frames") (result i32) (global.get $frames))
  (func (export "process") (param f64)
    (global.set $frames (i32.add (global.get $frames) (i32.const 1)))
    (global.set $index (i32.const 0)))
  (func (export "process_node") (param $node i32) (param f64)
    (if (i32.and (i32.eqz (global.get $index)) (i32.ne (global.get $armed) (i32.const 0)))
      (then
        (call $release (global.get $second))
        (global.set $released (global.get $second))
        (global.set $armed (i32.const 0))))
    (if (i32.eq (global.get $index) (i32.const 1)) (then (global.set $second (local.get $node))))
    (global.set $index (i32.add (global.get $index) (i32.const 1)))
    (if (i32.ne (call $set_vec2 (local.get $node) (i32.const 16) (i32.const 8)
          (f32.convert_i32_s (global.get $frames)) (f32.const 0)) (i32.const 0))
      (then (global.set $failed (i32.add (global.get $failed) (i32.const 1)))))))"""

## The bulk form (`process_nodes`, ABI 1.3): each batch's handles are moved to (frames, index
## in the batch) with `set_vec2`; the mod counts calls and handles per pass (`process` resets
## them), `process_node` calls (never made: the bulk form wins), handles of the physics pass.
## `malloc` is a bump allocator that `free` resets (one buffer lives at a time). After
## `visit_each()` it calls the game's `group_test.visit(handle)` before moving each node;
## `release_first()` releases the handle the last pass handed over first (against the ABI's
## advice: the next pass must still hand over a working handle for that node).
const BULK_WAT := """(module
  (import "wasgo" "set_vec2" (func $set_vec2 (param i32 i32 i32 f32 f32) (result i32)))
  (import "wasgo" "release" (func $release (param i32)))
  (import "group_test" "visit" (func $visit (param i32)))
  (memory (export "memory") 1)
  (data (i32.const 16) "position")
  (global $frames (mut i32) (i32.const 0))
  (global $pass_calls (mut i32) (i32.const 0))
  (global $pass_handed (mut i32) (i32.const 0))
  (global $largest (mut i32) (i32.const 0))
  (global $single (mut i32) (i32.const 0))
  (global $physics (mut i32) (i32.const 0))
  (global $next (mut i32) (i32.const 4096))
  (global $first (mut i32) (i32.const 0))
  (global $visiting (mut i32) (i32.const 0))
  (func (export "release_first") (call $release (global.get $first)))
  (func (export "visit_each") (global.set $visiting (i32.const 1)))
  (func (export "first") (result i32) (global.get $first))
  (func (export "malloc") (param i32 i32) (result i32) (local $p i32)
    (local.set $p (global.get $next))
    (global.set $next (i32.add (global.get $next) (local.get 0)))
    (local.get $p))
  (func (export "free") (param i32 i32 i32) (global.set $next (i32.const 4096)))
  (func (export "process") (param f64)
    (global.set $frames (i32.add (global.get $frames) (i32.const 1)))
    (global.set $pass_calls (i32.const 0))
    (global.set $pass_handed (i32.const 0)))
  (func (export "process_nodes") (param $ptr i32) (param $n i32) (param f64) (local $i i32)
    (global.set $pass_calls (i32.add (global.get $pass_calls) (i32.const 1)))
    (if (i32.gt_s (local.get $n) (global.get $largest)) (then (global.set $largest (local.get $n))))
    (if (i32.gt_s (local.get $n) (i32.const 0)) (then (global.set $first (i32.load (local.get $ptr)))))
    (block $done (loop $each
      (br_if $done (i32.ge_s (local.get $i) (local.get $n)))
      (if (global.get $visiting) (then (call $visit
        (i32.load (i32.add (local.get $ptr) (i32.shl (local.get $i) (i32.const 2)))))))
      (drop (call $set_vec2
        (i32.load (i32.add (local.get $ptr) (i32.shl (local.get $i) (i32.const 2))))
        (i32.const 16) (i32.const 8)
        (f32.convert_i32_s (global.get $frames)) (f32.convert_i32_s (local.get $i))))
      (global.set $pass_handed (i32.add (global.get $pass_handed) (i32.const 1)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $each))))
  (func (export "process_node") (param i32 f64)
    (global.set $single (i32.add (global.get $single) (i32.const 1))))
  (func (export "physics_process_nodes") (param i32 i32 f64)
    (global.set $physics (i32.add (global.get $physics) (local.get 1))))
  (func (export "frames") (result i32) (global.get $frames))
  (func (export "pass_calls") (result i32) (global.get $pass_calls))
  (func (export "pass_handed") (result i32) (global.get $pass_handed))
  (func (export "largest") (result i32) (global.get $largest))
  (func (export "single_calls") (result i32) (global.get $single))
  (func (export "physics_handed") (result i32) (global.get $physics)))"""

var _made: Array[Node] = []
var _scene: Node2D
var _nodes_by_name := {}
var _group := ""
var _visits: Array = []     # [handle, frame] per call of `group_test.visit`
var _on_visit := Callable()
var _logger: LogCounter
var _delayed_frame := -1


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


func test_a_handle_the_mod_releases_during_its_pass_is_not_handed_out_again() -> void:
	# The pass hands over the handles it resolved last frame while nothing changed; a release
	# in the middle of the pass must make it look the later nodes up again.
	var probe: ModProbe = await _build_bulk(RELEASE_WAT, 3)
	if probe == null or not expect_eq(start(probe), OK, "start(): %s" % probe.node.get_last_error()):
		return
	var n2: Node2D = _nodes_by_name["N2"]
	await wait_until(func() -> bool: return n2.position.x >= 2.0)
	expect_eq(_export(probe, "failed"), 0, "every set_vec2 worked before the release")
	probe.node.call_export("release_second", [])
	var released: bool = await wait_until(func() -> bool: return _export(probe, "released") != 0)
	expect(released, "the mod released the second node's handle in a pass: %s" % probe.describe())
	await frames(2)
	expect_eq(_export(probe, "failed"), 0,
		"no call got the released handle (set_vec2 on it would fail): %s" % probe.describe())
	var frames_now := _export(probe, "frames")
	for i in 3:
		var node: Node2D = _nodes_by_name["N%d" % i]
		expect_eq(node.position.x, float(frames_now), "%s moved in this frame's pass" % node.name)
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


## Game code a pass runs sets another `process_group`: the next pass starts at that group's first
## node, as `set_process_group` says (the pass in progress wrote its own place back over it).
func test_a_group_set_during_a_pass_starts_at_its_first_node() -> void:
	set_setting(FRAME_BUDGET, 1)
	var probe: ModProbe = await _build("visit")
	var other := _group + "_other"
	for node_name: String in ["A", "B", "C"]:
		_nodes_by_name[node_name].add_to_group(other)
	# Each visit takes longer than the whole frame budget: one node per frame. The first one
	# moves the mod to the other group (the same nodes, in the same order).
	_on_visit = func(_handle: int) -> void:
		OS.delay_usec(2500)
		if _visits.size() == 1:
			probe.node.process_group = StringName(other)
	if not expect_eq(start(probe), OK, "start()"):
		return
	var two: bool = await wait_until(func() -> bool: return _visits.size() >= 2)
	if expect(two, "two visits: %s" % [_visits]):
		expect_eq(_visits[1][0], _visits[0][0], "the other group's pass starts at its first node: %s" % [_visits])


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


# --- the bulk form: process_nodes ---------------------------------------------------------------

## The tree of `_build` with `count` group nodes (N0, N1, ...) and the bulk mod from `wat`.
func _build_bulk(wat: String, count: int) -> ModProbe:
	await frames(1)
	_register_visit()
	_group = "wasgo_test_bulk_%d" % Time.get_ticks_usec()
	_scene = Node2D.new()
	_scene.name = "GroupScene"
	tree.root.add_child(_scene)
	_made.append(_scene)
	for i in count:
		_group_node("N%d" % i, _scene)
	var outside := _group_node("GroupOutside", tree.root)
	_made.append(outside)
	var module := WasmEngine.compile_module(wat.to_utf8_buffer(), "bulk")
	if not expect(module != null, "compile: %s" % WasmEngine.get_last_error()):
		return null
	var probe := new_mod("Bulk", {"module": module, "reach": NodePath(".."), "process_group": StringName(_group)})
	_scene.add_child(probe.node)
	return probe


func test_process_nodes_gets_every_reachable_group_node_in_one_call_and_wins_over_process_node() -> void:
	var probe: ModProbe = await _build_bulk(BULK_WAT, 3)
	if probe == null or not expect_eq(start(probe), OK, "start(): %s" % probe.node.get_last_error()):
		return
	var moved: bool = await wait_until(func() -> bool: return _nodes_by_name["N2"].position.x >= 3.0)
	expect(moved, "N2 was not moved three times: %s" % probe.describe())
	await frames(2)
	var frames_now := _export(probe, "frames")
	var ys := {}
	for i in 3:
		var node: Node2D = _nodes_by_name["N%d" % i]
		# The mod's `process` ran before the pass of the same frame, which set x to its count.
		expect_eq(node.position.x, float(frames_now), "%s moved in this frame's pass" % node.name)
		ys[node.position.y] = true
	expect_eq(ys.size(), 3, "each node at its own index in the batch: %s" % [ys.keys()])
	expect_eq(_nodes_by_name["GroupOutside"].position, Vector2.ZERO, "the node outside reach was not handed over")
	expect_eq(_export(probe, "pass_calls"), 1, "one call for the whole group")
	expect_eq(_export(probe, "pass_handed"), 3, "three handles (the outside node skipped)")
	expect_eq(_export(probe, "single_calls"), 0, "process_node is not called when process_nodes is exported")
	var physics: bool = await wait_until(func() -> bool: return _export(probe, "physics_handed") >= 6)
	expect(physics, "physics_process_nodes got the group in the physics frames")
	expect_eq(probe.node.get_last_error(), "", "no error")
	expect(probe.traps.is_empty(), "no trap: %s" % probe.describe())


## A group whose nodes come and go (bullets): the handles of the nodes the game freed are swept,
## so the table does not grow by a slot for every node that ever joined (it filled for good at
## 2^20, after which every new node was skipped).
func test_handles_of_group_nodes_the_game_freed_are_swept() -> void:
	var probe: ModProbe = await _build_bulk(BULK_WAT, 500)
	if probe == null or not expect_eq(start(probe), OK, "start(): %s" % probe.node.get_last_error()):
		return
	var largest := 0
	for round in 24:
		await frames(1)
		# The slot behind the first handle of the pass's last batch (handles carry a
		# generation above the 20 bits of their slot).
		largest = maxi(largest, (_export(probe, "first") - 1) & 0xFFFFF)
		for node in tree.get_nodes_in_group(_group):
			if node.get_parent() == _scene:
				node.free()
		for i in 500:
			_group_node("R%d_%d" % [round, i], _scene)
	expect(largest < 6000, "12,000 nodes came and went; the handle table reached slot %d" % largest)
	var all: bool = await wait_until(func() -> bool: return _export(probe, "pass_handed") == 500)
	expect(all, "a pass hands over all 500 nodes: %d" % _export(probe, "pass_handed"))
	expect(probe.traps.is_empty() and probe.node.get_last_error() == "", "no trap or error: %s" % probe.describe())


func test_a_group_larger_than_a_batch_is_handed_over_in_batches_of_256() -> void:
	var probe: ModProbe = await _build_bulk(BULK_WAT, 600)
	if probe == null or not expect_eq(start(probe), OK, "start(): %s" % probe.node.get_last_error()):
		return
	await frames(3)
	expect_eq(_export(probe, "pass_calls"), 3, "600 nodes: three calls (256, 256, 88)")
	expect_eq(_export(probe, "pass_handed"), 600, "every node handed over once per pass")
	expect_eq(_export(probe, "largest"), 256, "no batch over 256 handles")
	var frames_now := _export(probe, "frames")
	var last: Node2D = _nodes_by_name["N599"]
	expect_eq(last.position.x, float(frames_now), "the last node moved in this frame's pass")
	expect(probe.traps.is_empty(), "no trap: %s" % probe.describe())


func test_process_nodes_without_malloc_warns_once_and_the_game_goes_on() -> void:
	_logger = LogCounter.new("malloc", Logger.ERROR_TYPE_WARNING)
	OS.add_logger(_logger)
	var wat := BULK_WAT.replace("(export \"malloc\")", "(export \"not_malloc\")")
	var probe: ModProbe = await _build_bulk(wat, 3)
	if probe == null:
		return
	expect_contains("\n".join(probe.node.get_setup_warnings()), "malloc",
		"the node's configuration warnings name the missing malloc")
	if not expect_eq(start(probe), OK, "start(): %s" % probe.node.get_last_error()):
		return
	await frames(5)
	expect_eq(_logger.count(), 1, "warnings naming malloc over five frames")
	expect_contains(probe.node.get_last_error(), "malloc", "get_last_error names malloc")
	expect_eq(_nodes_by_name["N0"].position, Vector2.ZERO, "no node was handed over")
	expect(_export(probe, "frames") >= 4, "the mod's own process still runs every frame")
	expect(probe.traps.is_empty(), "the mod goes on: %s" % probe.describe())


func test_the_bulk_pass_follows_membership_reach_and_handles_the_mod_released() -> void:
	var probe: ModProbe = await _build_bulk(BULK_WAT, 3)
	if probe == null or not expect_eq(start(probe), OK, "start(): %s" % probe.node.get_last_error()):
		return
	var n0: Node2D = _nodes_by_name["N0"]
	var n1: Node2D = _nodes_by_name["N1"]
	var n2: Node2D = _nodes_by_name["N2"]
	await wait_until(func() -> bool: return n2.position.x >= 2.0)
	# Membership: N0 leaves the group, N3 joins it.
	n0.remove_from_group(_group)
	var n3 := _group_node("N3", _scene)
	var joined: bool = await wait_until(func() -> bool: return n3.position.x >= 1.0)
	expect(joined, "a node added to the group is handed over from the next pass: %s" % probe.describe())
	var n0_x := n0.position.x
	await frames(2)
	expect_eq(n0.position.x, n0_x, "a node removed from the group is no longer moved")
	# Reach: N1 moves out of the mod's reach (a tree change).
	_scene.remove_child(n1)
	tree.root.add_child(n1)
	_made.append(n1)
	await frames(1)
	var n1_x := n1.position.x
	await frames(3)
	expect_eq(n1.position.x, n1_x, "a node moved outside reach is no longer handed over")
	expect_eq(_export(probe, "pass_handed"), 2, "N2 and N3 in each pass now")
	# A handle the mod released: the next pass hands over a working one for that node.
	var first_y := -1.0
	for node: Node2D in [n2, n3]:
		if node.position.y == 0.0:
			first_y = 0.0
	expect_eq(first_y, 0.0, "one node is first in the batch")
	probe.node.call_export("release_first", [])
	await frames(3)
	var frames_now := _export(probe, "frames")
	for node: Node2D in [n2, n3]:
		expect_eq(node.position.x, float(frames_now), "%s still moved in this frame's pass after the release" % node.name)
	expect(probe.traps.is_empty(), "no trap: %s" % probe.describe())


func test_a_node_the_game_frees_during_a_bulk_call_breaks_nothing() -> void:
	var probe: ModProbe = await _build_bulk(BULK_WAT, 3)
	if probe == null or not expect_eq(start(probe), OK, "start(): %s" % probe.node.get_last_error()):
		return
	await wait_until(func() -> bool: return _nodes_by_name["N2"].position.x >= 1.0)
	var victims: Array[Node] = [_nodes_by_name["N0"], _nodes_by_name["N1"], _nodes_by_name["N2"]]
	# The game frees every other group node at the first visit: the rest of the batch holds
	# handles of freed nodes.
	_on_visit = func(_handle: int) -> void:
		_on_visit = Callable()
		for node in victims.slice(1):
			if is_instance_valid(node):
				node.free()
	probe.node.call_export("visit_each", [])
	await frames(3)
	await expect_frames_go_on("bulk pass with nodes freed during its call")
	expect(probe.traps.is_empty(), "no trap: %s" % probe.describe())
	expect_eq(_export(probe, "pass_handed"), 1, "only the node left is handed over afterwards")
	var x: float = victims[0].position.x
	await frames(2)
	expect(victims[0].position.x > x, "the node left keeps moving")


func test_a_bulk_pass_over_the_frame_budget_resumes_at_the_next_batch_next_frame() -> void:
	set_setting(FRAME_BUDGET, 1)
	var probe: ModProbe = await _build_bulk(BULK_WAT, 600)
	if probe == null or not expect_eq(start(probe), OK, "start(): %s" % probe.node.get_last_error()):
		return
	await frames(2)
	# The first visit of every frame takes longer than the whole frame budget: each pass ends
	# after its first batch.
	_on_visit = func(_handle: int) -> void:
		if _delayed_frame != Engine.get_process_frames():
			_delayed_frame = Engine.get_process_frames()
			OS.delay_usec(2500)
	probe.node.call_export("visit_each", [])
	await frames(3)
	# A pass whose frame spent the budget before it began (the mod's own `process` preempted
	# for 1 ms on a busy machine) hands nothing over: the batch is counted over three frames.
	var handed := []
	for i in 3:
		await frames(1)
		handed.append(_export(probe, "pass_handed"))
	expect(handed.max() == 256 and handed.all(func(n: int) -> bool: return n == 0 or n == 256), "one batch of 256 per pass once the budget is spent: %s" % [handed])
	var frames_now := _export(probe, "frames")
	var behind := []
	for i in 600:
		var node: Node2D = _nodes_by_name["N%d" % i]
		if node.position.x < frames_now - 3:
			behind.append("%s at %s" % [node.name, node.position.x])
	expect(behind.is_empty(), "every node had its turn in the last three passes (frame %d): %s" % [frames_now, behind.slice(0, 5)])
	expect(probe.traps.is_empty(), "no trap: %s" % probe.describe())
