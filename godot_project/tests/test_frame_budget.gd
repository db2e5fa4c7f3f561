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
	probe.node.add_user_signal("tick")
	expect_eq(probe.node.call_export("connect_ticks", [SIGNALS]), 0, "connections that failed")
	for i in 5:
		probe.node.emit_signal("tick")
		await frames(1)
	await frames(5)
	expect(_ids.size() > 0, "no callback was delivered: %s" % probe.describe())
	# Per frame: callbacks start while the budget is not spent, so at most
	# ceil(BUDGET_MS / CALLBACK_MS) of them: the budget plus one callback.
	var per_frame := {}
	for f in _frames:
		per_frame[f] = per_frame.get(f, 0) + 1
	var most := 0
	for f in per_frame:
		most = maxi(most, per_frame[f])
	var bound := ceili(float(BUDGET_MS) / CALLBACK_MS)
	expect(most <= bound, "callbacks delivered in one frame: %d, more than %d (%s)" % [most, bound, per_frame])
	expect(per_frame.size() >= 3, "deliveries go on over later frames: %s" % per_frame)
	var in_order := true
	for i in _ids.size():
		if _ids[i] != i % SIGNALS:
			in_order = false
	expect(in_order, "callbacks delivered in firing order: %s" % [_ids])
	expect_eq(probe.node.get_status(), WasmScript.STATUS_RUNNING, "the mod still runs")
