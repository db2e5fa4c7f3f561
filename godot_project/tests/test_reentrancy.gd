## A game reacting to a mod in ordinary ways from inside the mod's own calls — a game function the
## mod calls from `process` or `native_callback`, a handler of the node's own signals — may free
## the mod's node, kill it, call into it or reload it: each works or fails with a clear
## `get_last_error()`, never crashes Godot, never leaks the instance and never recurses without
## bound.
extends "res://tests/lib/wasgo_test.gd"

const LogCounter := preload("res://tests/lib/log_counter.gd")

const PROCESS := 0
const CALLBACK := 1
const INIT := 2

## What `game.poke` does next: [source it waits for, action]; empty for nothing.
var _action: Array = []
var _target: Node = null
var _result: Variant = null
var _acted := 0
var _pokes := 0
## Another mod the game calls from inside the first one's call, and how much `work` it does.
var _other: WasmScript = null
var _work := 0


func _poke(source: int) -> void:
	_pokes += 1
	if _action.is_empty() or _action[0] != source:
		return
	var action: String = _action[1]
	_action = []
	_acted += 1
	match action:
		"free":
			_target.free()
		"kill":
			_target.kill()
		"call_export":
			_result = _target.call_export("add", [1, 2])
		"reload":
			_result = _target.reload()
		"start":
			_result = _target.start()
		"status":
			_result = _target.get_status()
		"kill_start":
			_target.kill()
			_result = _target.start()
		"reload_kill":
			_result = _target.reload()
			_target.kill()
		"other_spins":
			_result = _other.call_export("spin", [])
		"other_works":
			_result = _other.call_export("work", [_work])


## A started `reenter_game` mod (callback-only) whose `game.poke` acts on its own node.
func _started(node_name: String) -> ModProbe:
	var registered := register_game_function("game", "poke", Callable(self, "_poke"),
		PackedStringArray(["i32"]), PackedStringArray(), 1)
	expect_eq(registered, OK, "register_function(\"game\", \"poke\")")
	var probe := new_mod(node_name, {"module": wat_module("reenter_game"), "safety_level": 1})
	expect_eq(start(probe), OK, "start() of %s" % node_name)
	_target = probe.node
	return probe


func _instances() -> int:
	return WasmEngine.get_stats()["instances"]


func test_a_game_function_called_from_process_can_free_the_node() -> void:
	var before := _instances()
	var probe := _started("reenter_free")
	await frames(2)
	expect(_pokes > 0, "`process` calls game.poke: %s" % probe.describe())
	_action = [PROCESS, "free"]
	await frames(3)
	expect_eq(_acted, 1, "game.poke freed the node once")
	expect(not is_instance_valid(probe.node), "the node is freed")
	var pokes := _pokes
	await frames(3)
	expect_eq(_pokes, pokes, "game.poke calls after the node was freed (the mod must be stopped)")
	expect_eq(_instances(), before, "instances once the node is freed (none may leak)")
	await expect_frames_go_on("a game function freed the mod's node")


func test_a_game_function_called_from_process_can_kill_the_node() -> void:
	var probe := _started("reenter_kill")
	await frames(2)
	_action = [PROCESS, "kill"]
	await frames(3)
	expect_eq(_acted, 1, "game.poke ran kill() once")
	expect_eq(probe.node.get_status(), WasmScript.STATUS_KILLED, "status after kill() from a game function")
	expect_eq(probe.kills, PackedStringArray(["killed by kill()"]), "`killed` emissions")
	var pokes := _pokes
	await frames(3)
	expect_eq(_pokes, pokes, "game.poke calls after kill()")


func test_call_export_from_inside_the_mods_own_call_fails_clearly() -> void:
	var probe := _started("reenter_call")
	await frames(2)
	_action = [PROCESS, "call_export"]
	await frames(2)
	expect_eq(_acted, 1, "game.poke ran call_export() once")
	expect_eq(_result, null, "call_export() from inside the mod's own call")
	expect_contains(probe.node.get_last_error(), "from inside one of its own calls", "get_last_error()")
	expect_eq(probe.node.get_status(), WasmScript.STATUS_RUNNING, "the mod still runs")
	expect_eq(probe.node.call_export("add", [1, 2]), 3, "call_export() from outside afterwards")


func test_reload_from_inside_the_mods_own_call_reloads_after_it() -> void:
	var probe := _started("reenter_reload")
	await frames(2)
	expect_eq(probe.started, 1, "`started` emissions before the reload")
	_action = [PROCESS, "reload"]
	await frames(3)
	expect_eq(_acted, 1, "game.poke ran reload() once")
	expect_eq(_result, OK, "reload() from inside the mod's own call")
	expect_eq(probe.kills, PackedStringArray(["reloading"]), "`killed` emissions")
	expect_eq(probe.started, 2, "`started` emissions after the reload")
	expect_eq(probe.node.get_status(), WasmScript.STATUS_RUNNING, "status after the reload")
	expect_eq(probe.node.call_export("add", [2, 3]), 5, "the new instance answers")


func test_reload_from_inside_init_starts_the_mod_once() -> void:
	var registered := register_game_function("game", "poke", Callable(self, "_poke"),
		PackedStringArray(["i32"]), PackedStringArray(), 1)
	expect_eq(registered, OK, "register_function(\"game\", \"poke\")")
	var probe := new_mod("reenter_init", {"module": wat_module("reenter_init"), "safety_level": 1})
	_target = probe.node
	_action = [INIT, "reload"]
	expect_eq(start(probe), OK, "start() of a mod whose `init` reloads the node")
	expect_eq(_acted, 1, "init's game.poke ran reload() once")
	expect_eq(_result, OK, "reload() from inside `init`")
	await frames(2)
	expect_eq(probe.node.get_status(), WasmScript.STATUS_RUNNING, "status: the reloaded instance runs its `main`")
	expect_eq(probe.started, 1, "`started` emissions")
	expect_eq(probe.node.get_last_error(), "", "get_last_error()")


func test_start_and_get_status_from_inside_the_mods_own_call() -> void:
	var probe := _started("reenter_status")
	await frames(2)
	_action = [PROCESS, "status"]
	await frames(2)
	expect_eq(_result, WasmScript.STATUS_RUNNING, "get_status() from inside the mod's own call")
	_action = [PROCESS, "start"]
	await frames(2)
	expect_eq(_result, OK, "start() of a started callback-only mod from inside its own call")
	expect_eq(probe.node.get_status(), WasmScript.STATUS_RUNNING, "status afterwards")


func test_start_after_kill_inside_the_mods_own_call_fails_clearly() -> void:
	var probe := _started("reenter_kill_start")
	await frames(2)
	_action = [PROCESS, "kill_start"]
	await frames(3)
	expect_eq(_acted, 1, "game.poke ran kill() then start() once")
	# The killed instance ends when the call returns: a new one cannot be made inside it.
	expect_eq(_result, ERR_BUSY, "start() after kill() inside the mod's own call")
	expect_contains(probe.node.get_last_error(), "from inside one of its own calls", "get_last_error()")
	expect_eq(probe.node.get_status(), WasmScript.STATUS_KILLED, "status once the call returned")
	expect_eq(probe.kills, PackedStringArray(["killed by kill()"]), "`killed` emissions")
	expect_eq(probe.started, 1, "`started` emissions")
	expect_eq(probe.node.start(), OK, "start() after the call returned")
	expect_eq(probe.node.call_export("add", [1, 2]), 3, "the new instance answers")


func test_kill_after_reload_inside_the_mods_own_call_has_the_last_word() -> void:
	var probe := _started("reenter_reload_kill")
	await frames(2)
	_action = [PROCESS, "reload_kill"]
	await frames(3)
	expect_eq(_acted, 1, "game.poke ran reload() then kill() once")
	expect_eq(_result, OK, "reload() inside the mod's own call")
	expect_eq(probe.node.get_status(), WasmScript.STATUS_KILLED, "status: the later kill() stands")
	expect_eq(probe.kills, PackedStringArray(["killed by kill()"]), "`killed` emissions")
	expect_eq(probe.started, 1, "`started` emissions (no restart)")


func test_a_kill_from_the_killed_handler_of_a_reload_cancels_it() -> void:
	_reload_stopped_from_its_killed_handler("reenter_reload_cancel", "kill()",
		func(node: Node) -> void: node.kill())


func test_kill_all_from_the_killed_handler_of_a_reload_cancels_it() -> void:
	_reload_stopped_from_its_killed_handler("reenter_reload_kill_all", "WasmEngine.kill_all()",
		func(_node: Node) -> void: WasmEngine.kill_all())


## A handler of the `killed("reloading")` that `reload()` emits calls `stop(node)` (the game's
## `what`): the reload is cancelled and the mod stays killed; a later reload() starts it again.
func _reload_stopped_from_its_killed_handler(node_name: String, what: String, stop: Callable) -> void:
	var probe := _started(node_name)
	var node: Node = probe.node
	var armed := [true]
	node.killed.connect(func(reason: String) -> void:
		if armed[0] and reason == "reloading":
			stop.call(node))
	expect_eq(node.reload(), ERR_UNAVAILABLE, "reload() whose `killed` handler called %s" % what)
	expect_contains(node.get_last_error(), "was cancelled: the game killed the mod while it reloaded", "get_last_error()")
	expect_eq(node.get_status(), WasmScript.STATUS_KILLED, "status: the handler's %s stands" % what)
	expect_eq(probe.started, 1, "`started` emissions (no restart)")
	armed[0] = false
	expect_eq(node.reload(), OK, "a later reload() starts the mod again")
	expect_eq(node.get_status(), WasmScript.STATUS_RUNNING, "status after it")


func test_kill_from_inside_a_native_callback() -> void:
	var probe := _started("reenter_callback_kill")
	probe.node.add_user_signal("poke_me")
	expect_eq(probe.node.call_export("connect_poke", []), 0, "connect_poke()")
	_action = [CALLBACK, "kill"]
	probe.node.emit_signal("poke_me")
	await frames(3)
	expect_eq(_acted, 1, "native_callback's game.poke ran kill() once")
	expect_eq(probe.node.get_status(), WasmScript.STATUS_KILLED, "status after kill() from a callback")
	expect_eq(probe.kills, PackedStringArray(["killed by kill()"]), "`killed` emissions")


func test_a_mod_event_handler_calling_back_into_the_mod_is_bounded() -> void:
	var probe := new_mod("reenter_ping", {"module": wat_module("event_ping")})
	expect_eq(start(probe), OK, "start()")
	var handled := [0]
	var node: Node = probe.node
	var handler := func(_name: String, _payload: Variant) -> void:
		handled[0] += 1
		node.call_export("ping", [])
	node.mod_event.connect(handler)
	node.call_export("ping", [])
	# Delivered after the call returned, by one loop of a bounded number of rounds (16).
	var first: int = handled[0]
	expect(first >= 1 and first <= 17, "mod_event deliveries during the first call_export: %d" % first)
	await frames(2)
	expect(handled[0] > first, "the ping-pong goes on in later frames, not inside one call")
	expect(handled[0] <= first + 3 * 17, "mod_event deliveries stay bounded per frame: %d" % handled[0])
	node.mod_event.disconnect(handler)
	await expect_frames_go_on("a mod_event handler called back into the mod")


## The same with a mod that emits ten events a call: each delivery round took all the events
## waiting, so the handlers' calls fanned out tenfold a round (about 130,000 handler runs in one
## pump, the game frozen). A pump emits at most 1000 of a mod's signals, the rest waiting for
## the next frame, in order.
func test_a_mod_event_handler_fanning_out_is_bounded_per_pump() -> void:
	var wat := "(module (import \"wasgo\" \"emit\" (func $e (param i32 i32 i32 i32) (result i32))) (memory (export \"memory\") 1) (data (i32.const 0) \"p\") (func (export \"ping\") (local $i i32) (loop $l (drop (call $e (i32.const 0) (i32.const 1) (i32.const 16) (i32.const 4))) (local.set $i (i32.add (local.get $i) (i32.const 1))) (br_if $l (i32.lt_u (local.get $i) (i32.const 10))))))"
	var probe := new_mod("reenter_fan_out", {"module": WasmEngine.compile_module(wat.to_utf8_buffer(), "event_fan_out")})
	expect_eq(start(probe), OK, "start()")
	var handled := [0]
	var node: Node = probe.node
	var handler := func(_name: String, _payload: Variant) -> void:
		handled[0] += 1
		node.call_export("ping", [])
	node.mod_event.connect(handler)
	node.call_export("ping", [])
	var first: int = handled[0]
	expect(first >= 10 and first <= 1000, "mod_event deliveries during the first call_export: %d" % first)
	await frames(2)
	expect(handled[0] > first, "the deliveries go on in later frames")
	expect(handled[0] <= first + 3 * 1000, "mod_event deliveries stay bounded per frame: %d" % handled[0])
	node.mod_event.disconnect(handler)
	await expect_frames_go_on("a mod_event handler fanned out into the mod")


## Two mods whose events the game relays to each other (each `mod_event` of one calls the
## other): the allowance of a thousand deliveries is a node's per frame, not per pump. Per pump,
## each relayed call started a fresh pump of the other node, and one frame ran a thousand times
## a thousand deliveries (with ten events a call, 20,000 handler runs; with a hundred, seconds
## per frame).
func test_two_mods_relayed_to_each_other_are_bounded_per_frame() -> void:
	var wat := "(module (import \"wasgo\" \"emit\" (func $e (param i32 i32 i32 i32) (result i32))) (memory (export \"memory\") 1) (data (i32.const 0) \"p\") (func (export \"ping\") (local $i i32) (loop $l (drop (call $e (i32.const 0) (i32.const 1) (i32.const 16) (i32.const 4))) (local.set $i (i32.add (local.get $i) (i32.const 1))) (br_if $l (i32.lt_u (local.get $i) (i32.const 10))))))"
	var module := WasmEngine.compile_module(wat.to_utf8_buffer(), "event_relay")
	var a := new_mod("relay_a", {"module": module})
	var b := new_mod("relay_b", {"module": module})
	expect_eq(start(a), OK, "start() of a")
	expect_eq(start(b), OK, "start() of b")
	var handled := [0]
	var to_b := func(_name: String, _payload: Variant) -> void:
		handled[0] += 1
		b.node.call_export("ping", [])
	var to_a := func(_name: String, _payload: Variant) -> void:
		handled[0] += 1
		a.node.call_export("ping", [])
	a.node.mod_event.connect(to_b)
	b.node.mod_event.connect(to_a)
	a.node.call_export("ping", [])
	var first: int = handled[0]
	# Two nodes, a thousand deliveries each in this frame.
	expect(first >= 10 and first <= 2 * 1000, "mod_event deliveries during the first call_export: %d" % first)
	await frames(2)
	expect(handled[0] > first, "the deliveries go on in later frames")
	expect(handled[0] <= first + 3 * 2 * 1000, "mod_event deliveries stay bounded per frame: %d" % handled[0])
	a.node.mod_event.disconnect(to_b)
	b.node.mod_event.disconnect(to_a)
	await expect_frames_go_on("two mods relayed to each other")


## A mod emits two events in one call and the handler of the first restarts the node: the
## second belongs to the instance that is gone, and is not delivered after the new one started.
func test_a_stopped_instances_remaining_mod_events_are_dropped_at_a_restart() -> void:
	var wat := "(module (import \"wasgo\" \"emit\" (func $e (param i32 i32 i32 i32) (result i32))) (memory (export \"memory\") 1) (data (i32.const 0) \"ab\") (func (export \"two\") (drop (call $e (i32.const 0) (i32.const 1) (i32.const 16) (i32.const 4))) (drop (call $e (i32.const 1) (i32.const 1) (i32.const 16) (i32.const 4)))))"
	var probe := new_mod("reenter_two_events", {"module": WasmEngine.compile_module(wat.to_utf8_buffer(), "two_events")})
	expect_eq(start(probe), OK, "start()")
	var node: WasmScript = probe.node
	var seen: Array[String] = []
	node.started.connect(func() -> void: seen.append("started"))
	node.mod_event.connect(func(name: String, _payload: Variant) -> void:
		seen.append(name)
		if name == "a":
			node.kill()
			node.start())
	node.call_export("two", [])
	await frames(2)
	expect_eq(seen, ["a", "started"] as Array[String], "signals after the restart")


## A `mod_event` handler restarts the node: `kill()` then `start()` (or `reload()`). The kill's
## `killed` waited for the delivery loop the handler runs in, and the start dropped it with the
## old instance: the game never heard the mod it stopped had stopped.
func test_a_mod_event_handler_that_kills_and_starts_the_node_sees_killed_first() -> void:
	for way in ["kill_start", "reload"]:
		var probe := new_mod("reenter_restart_" + way, {"module": wat_module("event_ping")})
		expect_eq(start(probe), OK, "%s: start()" % way)
		var node: WasmScript = probe.node
		var seen: Array[String] = []
		node.killed.connect(func(reason: String) -> void: seen.append("killed: " + reason))
		node.started.connect(func() -> void: seen.append("started"))
		var handler := func(_name: String, _payload: Variant) -> void:
			seen.append("event")
			if way == "reload":
				seen.append("reload -> %d" % node.reload())
			else:
				node.kill()
				seen.append("start -> %d" % node.start())
		node.mod_event.connect(handler, CONNECT_ONE_SHOT)
		node.call_export("ping", [])
		await frames(2)
		var killed_reason := "reloading" if way == "reload" else "killed by kill()"
		var answer := "reload -> 0" if way == "reload" else "start -> 0"
		expect_eq(seen, ["event", "killed: " + killed_reason, "started", answer], "%s: signals in order" % way)
		expect_eq(node.get_status(), WasmScript.STATUS_RUNNING, "%s: status after the restart" % way)
		expect_eq(node.call_export("ping", []), 0, "%s: the new instance answers" % way)
		cleanup()


## A `killed` handler, emitted from the delivery a `start()` makes before it drops the old
## instance, starts the node itself: that start is the one the outer `start()` would make. The
## outer one made a second instance and dropped the handler's unannounced (`started` twice).
func test_a_start_from_a_killed_handler_inside_a_restart_is_the_only_start() -> void:
	var probe := new_mod("reenter_restart_twice", {"module": wat_module("event_ping")})
	expect_eq(start(probe), OK, "start()")
	var node: WasmScript = probe.node
	var seen: Array[String] = []
	node.killed.connect(func(reason: String) -> void:
		seen.append("killed: " + reason)
		seen.append("inner start -> %d" % node.start()), CONNECT_ONE_SHOT)
	node.started.connect(func() -> void: seen.append("started"))
	var handler := func(_name: String, _payload: Variant) -> void:
		node.kill()
		seen.append("outer start -> %d" % node.start())
	node.mod_event.connect(handler, CONNECT_ONE_SHOT)
	node.call_export("ping", [])
	await frames(2)
	expect_eq(seen, ["killed: killed by kill()", "started", "inner start -> 0", "outer start -> 0"], "signals in order")
	expect_eq(node.get_status(), WasmScript.STATUS_RUNNING, "status")


## A handler of an event `init` raised calls `start()` while the first `start()` is still
## finishing: the first one runs `ready` and then `main`. The nested call started `main` at
## once, so `ready` was refused as busy and the first `start()` failed (ERR_BUSY) with the mod
## running.
func test_a_start_from_a_handler_while_start_finishes_leaves_main_to_it() -> void:
	var probe := new_mod("reenter_start_finishing", {"module": wat_module("init_event_main")})
	var node: WasmScript = probe.node
	tree.root.add_child(node)
	await frames(1)
	var seen: Array[String] = []
	node.mod_event.connect(func(event: String, _payload: Variant) -> void:
		seen.append(event)
		if event == "init":
			seen.append("inner start -> %d" % node.start()))
	node.started.connect(func() -> void: seen.append("started"))
	var outer := node.start()
	expect_eq(outer, OK, "start(): %s" % node.get_last_error())
	expect_eq(seen, ["init", "inner start -> 0", "ready", "started"], "events in order")
	expect_eq(node.get_status(), WasmScript.STATUS_RUNNING, "status: main runs")
	expect_eq(node.get_last_error(), "", "last_error")


## A `start()` runs game code before it makes the new instance (the old one's events go out
## first); a handler there may point the node at another mod and level. The new mod runs as the
## node now says: it ran under the properties read before (the old mod's level, limits and id).
func test_a_start_uses_the_properties_a_handler_set_while_it_delivered() -> void:
	set_setting(SAFETY_LEVEL, 2)
	var asker := WasmEngine.compile_module(("(module (import \"wasgo\" \"request_permission\" (func $ask (param i32 i32) (result i32)))" +
		" (memory (export \"memory\") 1) (data (i32.const 0) \"files\")" +
		" (func (export \"ask\") (result i32) (call $ask (i32.const 0) (i32.const 5))))").to_utf8_buffer(), "asker")
	var probe := new_mod("reenter_retarget", {"module": wat_module("event_ping"), "safety_level": 2})
	expect_eq(start(probe), OK, "start()")
	var node: WasmScript = probe.node
	node.killed.connect(func(_reason: String) -> void:
		node.safety_level = 1
		node.module = asker, CONNECT_ONE_SHOT)
	node.mod_event.connect(func(_name: String, _payload: Variant) -> void:
		node.kill()
		node.start(), CONNECT_ONE_SHOT)
	node.call_export("ping", [])
	await frames(1)
	expect_eq(node.module, asker, "the node runs the module the handler set")
	expect_eq(node.get_status(), WasmScript.STATUS_RUNNING, "status: %s" % node.get_last_error())
	# At level 1 `request_permission` is a stub: the call traps.
	expect_eq(node.call_export("ask", []), null, "request_permission at the level the handler set")
	expect_contains(node.get_last_error(), "level 1", "last_error")


# Godot itself refuses `free()` of an object from a handler of that object's own signal ("locked
# object"), so a handler frees the node the way Godot documents: `queue_free()`.
func test_a_trapped_handler_can_free_the_node() -> void:
	var before := _instances()
	var probe := _started("reenter_trap_free")
	var node: Node = probe.node
	node.trapped.connect(func(_message: String) -> void:
		_acted += 1
		node.queue_free())
	node.call_export("boom", [])
	await frames(3)
	expect_eq(_acted, 1, "`trapped` emissions")
	expect(not is_instance_valid(node), "the node is freed")
	expect_eq(_instances(), before, "instances once the node is freed")


func test_a_killed_handler_can_free_the_node() -> void:
	var before := _instances()
	var probe := _started("reenter_kill_free")
	var node: Node = probe.node
	node.killed.connect(func(_reason: String) -> void: node.queue_free())
	node.kill()
	await frames(2)
	expect(not is_instance_valid(node), "the node is freed")
	expect_eq(_instances(), before, "instances once the node is freed")
	await expect_frames_go_on("a killed handler freed the node")


func test_a_trapped_handler_can_restart_the_mod() -> void:
	var probe := _started("reenter_trap_restart")
	var node: Node = probe.node
	var restarted := [null]
	node.trapped.connect(func(_message: String) -> void: restarted[0] = node.start())
	node.call_export("boom", [])
	await frames(2)
	expect_eq(restarted[0], OK, "start() from a `trapped` handler")
	expect_eq(node.get_status(), WasmScript.STATUS_RUNNING, "status after the restart")
	expect_eq(node.call_export("add", [4, 5]), 9, "the new instance answers")
	await _expect_whole_instance(node)


func test_a_killed_handler_can_restart_the_mod() -> void:
	var probe := _started("reenter_kill_restart")
	var node: Node = probe.node
	var restarted := []
	node.killed.connect(func(_reason: String) -> void: restarted.append(node.start()), CONNECT_ONE_SHOT)
	node.kill()
	await frames(2)
	expect_eq(restarted, [OK], "start() from the `killed` handler")
	expect_eq(node.get_status(), WasmScript.STATUS_RUNNING, "status after the restart")
	await _expect_whole_instance(node)


## The node's (restarted) instance has all of an instance: its `process` runs every frame, it has
## an object table (`connect_poke` connects the node's signal) and gets its signal callbacks.
func _expect_whole_instance(node: Node) -> void:
	var pokes := _pokes
	await frames(3)
	expect(_pokes >= pokes + 3, "`process` of the new instance runs: %d pokes before 3 frames, %d after" % [pokes, _pokes])
	if not node.has_user_signal("poke_me"):
		node.add_user_signal("poke_me")
	expect_eq(node.call_export("connect_poke", []), 0, "connect_poke() of the new instance")
	_action = [CALLBACK, "status"]
	node.emit_signal("poke_me")
	await frames(2)
	expect_eq(_result, WasmScript.STATUS_RUNNING, "the new instance's native_callback ran game.poke")



## `init` logs a line, `main` returns at once.
const LOG_IN_INIT := """(module
  (import "wasgo" "log" (func $log (param i32 i32 i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "from init")
  (func (export "init") (call $log (i32.const 1) (i32.const 0) (i32.const 9)))
  (func (export "main") (result i32) (i32.const 0)))"""


## The output of `init` reaches the game inside start(); a `kill()` from that handler ends the
## start: no `started` after `killed`, no `main` run, start() says it failed.
func test_kill_from_an_output_handler_during_start_is_not_followed_by_started() -> void:
	var module := WasmEngine.compile_module(LOG_IN_INIT.to_utf8_buffer(), "log_in_init")
	var probe := new_mod("log_in_init", {"module": module, "safety_level": 1})
	var node: WasmScript = probe.node
	node.output.connect(func(_text: String) -> void: node.kill(), CONNECT_ONE_SHOT)
	expect_eq(start(probe), ERR_CANT_CREATE, "start() whose output handler killed the mod")
	await frames(2)
	expect_eq(probe.started, 0, "`started` emissions")
	expect_eq(probe.kills.size(), 1, "`killed` emissions")
	expect_eq(probe.finished, [], "`main` did not run")
	expect_eq(node.get_status(), WasmScript.STATUS_KILLED, "status")


## The game calls another mod from inside a mod's call (a game function the first mod calls):
## the second mod's time is its own. Before, when it spun until its budget trapped it, the first
## mod, which had spent nothing, was trapped too (a trap in one mod must never stop another).
func test_a_mod_the_game_calls_from_inside_another_mods_call_is_charged_alone() -> void:
	var probe := _started("CallsTheGame")
	var other := new_mod("Spinner", {"module": wat_module("spin_export"), "safety_level": 1})
	expect_eq(start(other), OK, "start() of the other mod")
	_other = other.node
	await frames(2)
	_action = [PROCESS, "other_spins"]
	expect(await wait_until(func() -> bool: return _acted == 1 and not other.traps.is_empty(), 5000),
		"the spinning mod trapped: %s" % [other.traps])
	await frames(3)
	expect_eq(other.node.get_status(), WasmScript.STATUS_TRAPPED, "the spinning mod trapped")
	expect_eq(probe.node.get_status(), WasmScript.STATUS_RUNNING, "the mod whose call led there runs on: %s" % [probe.traps])
	expect(probe.traps.is_empty(), "no trap for it: %s" % [probe.traps])
	expect(not probe.has_output("overran"), "no budget warning for it: %s" % [probe.outputs])


## A nested mod that works each time the game calls it from inside the first mod's call: the
## work is the nested mod's frame time, not the first one's (measured against each other, not
## against a clock).
func test_a_busy_nested_mod_is_charged_its_own_frame_time() -> void:
	var probe := _started("CallsTheGameOften")
	var other := new_mod("Worker", {"module": wat_module("spin_export"), "safety_level": 1})
	expect_eq(start(other), OK, "start() of the other mod")
	_other = other.node
	_work = 3000000
	# Frame by frame: charged the nested work, the outer mod's time would be at least the nested
	# one's in every frame that called it. Judged on most frames, not the longest one: a
	# preempted frame of the outer mod (the machine runs other builds) is no charge.
	var frames_seen := []
	for i in 8:
		_action = [PROCESS, "other_works"]
		await frames(1)
		frames_seen.append([probe.node.frame_time_usec, other.node.frame_time_usec])
	expect(_acted >= 4, "the game called the other mod: %d" % _acted)
	# The frames in which the nested mod did its work (at least half its second longest:
	# interpreted, it may overrun its budget and be stopped, and the calls after that return at
	# once; and one frame may hold two calls, or be preempted, and take twice the others).
	var times: Array = frames_seen.map(func(f: Array) -> int: return f[1])
	times.sort()
	var reference: int = times[times.size() - 2]
	var worked := frames_seen.filter(func(f: Array) -> bool: return f[1] > 0 and f[1] * 2 >= reference)
	expect(worked.size() >= 2, "the nested mod's frame time counts its work: %s" % [frames_seen])
	var apart := worked.filter(func(f: Array) -> bool: return f[0] * 4 < f[1])
	expect(apart.size() * 2 > worked.size(), "the outer mod is not charged the nested work (outer, nested us per frame): %s" % [frames_seen])
	expect_eq(probe.node.get_status(), WasmScript.STATUS_RUNNING, "the outer mod runs on: %s" % [probe.traps])


## The frame-overrun check charges each mod its own time: a mod whose `process` calls a game
## function that calls another mod taking three times the frame budget, frame after frame, was
## warned about (and trapped after 300 frames) for the other mod's work; the other mod is.
func test_the_frame_overrun_check_charges_a_mod_its_own_time() -> void:
	set_setting("wasgo/limits/frame_budget_ms", 1)
	var worker_wat := "(module (import \"game\" \"nap3\" (func $nap)) (memory (export \"memory\") 1) (func (export \"work\") (call $nap)))"
	var caller_wat := "(module (import \"game\" \"work_other\" (func $w)) (memory (export \"memory\") 1) (func (export \"process\") (param f64) (call $w)))"
	var nap := func() -> void: OS.delay_msec(3)
	expect_eq(register_game_function("game", "nap3", nap, PackedStringArray(), PackedStringArray(), 1), OK, "register game.nap3")
	var worker := new_mod("OverrunWorker", {"module": WasmEngine.compile_module(worker_wat.to_utf8_buffer(), "overrun_worker")})
	expect_eq(start(worker), OK, "start() of the worker")
	var work := func() -> void: worker.node.call_export("work", [])
	expect_eq(register_game_function("game", "work_other", work, PackedStringArray(), PackedStringArray(), 1), OK, "register game.work_other")
	var warnings := LogCounter.new("took", Logger.ERROR_TYPE_WARNING)
	OS.add_logger(warnings)
	var caller := new_mod("OverrunCaller", {"module": WasmEngine.compile_module(caller_wat.to_utf8_buffer(), "overrun_caller")})
	expect_eq(start(caller), OK, "start() of the caller")
	await frames(40)
	OS.remove_logger(warnings)
	expect_eq(warnings.count_containing("`OverrunCaller`"), 0, "overrun warnings about the caller (charged the worker's time)")
	expect_eq(warnings.count_containing("`OverrunWorker`"), 1, "overrun warnings about the worker, whose time it is")
	expect_eq(caller.node.get_status(), WasmScript.STATUS_RUNNING, "the caller runs on")
	caller.node.kill()


## A mod whose `init` traps, restarted by the game from its `trapped` handler: the restart's own
## `trapped` goes out at the next frame, so the restarts do not nest (the handler ran
## inside `start()`, which started again, a thousand deep until Godot crashed).
func test_a_trapped_handler_can_restart_a_mod_whose_init_traps() -> void:
	var module := WasmEngine.compile_module("(module (memory (export \"memory\") 1) (func (export \"init\") unreachable))".to_utf8_buffer(), "init_traps")
	var probe := new_mod("reenter_init_trap", {"module": module})
	var node: WasmScript = probe.node
	tree.root.add_child(node)
	var starts := [0]
	node.trapped.connect(func(_message: String) -> void:
		starts[0] += 1
		if starts[0] < 5:
			node.start())
	expect_eq(node.start(), ERR_CANT_CREATE, "start() of a mod whose init traps")
	expect_eq(starts[0], 1, "`trapped` of the first start() comes before it returns, the restart's later")
	await frames(10)
	expect_eq(starts[0], 5, "five traps, one per start")
	expect_eq(node.get_status(), WasmScript.STATUS_TRAPPED, "status")


## The same with the restart in a handler of what the failed `init` raised before its end
## (`unexposed_call`, `output`): those were emitted outside the guard, so each restart's
## failure emitted them again inside it, until the main thread's stack ran out.
func test_an_unexposed_call_handler_can_restart_a_mod_whose_init_fails() -> void:
	var wat := "(module (import \"env\" \"nope\" (func $n)) (memory (export \"memory\") 1) (func (export \"init\") call $n))"
	var module := WasmEngine.compile_module(wat.to_utf8_buffer(), "init_unexposed")
	var probe := new_mod("reenter_init_unexposed", {"module": module})
	var node: WasmScript = probe.node
	tree.root.add_child(node)
	var starts := [0]
	var trapped := [0]
	node.unexposed_call.connect(func(_function: String, _level: int) -> void:
		starts[0] += 1
		if starts[0] < 5:
			node.start())
	node.trapped.connect(func(_message: String) -> void: trapped[0] += 1)
	expect_eq(node.start(), ERR_CANT_CREATE, "start() of a mod whose init calls a stub")
	expect(starts[0] <= 2, "the restarts' signals wait for later frames: %d at once" % starts[0])
	await frames(12)
	expect_eq(starts[0], 5, "five unexposed calls, one per start")
	expect_eq(trapped[0], 5, "five traps, one per start")
	expect_eq(node.get_status(), WasmScript.STATUS_TRAPPED, "status")


## A game function the mod calls kills it: the mod's next host calls (another game function, a
## typed fast path, an object call) do nothing. A run of calls with no loop between them meets
## no epoch check, and those went on changing the game after `kill()`.
func test_host_calls_after_the_game_killed_the_mod_in_its_call_do_nothing() -> void:
	var gold := [0]
	var killed := [null]
	var stop := func() -> int:
		killed[0].kill()
		return 0
	var pay := func() -> int:
		gold[0] += 1
		return 0
	expect_eq(register_game_function("game", "stop", stop, PackedStringArray(), PackedStringArray(["i32"]), 1), OK, "register game.stop")
	expect_eq(register_game_function("game", "gold", pay, PackedStringArray(), PackedStringArray(["i32"]), 1), OK, "register game.gold")
	var wat := "(module (import \"game\" \"stop\" (func $stop (result i32))) (import \"game\" \"gold\" (func $gold (result i32))) (import \"wasgo\" \"self\" (func $self (result i32))) (import \"wasgo\" \"get_node\" (func $get_node (param i32 i32 i32) (result i32))) (import \"wasgo\" \"set_vec2\" (func $set_vec2 (param i32 i32 i32 f32 f32) (result i32))) (memory (export \"memory\") 1) (data (i32.const 0) \"Sprite\") (data (i32.const 8) \"position\") (func (export \"go\") (local $h i32) (local.set $h (call $get_node (call $self) (i32.const 0) (i32.const 6))) (drop (call $stop)) (drop (call $gold)) (drop (call $set_vec2 (local.get $h) (i32.const 8) (i32.const 8) (f32.const 123) (f32.const 456)))))"
	var probe := new_mod("reenter_killed_calls", {"module": WasmEngine.compile_module(wat.to_utf8_buffer(), "killed_calls")})
	var sprite := Node2D.new()
	sprite.name = "Sprite"
	probe.node.add_child(sprite)
	killed[0] = probe.node
	expect_eq(start(probe), OK, "start()")
	probe.node.call_export("go", [])
	await frames(1)
	expect_eq(gold[0], 0, "game.gold calls after the kill")
	expect_eq(sprite.position, Vector2.ZERO, "the sprite's position after the kill")
	expect_eq(probe.node.get_status(), WasmScript.STATUS_KILLED, "status")


## A function made of host calls and no loop meets no epoch check: a hundred calls of a game
## function taking 10 ms each held the main thread a second, past the callback budget's
## wall-clock backstop (200 ms here), and the budget was judged only after it returned. The
## limits are checked after every call into the game.
func test_a_loopless_run_of_slow_game_calls_stops_at_the_backstop() -> void:
	set_setting("wasgo/limits/callback_budget_ms", 50)
	set_setting("wasgo/limits/callback_wall_backstop_factor", 4)
	var calls := [0]
	var slow := func() -> int:
		calls[0] += 1
		OS.delay_msec(10)
		return 0
	expect_eq(register_game_function("game", "nap", slow, PackedStringArray(), PackedStringArray(["i32"]), 1), OK, "register game.nap")
	var body := "(drop (call $nap)) ".repeat(100)
	var wat := "(module (import \"game\" \"nap\" (func $nap (result i32))) (memory (export \"memory\") 1) (func (export \"naps\") %s))" % body
	var probe := new_mod("reenter_loopless", {"module": WasmEngine.compile_module(wat.to_utf8_buffer(), "loopless_naps")})
	expect_eq(start(probe), OK, "start()")
	probe.node.call_export("naps", [])
	expect(calls[0] < 100, "game.nap calls before the mod was stopped: %d of 100" % calls[0])
	expect_eq(probe.node.get_status(), WasmScript.STATUS_TRAPPED, "status")
	expect_contains(probe.node.get_last_error(), "callback budget", "get_last_error()")


## The same through property sets: a setter runs the game's code (a slider's `value` emits
## `value_changed` to its handler), and a hundred loopless `set_float` calls on the direct path
## held the main thread a second, checked by no limit until the function returned.
func test_a_loopless_run_of_sets_whose_handler_is_slow_stops_at_the_backstop() -> void:
	set_setting("wasgo/limits/callback_budget_ms", 50)
	set_setting("wasgo/limits/callback_wall_backstop_factor", 4)
	var calls := [0]
	var body := ""
	for i in 100:
		body += "(drop (call $set (local.get $h) (i32.const 0) (i32.const 5) (f64.const %d))) " % (i + 1)
	var wat := "(module (import \"wasgo\" \"self\" (func $self (result i32))) (import \"wasgo\" \"get_node\" (func $get_node (param i32 i32 i32) (result i32))) (import \"wasgo\" \"set_float\" (func $set (param i32 i32 i32 f64) (result i32))) (memory (export \"memory\") 1) (data (i32.const 0) \"value\") (data (i32.const 16) \"Slider\") (func (export \"slide\") (local $h i32) (local.set $h (call $get_node (call $self) (i32.const 16) (i32.const 6))) %s))" % body
	var probe := new_mod("reenter_slides", {"module": WasmEngine.compile_module(wat.to_utf8_buffer(), "loopless_slides")})
	var slider := HSlider.new()
	slider.name = "Slider"
	slider.max_value = 1000
	slider.step = 0.0
	slider.value_changed.connect(func(_v: float) -> void:
		calls[0] += 1
		OS.delay_msec(10))
	probe.node.add_child(slider)
	expect_eq(start(probe), OK, "start()")
	probe.node.call_export("slide", [])
	expect(calls[0] > 0 and calls[0] < 100, "value_changed handler runs before the mod was stopped: %d of 100" % calls[0])
	expect_eq(probe.node.get_status(), WasmScript.STATUS_TRAPPED, "status")


## A game function called by `init` calls `WasmEngine.kill_all()`: the mod being started is in
## no live list yet, and it ran on. It is killed once its `init` returns, like every other mod.
func test_kill_all_from_a_game_function_init_calls_kills_that_mod_too() -> void:
	var registered := register_game_function("game", "stop_all", func() -> int:
		WasmEngine.kill_all()
		return 0, PackedStringArray(), PackedStringArray(["i32"]), 1)
	expect_eq(registered, OK, "register_function(\"game\", \"stop_all\")")
	var wat := "(module (import \"game\" \"stop_all\" (func $stop (result i32))) (memory (export \"memory\") 1) (func (export \"init\") (drop (call $stop))) (func (export \"noop\")))"
	var module := WasmEngine.compile_module(wat.to_utf8_buffer(), "stops_all")
	var other := new_mod("reenter_kill_all_other", {"module": module})
	var probe := new_mod("reenter_kill_all", {"module": module})
	var killed := [0]
	probe.node.killed.connect(func(_reason: String) -> void: killed[0] += 1)
	probe.node.start()
	await frames(2)
	expect_eq(probe.node.get_status(), WasmScript.STATUS_KILLED, "status of the mod whose init called kill_all()")
	expect_eq(killed[0], 1, "`killed` emissions")
	expect_eq(other.node.get_status(), WasmScript.STATUS_IDLE, "a mod never started stays idle")


var _sleeper: WasmScript = null


## The game functions of the next test: `game.call_sleeper` calls the other mod's `nap`, which
## calls `game.sleep` (5 ms of wall time, no CPU time: within every budget).
func _call_sleeper() -> int:
	if is_instance_valid(_sleeper):
		_sleeper.call_export("nap", [])
	return 0


func _sleep() -> int:
	_naps += 1
	OS.delay_msec(5)
	return 0


var _naps := 0


## A mod's call that calls a game function calling another mod, over and over: each nested call
## is within its budget and is not the outer call's time, so nothing stopped the outer call and
## the main thread was held for as long as it liked (1000 x 5 ms here). The outer call is
## stopped once, nested calls counted, it has run twice its wall-clock backstop.
func test_a_call_that_holds_the_main_thread_through_other_mods_is_stopped() -> void:
	set_setting("wasgo/limits/callback_budget_ms", 50)
	set_setting("wasgo/limits/callback_wall_backstop_factor", 4)
	expect_eq(register_game_function("game", "call_sleeper", Callable(self, "_call_sleeper"),
		PackedStringArray(), PackedStringArray(["i32"]), 1), OK, "register game.call_sleeper")
	expect_eq(register_game_function("game", "sleep", Callable(self, "_sleep"),
		PackedStringArray(), PackedStringArray(["i32"]), 1), OK, "register game.sleep")
	var sleeper_wat := "(module (import \"game\" \"sleep\" (func $sleep (result i32))) (memory (export \"memory\") 1) (func (export \"nap\") (drop (call $sleep))))"
	var sleeper := new_mod("NestedSleeper", {"module": WasmEngine.compile_module(sleeper_wat.to_utf8_buffer(), "sleeper")})
	expect_eq(start(sleeper), OK, "start() of the sleeper")
	_sleeper = sleeper.node
	var caller_wat := "(module (import \"game\" \"call_sleeper\" (func $call (result i32))) (memory (export \"memory\") 1) (func (export \"many\") (param $n i32) (local $i i32) (loop $l (drop (call $call)) (local.set $i (i32.add (local.get $i) (i32.const 1))) (br_if $l (i32.lt_u (local.get $i) (local.get $n))))))"
	var caller := new_mod("NestedCaller", {"module": WasmEngine.compile_module(caller_wat.to_utf8_buffer(), "caller")})
	expect_eq(start(caller), OK, "start() of the caller")
	var t0 := Time.get_ticks_msec()
	caller.node.call_export("many", [1000])
	print("the outer call returned after %d ms" % (Time.get_ticks_msec() - t0))
	await frames(2)
	expect_eq(caller.node.get_status(), WasmScript.STATUS_TRAPPED, "the outer mod was stopped")
	expect(caller.traps.size() == 1 and caller.traps[0].contains("held the main thread past 400 ms"),
		"the trap says why: %s" % [caller.traps])
	expect_eq(sleeper.node.get_status(), WasmScript.STATUS_RUNNING, "the nested mod, within its budget, runs on: %s" % [sleeper.traps])


var _middle: WasmScript = null


## The game function of the next test: `game.call_middle` calls the middle mod's `many(70)`,
## which naps 70 times through `game.call_sleeper` (350 ms of wall time, no CPU time).
func _call_middle() -> int:
	if is_instance_valid(_middle):
		_middle.call_export("many", [70])
	return 0


## Three levels: the outer mod's call calls the middle mod twice through the game, and each of
## the middle mod's calls naps 350 ms through a third mod, under the hard stop of 400 ms. Each
## level's hard stop counted from its own start, so no middle call was stopped and the outer
## one only when control came back to it (700 ms; ten levels held the main thread for
## seconds). Once the outermost call has held the main thread past its hard stop, no mod is
## entered inside it: the calls return to the outer one, which is stopped at its next check.
func test_a_chain_of_nested_calls_is_stopped_at_the_outermost_calls_hard_stop() -> void:
	set_setting("wasgo/limits/callback_budget_ms", 50)
	set_setting("wasgo/limits/callback_wall_backstop_factor", 4)
	for f in [["call_sleeper", "_call_sleeper"], ["sleep", "_sleep"], ["call_middle", "_call_middle"]]:
		expect_eq(register_game_function("game", f[0], Callable(self, f[1]),
			PackedStringArray(), PackedStringArray(["i32"]), 1), OK, "register game.%s" % f[0])
	var sleeper_wat := "(module (import \"game\" \"sleep\" (func $sleep (result i32))) (memory (export \"memory\") 1) (func (export \"nap\") (drop (call $sleep))))"
	var sleeper := new_mod("ChainSleeper", {"module": WasmEngine.compile_module(sleeper_wat.to_utf8_buffer(), "chain_sleeper")})
	expect_eq(start(sleeper), OK, "start() of the sleeper")
	_sleeper = sleeper.node
	var loop_wat := "(module (import \"game\" \"%s\" (func $call (result i32))) (memory (export \"memory\") 1) (func (export \"many\") (param $n i32) (local $i i32) (loop $l (drop (call $call)) (local.set $i (i32.add (local.get $i) (i32.const 1))) (br_if $l (i32.lt_u (local.get $i) (local.get $n))))))"
	var middle := new_mod("ChainMiddle", {"module": WasmEngine.compile_module((loop_wat % "call_sleeper").to_utf8_buffer(), "chain_middle")})
	expect_eq(start(middle), OK, "start() of the middle mod")
	_middle = middle.node
	var outer := new_mod("ChainOuter", {"module": WasmEngine.compile_module((loop_wat % "call_middle").to_utf8_buffer(), "chain_outer")})
	expect_eq(start(outer), OK, "start() of the outer mod")
	_naps = 0
	outer.node.call_export("many", [2])
	await frames(2)
	# 140 naps of 5 ms when nothing stopped the chain before the outer call's check; 80 at most
	# within 400 ms (fewer on a busy machine).
	expect(_naps <= 81, "the calls into the innermost mod after the chain's hard stop were refused: %d naps" % _naps)
	expect(sleeper.node.get_last_error().contains("past the 400 ms one call may hold it together with the calls nested in it"),
		"the refusal says why: %s" % sleeper.node.get_last_error())
	expect_eq(outer.node.get_status(), WasmScript.STATUS_TRAPPED, "the outer mod was stopped")
	expect(outer.traps.size() == 1 and outer.traps[0].contains("held the main thread past 400 ms"),
		"the outer mod's trap says why: %s" % [outer.traps])
	expect_eq(middle.node.get_status(), WasmScript.STATUS_RUNNING, "the middle mod, within its budget, runs on: %s" % [middle.traps])
	expect_eq(sleeper.node.get_status(), WasmScript.STATUS_RUNNING, "the innermost mod, within its budget, runs on: %s" % [sleeper.traps])


var _asks_left := 0
var _ask_with := ""


## The game function of the next test: while asks are left, kills or reloads the node and has
## `init` trap (1); then lets `init` end well (0).
func _ask_then_trap() -> int:
	if _asks_left <= 0:
		return 0
	_asks_left -= 1
	if is_instance_valid(_target):
		_target.call(_ask_with)
	return 1


## A game function called by `init` kills (or reloads) the node, then `init` traps: the start
## failed, and what was asked for inside it ends with it. The kill (or reload) stayed asked for,
## so the next start that succeeded was killed at once (`start()` answered ERR_CANT_CREATE and
## `killed` went out for a mod nobody stopped), or reloaded a second time.
func test_a_kill_or_reload_asked_for_in_an_init_that_traps_ends_with_that_start() -> void:
	var wat := "(module (import \"game\" \"ask\" (func $ask (result i32))) (memory (export \"memory\") 1) (global $inits (mut i32) (i32.const 0)) (func (export \"init\") (global.set $inits (i32.add (global.get $inits) (i32.const 1))) (if (call $ask) (then unreachable))) (func (export \"inits\") (result i32) (global.get $inits)))"
	var module := WasmEngine.compile_module(wat.to_utf8_buffer(), "ask_then_trap")
	for ask in ["kill", "reload"]:
		var registered := register_game_function("game", "ask", Callable(self, "_ask_then_trap"),
			PackedStringArray(), PackedStringArray(["i32"]), 1)
		expect_eq(registered, OK, "register_function(\"game\", \"ask\")")
		var probe := new_mod("reenter_ask_" + ask, {"module": module})
		_target = probe.node
		var killed := [0]
		probe.node.killed.connect(func(_reason: String) -> void: killed[0] += 1)
		var started := [0]
		probe.node.started.connect(func() -> void: started[0] += 1)
		_asks_left = 1
		_ask_with = ask
		expect_eq(start(probe), ERR_CANT_CREATE, "%s: start() whose init asked, then trapped" % ask)
		# The game's kill() stops `init` (the mod is killed); a reload waits for `init` to
		# return, which traps.
		var ended := WasmScript.STATUS_KILLED if ask == "kill" else WasmScript.STATUS_TRAPPED
		expect_eq(probe.node.get_status(), ended, "%s: status after the first start" % ask)
		await frames(1)
		var killed_first: int = killed[0]
		expect_eq(killed_first, 1 if ask == "kill" else 0, "%s: `killed` emitted for the first start" % ask)
		expect_eq(probe.node.start(), OK, "%s: the next start(): %s" % [ask, probe.node.get_last_error()])
		await frames(3)
		expect_eq(probe.node.get_status(), WasmScript.STATUS_RUNNING, "%s: status after the next start" % ask)
		expect_eq(killed[0], killed_first, "%s: `killed` emitted for the next start" % ask)
		expect_eq(started[0], 1, "%s: `started` once" % ask)
		expect_eq(probe.node.call_export("inits", []), 1, "%s: the running instance's init ran once" % ask)
		cleanup()


var _kills_from_init := 0


## The game function of the next test: kills the node it was called for.
func _kill_target() -> int:
	_kills_from_init += 1
	if is_instance_valid(_target):
		_target.kill()
	return 0


## A game function called by `init` kills the node, and `init` goes on spinning: the instance is
## not held yet while `init` runs, so the kill waited for `init` to return and the mod spun
## until its callback budget ran out (a trap, not the kill the game asked for). It stops at its
## next check: the mod is killed, `killed` says why, `start()` answers ERR_CANT_CREATE.
func test_a_kill_from_game_code_init_calls_stops_init() -> void:
	set_setting("wasgo/limits/callback_budget_ms", 2000)
	var registered := register_game_function("game", "kill_me", Callable(self, "_kill_target"),
		PackedStringArray(), PackedStringArray(["i32"]), 1)
	expect_eq(registered, OK, "register_function(\"game\", \"kill_me\")")
	var wat := "(module (import \"game\" \"kill_me\" (func $kill (result i32))) (memory (export \"memory\") 1) (func (export \"init\") (drop (call $kill)) (loop $l (br $l))))"
	var module := WasmEngine.compile_module(wat.to_utf8_buffer(), "killed_in_init")
	var probe := new_mod("reenter_kill_in_init", {"module": module})
	_target = probe.node
	var reasons: Array[String] = []
	probe.node.killed.connect(func(reason: String) -> void: reasons.append(reason))
	expect_eq(start(probe), ERR_CANT_CREATE, "start() of a mod killed in its init")
	expect_eq(_kills_from_init, 1, "the game function ran once")
	expect_eq(probe.node.get_status(), WasmScript.STATUS_KILLED, "status: %s" % probe.node.get_last_error())
	expect_eq(reasons, ["killed by kill()"], "`killed` emissions")
	expect_contains(probe.node.get_last_error(), "killed while its `init` ran", "last_error")
	expect_eq(probe.traps, PackedStringArray(), "no trap (the budget never ran out)")


var _always_reloads := 0


func _reload_always(_code: int) -> void:
	_always_reloads += 1
	if is_instance_valid(_target):
		_target.reload()


## A game function that reloads the node every time, called by the mod's `init`: each new
## instance's `init` asks for the next reload, which waits for the next frame (it ran inside the
## last one's settling, a thousand reloads deep, until Godot crashed). The game's `kill()` stops
## the chain.
func test_an_init_that_always_gets_reloaded_reloads_once_a_frame() -> void:
	var registered := register_game_function("game", "poke", Callable(self, "_reload_always"),
		PackedStringArray(["i32"]), PackedStringArray(), 1)
	expect_eq(registered, OK, "register_function(\"game\", \"poke\")")
	var probe := new_mod("reenter_always", {"module": wat_module("reenter_init"), "safety_level": 1})
	_target = probe.node
	var frame := Engine.get_process_frames()
	expect_eq(start(probe), OK, "start() (the mod started; the reload its init asked for comes next frame)")
	var at_start := _always_reloads
	expect(at_start <= 3, "reloads inside start(): %d" % at_start)
	await frames(5)
	var frames_passed := Engine.get_process_frames() - frame
	expect(_always_reloads > at_start, "the reloads go on at later frames: %d" % _always_reloads)
	expect(_always_reloads <= at_start + frames_passed + 1,
		"at most one reload a frame: %d reloads in %d frames" % [_always_reloads, frames_passed])
	probe.node.kill()
	var after_kill := _always_reloads
	await frames(3)
	expect_eq(_always_reloads, after_kill, "reloads after the game's kill()")
	expect_eq(probe.node.get_status(), WasmScript.STATUS_KILLED, "status after kill()")


var _chain: Array[WasmScript] = []
var _chain_level := 0
var _chain_deepest := 0
var _chain_refusal := ""
var _config_recursing: WasmModule
var _chain_config: Variant
var _chain_config_error := ""
const CHAIN_RECURSION := 14000


## The game function of the chain test: calls the next mod of the chain from inside the last
## one's call.
func _chain_next() -> void:
	_chain_level += 1
	_chain_deepest = maxi(_chain_deepest, _chain_level)
	if _chain_level < _chain.size():
		var mod := _chain[_chain_level]
		if mod.call_export("go", [CHAIN_RECURSION]) == null and _chain_refusal == "":
			_chain_refusal = mod.get_last_error()
			# Where the stack ran short: a mod started here runs its `config` (which recurses
			# without end) in a throwaway instance; that crashed too.
			_chain_config = _config_recursing.get_config()
			_chain_config_error = _config_recursing.get_last_error()
	_chain_level -= 1


## Forty mods, each recursing near its own stack limit, then calling the game, which calls the
## next mod from inside that call: compiled, the stack of Godot's main thread ran out at 16 or
## more (a crash). Each nested call now checks the thread's stack first; the one that would not
## fit is refused with a message, and the calls outside it return normally.
func test_mods_called_inside_each_other_past_the_threads_stack_are_refused() -> void:
	var registered := register_game_function("t", "next", Callable(self, "_chain_next"),
		PackedStringArray(), PackedStringArray(), 1)
	expect_eq(registered, OK, "register_function(\"t\", \"next\")")
	var wat := """(module (import "t" "next" (func $n)) (memory (export "memory") 1)
		(func $rec (param i32) (local i64 i64 i64 i64 i64 i64 i64 i64)
			(if (i32.eqz (local.get 0)) (then (call $n))
				(else (call $rec (i32.sub (local.get 0) (i32.const 1))))))
		(func (export "go") (param i32) (call $rec (local.get 0))))"""
	# Forty deep recursions take a while on a loaded machine: this test is about the stack.
	set_setting("wasgo/limits/callback_budget_ms", 10000)
	var module := WasmEngine.compile_module(wat.to_utf8_buffer(), "chain")
	if not expect(module != null, "compile the chain module: %s" % WasmEngine.get_last_error()):
		return
	_config_recursing = WasmEngine.compile_module("""(module (memory (export "memory") 1)
		(func $rec (param i32) (result i32) (local i64 i64 i64 i64 i64 i64 i64 i64)
			(i32.add (call $rec (i32.add (local.get 0) (i32.const 1))) (i32.const 1)))
		(func (export "malloc") (param i32 i32) (result i32) i32.const 16)
		(func (export "config") (param i32 i32) (result i32) (call $rec (i32.const 0))))""".to_utf8_buffer(), "config_recursing")
	for i in 40:
		var probe := new_mod("chain_%d" % i, {"module": module, "safety_level": 1})
		expect_eq(start(probe), OK, "start() of chain mod %d" % i)
		_chain.append(probe.node)
	_chain_level = 0
	expect_eq(_chain[0].call_export("go", [CHAIN_RECURSION]), null, "the outermost call")
	expect_eq(_chain[0].get_last_error(), "", "the outermost call's error")
	if WasmEngine.get_stats().get("mode") == "compiled":
		# Compiled code runs on the thread's own stack: 40 such calls cannot all fit.
		expect(_chain_deepest > 1 and _chain_deepest < 40, "mods entered inside each other: %d" % _chain_deepest)
		expect_contains(_chain_refusal, "calls into mods already run inside each other", "the refused call's error")
		expect_eq(_chain_config, {}, "get_config() where the stack ran short")
		expect_contains(_chain_config_error, "KiB of stack left", "get_config()'s error where the stack ran short")
	else:
		# The interpreter keeps each mod's wasm stack apart from the thread's: all 40 fit.
		expect_eq(_chain_deepest, 40, "mods entered inside each other (interpreter)")
		expect_eq(_chain_refusal, "", "refusals (interpreter)")
	for mod in _chain:
		expect_eq(mod.get_status(), WasmScript.STATUS_RUNNING, "%s after the chain (%s)" % [mod.name, mod.get_last_error()])
	_chain.clear()
	_config_recursing = null


## Each start emits `started`, and a `started` handler that restarts the node (`reload()`) ran
## the next start inside itself: a handler that always reloads recursed one start deeper per
## start until the stack ran out. Such a restart waits for the next frame.
func test_a_started_handler_that_always_restarts_does_not_recurse() -> void:
	for way in ["reload"]:
		var probe := new_mod("reenter_started_" + way, {"module": wat_module("reenter_game"), "safety_level": 1}, false)
		var node: Node = probe.node
		var depth := [0, 0, 0]  # now, deepest, starts
		node.started.connect(func() -> void:
			depth[0] += 1
			depth[1] = maxi(depth[1], depth[0])
			depth[2] += 1
			if depth[2] < 40:
				expect_eq(node.call(way), OK, "%s() from a `started` handler" % way)
			depth[0] -= 1)
		expect_eq(node.start(), OK, "start()")
		expect(await wait_until(func() -> bool: return depth[2] >= 40, 10000), "40 starts by %s(): %d" % [way, depth[2]])
		expect_eq(depth[1], 1, "`started` handlers nested by %s()" % way)
		expect_eq(node.get_status(), WasmScript.STATUS_RUNNING, "status after the restarts by %s()" % way)
		expect_eq(node.call_export("add", [4, 5]), 9, "the last instance answers (%s)" % way)
		await frames(2)
		expect_eq(depth[2], 40, "no start after the handler stopped asking (%s)" % way)
	# A kill before the next frame drops a restart a `started` handler asked for.
	var probe := new_mod("reenter_started_kill", {"module": wat_module("reenter_game"), "safety_level": 1}, false)
	var node: Node = probe.node
	node.started.connect(func() -> void: node.reload(), CONNECT_ONE_SHOT)
	expect_eq(node.start(), OK, "start()")
	node.kill()
	await frames(3)
	expect_eq(probe.started, 1, "a reload the handler asked for ran after kill()")
	expect_eq(node.get_status(), WasmScript.STATUS_KILLED, "status after kill()")


## A mod ended inside the delivery loop (a `mod_event` handler killed it) leaves the frame list
## and its objects at once, as one ended by `kill()` or a trap in `call_export` does, with its
## `killed` delivered: it stayed until the next frame.
func test_a_mod_killed_by_a_handler_during_delivery_leaves_at_once() -> void:
	var probe := new_mod("reenter_event_kill", {"module": wat_module("event_ping")})
	expect_eq(start(probe), OK, "start()")
	var node: Node = probe.node
	node.mod_event.connect(func(_name: String, _payload: Variant) -> void: node.kill(), CONNECT_ONE_SHOT)
	var before: int = WasmEngine.get_stats()["live_scripts"]
	node.call_export("ping", [])
	expect_eq(node.get_status(), WasmScript.STATUS_KILLED, "status right after the call")
	expect_eq(WasmEngine.get_stats()["live_scripts"], before - 1, "live scripts right after the call")
	expect_eq(probe.kills.size(), 1, "`killed` emissions right after the call")


## The signals of one call are emitted together after it returns; a handler that kills the mod
## ends them: the lines and events the mod raised before the game's `kill()` went on reaching
## the game after it (a game counting a mod's events past its kill). A kill of a mod that had
## trapped already changes nothing: its lines and its `trapped` are all emitted.
func test_a_kill_from_a_handler_ends_the_rest_of_the_calls_signals() -> void:
	for trap in [0, 1]:
		var probe := new_mod("kill_mid_batch_%d" % trap, {"module": wat_module("log_lines"), "autostart": false})
		expect_eq(start(probe), OK, "start()")
		var node: Node = probe.node
		var seen := []
		node.output.connect(func(line: String) -> void:
			seen.append(line)
			if seen.size() == 2:
				node.kill())
		node.call_export("lines", [5, trap])
		await frames(2)
		if trap == 0:
			expect_eq(seen.size(), 2, "`output` emissions after the handler's kill(): %s" % [seen])
			expect_eq(probe.kills.size(), 1, "`killed` emissions")
			expect_eq(node.get_status(), WasmScript.STATUS_KILLED, "status")
		else:
			expect_eq(seen.size(), 5, "`output` emissions of a mod that trapped before the kill(): %s" % [seen])
			expect_eq(probe.traps.size(), 1, "`trapped` emissions")
			expect_eq(probe.kills.size(), 0, "`killed` emissions")
			expect_eq(node.get_status(), WasmScript.STATUS_TRAPPED, "status")


## The same for `mod_event`s: a handler's `kill()` at the first of two ends the rest.
func test_a_kill_from_a_mod_event_handler_ends_the_rest_of_the_events() -> void:
	var probe := new_mod("kill_mid_events", {"module": wat_module("emit_flood"), "safety_level": 1, "autostart": false})
	expect_eq(start(probe), OK, "start()")
	var node: Node = probe.node
	var events := []
	node.mod_event.connect(func(event: String, _payload: Variant) -> void:
		events.append(event)
		node.kill())
	expect_eq(node.call_export("flood", [2]), 2, "events emitted")
	await frames(2)
	expect_eq(events.size(), 1, "`mod_event` emissions after the handler's kill()")
	expect_eq(probe.kills.size(), 1, "`killed` emissions")


## A `start()` first delivers what the old instance raised; a handler of that which kills the
## mod (`kill()`, `WasmEngine.kill_all()`: "a mod crashed, stop them all") has the last word:
## the start is cancelled (ERR_UNAVAILABLE, status KILLED). It started a new instance anyway,
## which ran after the game had stopped the mod.
func test_a_kill_from_a_handler_of_the_old_instances_end_cancels_the_start() -> void:
	var probe := new_mod("kill_in_start", {"module": wat_module("abort"), "autostart": false})
	expect_eq(start(probe), OK, "start()")
	var node: Node = probe.node
	# `main` traps on the worker; its `trapped` waits for a delivery, which no frame makes here.
	var deadline := Time.get_ticks_msec() + 20000
	while node.get_status() == WasmScript.STATUS_RUNNING and Time.get_ticks_msec() < deadline:
		OS.delay_msec(5)
	if not expect_eq(probe.traps.size(), 0, "the trap is not delivered yet"):
		return
	node.trapped.connect(func(_message: String) -> void: node.kill(), CONNECT_ONE_SHOT)
	expect_eq(node.start(), ERR_UNAVAILABLE, "start() whose delivery's handler killed the mod")
	expect_eq(probe.traps.size(), 1, "the old instance's `trapped`")
	expect_eq(probe.started, 1, "`started` emissions (no new instance)")
	expect_eq(node.get_status(), WasmScript.STATUS_KILLED, "status")
	expect_contains(node.get_last_error(), "was cancelled", "last error")
	await frames(3)
	expect_eq(probe.started, 1, "`started` emissions at the next frames")
	expect_eq(node.get_status(), WasmScript.STATUS_KILLED, "status at the next frames")
	# The game may start it again.
	node.trapped.connect(func(_message: String) -> void: pass, CONNECT_ONE_SHOT)
	expect_eq(node.start(), OK, "a later start()")
	expect_eq(probe.started, 2, "`started` emissions after the later start()")


var _attach_target: Node


func _attach(_source: int) -> void:
	tree.root.add_child(_attach_target)


## A node that becomes ready inside one of its mod's calls (a game function the mod called put
## it in the tree) runs the mod's `ready` once that call returns: it was entered as a nested call,
## refused, and never ran for that instance.
func test_ready_inside_the_mods_own_call_runs_once_the_call_returns() -> void:
	var registered := register_game_function("game", "poke", Callable(self, "_attach"),
		PackedStringArray(["i32"]), PackedStringArray(), 1)
	expect_eq(registered, OK, "register_function(\"game\", \"poke\")")
	var probe := new_mod("ready_in_own_call", {"module": wat_module("ready_in_own_call"), "safety_level": 1})
	_attach_target = probe.node
	expect_eq(probe.node.start(), OK, "start() outside the tree")
	probe.node.call_export("attach", [])
	expect(probe.node.is_inside_tree(), "the game function put the node in the tree")
	expect(await wait_until(func() -> bool: return probe.has_output("ready"), 5000), "`ready` ran: %s" % probe.describe())
	await frames(2)
	expect_eq(probe.outputs_starting_with("ready").size(), 1, "`ready` runs once")
	expect_eq(probe.traps, PackedStringArray(), "traps")
	expect_eq(probe.node.get_status(), WasmScript.STATUS_RUNNING, "status")


## A game's logger (`OS.add_logger`) that kills a mod when one of its calls fails runs inside
## the error WasGo prints for that call: the kill completes all the same (status KILLED,
## `killed` once). It was only asked of the instance, which a clone up the stack still held:
## the node said RUNNING for ever and the frame driver kept entering a dead instance.
func test_a_kill_from_a_logger_inside_a_failed_calls_error_completes() -> void:
	var probe := new_mod("kill_from_logger", {"module": wat_module("event_ping"), "autostart": false})
	expect_eq(start(probe), OK, "start()")
	var logger: Logger = preload("res://tests/lib/kill_on_error.gd").new()
	logger.target = probe.node
	logger.part = "no_such_export"
	OS.add_logger(logger)
	probe.node.call_export("no_such_export", [])
	OS.remove_logger(logger)
	expect_eq(logger.kills, 1, "the logger killed the mod")
	await frames(3)
	expect_eq(probe.node.get_status(), WasmScript.STATUS_KILLED, "status")
	expect_eq(probe.kills.size(), 1, "`killed` emissions")
	expect(probe.node.call_export("ping", []) == null, "an entry into the killed mod fails")
