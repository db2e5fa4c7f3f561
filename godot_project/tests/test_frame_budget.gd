## `wasgo/limits/frame_budget_ms` bounds what all mods' callbacks take together in one frame:
## 40 signal callbacks a frame, each a little over half the budget, are delivered a few per frame,
## in order, instead of stalling the frame.
extends "res://tests/lib/wasgo_test.gd"

const FRAME_BUDGET := "wasgo/limits/frame_budget_ms"
const BUDGET_MS := 8
const CALLBACK_MS := 5
const SIGNALS := 40

## Callback ids in delivery order, and the frame each arrived in.
var _ids: Array = []
var _frames: Array = []


## How many callbacks `_slow` saw in each frame, by frame.
func _callbacks_per_frame() -> Dictionary:
	var per_frame := {}
	for f in _frames:
		per_frame[f] = per_frame.get(f, 0) + 1
	return per_frame


func _slow(id: int) -> void:
	_ids.append(id)
	_frames.append(Engine.get_process_frames())
	# At least CALLBACK_MS: a loaded machine only makes it longer, which lowers the counts below.
	OS.delay_msec(CALLBACK_MS)


func test_callbacks_over_the_frame_budget_wait_for_the_next_frame_in_order() -> void:
	set_setting(FRAME_BUDGET, BUDGET_MS)
	var registered := register_game_function("game", "slow", Callable(self, "_slow"),
		PackedStringArray(["i32"]), PackedStringArray(), 1)
	expect_eq(registered, OK, "register_function(\"game\", \"slow\")")
	var probe := new_mod("budget_callbacks", {"module": wat_module("budget_callbacks"), "safety_level": 1})
	if not expect_eq(start(probe), OK, "start()"):
		return
	for k in 4:
		probe.node.add_user_signal("tick%d" % k)
	expect_eq(probe.node.call_export("connect_ticks", [SIGNALS]), 0, "connections that failed")
	for i in 5:
		for k in 4:
			probe.node.emit_signal("tick%d" % k)
		await frames(1)
	await frames(5)
	expect(_ids.size() > 0, "no callback was delivered: %s" % probe.describe())
	# Per frame: callbacks start while the budget is not spent, so at most
	# ceil(BUDGET_MS / CALLBACK_MS) of them: the budget plus one callback.
	var per_frame := _callbacks_per_frame()
	var bound := ceili(float(BUDGET_MS) / CALLBACK_MS)
	var most: int = per_frame.values().max() if not per_frame.is_empty() else 0
	expect(most <= bound, "callbacks delivered in one frame: %d, more than %d (%s)" % [most, bound, per_frame])
	expect(per_frame.size() >= 3, "deliveries go on over later frames: %s" % per_frame)
	var in_order := true
	for i in _ids.size():
		if _ids[i] != i % SIGNALS:
			in_order = false
	expect(in_order, "callbacks delivered in firing order: %s" % [_ids])
	expect_eq(probe.node.get_status(), WasmScript.STATUS_RUNNING, "the mod still runs")


## Calls of `game.work` by id (physics ids 0.., process ids 100..).
var _work := {}
## How long each physics call takes (ms).
var _physics_ms := 0


## How long each process call takes (ms).
var _process_ms := 0


func _do_work(id: int) -> void:
	_work[id] = _work.get(id, 0) + 1
	if id < 100:
		OS.delay_msec(_physics_ms)
	else:
		OS.delay_msec(_process_ms)


func _frame_share_mods(kinds: Array) -> Array[ModProbe]:
	var registered := register_game_function("game", "work", Callable(self, "_do_work"),
		PackedStringArray(["i32"]), PackedStringArray(), 1)
	expect_eq(registered, OK, "register_function(\"game\", \"work\")")
	var probes: Array[ModProbe] = []
	var module := wat_module("frame_share")
	for i in kinds.size():
		var probe := new_mod("share_%d" % i, {"module": module, "safety_level": 1})
		if not expect_eq(start(probe), OK, "start()"):
			return probes
		probe.node.call_export("set_id", [i, kinds[i]])
		probes.append(probe)
	return probes


## Mods whose `physics_process` each take more than the whole frame budget, with two physics
## ticks a frame: each gets turns (the first one's took the budget every frame, the others never
## ran), and a mod's `process` still runs (they starved).
func test_physics_callbacks_over_the_budget_take_turns_and_leave_process_its_share() -> void:
	set_setting(FRAME_BUDGET, BUDGET_MS)
	_physics_ms = BUDGET_MS + 2
	var fps := Engine.max_fps
	Engine.max_fps = 30
	var probes := await _frame_share_mods([1, 1, 1, 2])
	if probes.size() < 4:
		Engine.max_fps = fps
		return
	_work.clear()
	await frames(60)
	Engine.max_fps = fps
	for probe in probes:
		probe.node.kill()
	var physics: Array = [_work.get(0, 0), _work.get(1, 0), _work.get(2, 0)]
	for n in physics:
		expect(n >= 5, "every physics mod got turns in 60 frames: %s" % [physics])
	print("frame share: physics %s, process %d" % [physics, _work.get(103, 0)])
	expect(_work.get(103, 0) >= 10, "the process mod ran in 60 frames: %d (physics %s)" % [_work.get(103, 0), physics])


## A mod whose `process` takes more than the whole frame budget every frame (but less than the
## twice of it that counts as an overrun) must not starve a mod that lives on signal callbacks:
## every mod with something waiting gets one delivery per frame.
func test_a_process_that_takes_the_whole_budget_leaves_each_waiting_mod_a_delivery_a_frame() -> void:
	set_setting(FRAME_BUDGET, BUDGET_MS)
	_process_ms = BUDGET_MS + 2
	var hog: Array[ModProbe] = _frame_share_mods([2])
	if hog.is_empty():
		return
	var registered := register_game_function("game", "slow", Callable(self, "_slow"),
		PackedStringArray(["i32"]), PackedStringArray(), 1)
	expect_eq(registered, OK, "register_function(\"game\", \"slow\")")
	var probe := new_mod("starved", {"module": wat_module("budget_callbacks"), "safety_level": 1})
	if not expect_eq(start(probe), OK, "start()"):
		return
	for k in 4:
		probe.node.add_user_signal("tick%d" % k)
	expect_eq(probe.node.call_export("connect_ticks", [1]), 0, "connections that failed")
	await frames(2)
	var before: int = _work.get(100, 0)
	for i in 10:
		for k in 4:
			probe.node.emit_signal("tick%d" % k)
		await frames(1)
	await frames(2)
	expect(_work.get(100, 0) - before >= 10, "the hog's process ran every frame: %s" % [_work])
	expect(_ids.size() >= 8, "signal callbacks delivered while the hog took the budget: %d of 10" % _ids.size())
	expect_eq(probe.node.get_status(), WasmScript.STATUS_RUNNING, "the starved mod still runs")
	_process_ms = 0


## Once the budget is spent, one waiting mod a frame still gets a delivery, the mods taking
## turns: with a grace for every mod, ten mods each with a slow callback waiting made every frame
## ten callbacks long however small the budget.
func test_many_mods_slow_callbacks_do_not_add_up_past_the_budget() -> void:
	await _many_mods_slow_callbacks(wat_module("budget_callbacks"))


## The same with mods that have a `process` too: their callbacks are delivered by the pump after
## each `process`, where a delivery that ran the budget out was not counted as the frame's one
## past it, and the delivery round still gave a grace after it.
func test_many_mods_slow_callbacks_after_process_do_not_add_up_past_the_budget() -> void:
	var text := FileAccess.get_file_as_string(WAT + "budget_callbacks.wat").strip_edges()
	text = text.trim_suffix(")") + " (func (export \"process\") (param f64)))"
	await _many_mods_slow_callbacks(WasmEngine.compile_module(text.to_utf8_buffer(), "budget_callbacks_process"))


func _many_mods_slow_callbacks(module: WasmModule) -> void:
	set_setting(FRAME_BUDGET, BUDGET_MS)
	var registered := register_game_function("game", "slow", Callable(self, "_slow"),
		PackedStringArray(["i32"]), PackedStringArray(), 1)
	expect_eq(registered, OK, "register_function(\"game\", \"slow\")")
	var probes: Array[ModProbe] = []
	for i in 10:
		var probe := new_mod("many_%d" % i, {"module": module, "safety_level": 1})
		if not expect_eq(start(probe), OK, "start()"):
			return
		probe.node.add_user_signal("tick0")
		expect_eq(probe.node.call_export("connect_ticks", [1]), 0, "connections that failed")
		probes.append(probe)
	for i in 3:
		for probe in probes:
			probe.node.emit_signal("tick0")
		await frames(1)
	var all_delivered: bool = await wait_until(func() -> bool: return _ids.size() >= 30, 10000)
	expect(all_delivered, "every callback was delivered in later frames: %d of 30" % _ids.size())
	var per_frame := _callbacks_per_frame()
	# The budget plus one callback (the grace is that one when the budget ran out during a
	# delivery; a grace after it let a second slow callback past the budget).
	var bound := ceili(float(BUDGET_MS) / CALLBACK_MS)
	var most: int = per_frame.values().max() if not per_frame.is_empty() else 0
	expect(most <= bound, "callbacks delivered in one frame: %d, more than %d (%s)" % [most, bound, per_frame])
	for probe in probes:
		expect_eq(probe.node.get_status(), WasmScript.STATUS_RUNNING, "the mod still runs")


## Issue 13: a mod that keeps taking more than twice the whole frame budget is reported, a
## warning first and then a trap with a clear message (`trapped`, `STATUS_TRAPPED`), not a kill.
func test_a_mod_over_the_frame_budget_frame_after_frame_is_warned_then_trapped() -> void:
	set_setting(FRAME_BUDGET, 1)
	_process_ms = 3
	var warnings := preload("res://tests/lib/log_counter.gd").new("in most of its last frames", Logger.ERROR_TYPE_WARNING)
	OS.add_logger(warnings)
	var probes: Array[ModProbe] = _frame_share_mods([2])
	if probes.is_empty():
		OS.remove_logger(warnings)
		return
	var hog := probes[0]
	expect(await wait_until(func() -> bool: return hog.node.get_status() != WasmScript.STATUS_RUNNING, 30000), "the mod ended: %s" % hog.describe())
	OS.remove_logger(warnings)
	_process_ms = 0
	expect(warnings.count() >= 1, "the warning came first")
	expect_eq(hog.node.get_status(), WasmScript.STATUS_TRAPPED, "status")
	if expect_eq(hog.traps.size(), 1, "trapped emissions: %s" % hog.describe()):
		expect_contains(hog.traps[0], "frame budget", "the message names the budget")
		expect_contains(hog.traps[0], FRAME_BUDGET, "the message names the setting")
	expect(hog.kills.is_empty(), "no kill: %s" % hog.describe())
	expect_contains(hog.node.get_last_error(), "frame budget", "last_error")
