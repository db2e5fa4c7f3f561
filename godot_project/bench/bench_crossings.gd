## `cargo xtask bench`: the cost of crossing between the game and a mod, GDScript side by side in
## one run, with ratios. Release build of the extension, headless. Exits 1 if a way failed.
##
##   empty entry     mod.call_export("noop", []) and the export's Callable
##                   (`get_export_callable("noop").call()`)  vs  a GDScript method call  vs
##                   a GDScript method's Callable.call()  vs  an empty Rust closure's Callable
##                   (`WasgoBench.empty_callable()`: the custom-Callable dispatch alone)
##   main round trip get_node + set(position) + get(position) from a mod's `main` (worker
##                   thread, through the main-thread bridge) at 60 fps, vs the same in GDScript
extends SceneTree

const CALLS := 200_000
const ROUND_TRIPS := 100_000
const GD_ROUND_TRIPS := 200_000
## How long the `main` benchmark may take before it is reported as too slow and killed.
const MAIN_LIMIT_MS := 20_000

var _ok := true


class Target:
	func noop() -> void:
		pass


func _initialize() -> void:
	_run.call_deferred()


func _start(stage: Node, args: PackedStringArray) -> WasmScript:
	var mod := WasmScript.new()
	mod.wasm_file = "res://tests/mods/bench_main.wasm"
	mod.autostart = false
	mod.args = args
	stage.add_child(mod)
	if mod.start() != OK:
		push_error("cannot start the bench mod: %s" % mod.get_last_error())
		_ok = false
		return null
	if mod.get_status() == WasmScript.STATUS_LOADING:
		await mod.loaded
	return mod


func _run() -> void:
	ProjectSettings.set_setting("wasgo/limits/callback_budget_ms", 600000)
	ProjectSettings.set_setting("wasgo/runtime/print_output", false)
	var stage := Node.new()
	root.add_child(stage)
	var bench := Node2D.new()
	bench.name = "Bench"
	stage.add_child(bench)

	# Empty entries.
	var mod: WasmScript = await _start(stage, PackedStringArray())
	if mod == null:
		quit(1)
		return
	# `main` without an argument returns at once; `call_export` works once it has.
	if mod.get_status() == WasmScript.STATUS_RUNNING:
		await mod.finished
	var target := Target.new()
	var t0 := Time.get_ticks_usec()
	for i in CALLS:
		mod.call_export("noop", [])
	var entry_ns := float(Time.get_ticks_usec() - t0) * 1000.0 / CALLS
	if mod.get_last_error() != "":
		push_error("call_export failed: %s" % mod.get_last_error())
		_ok = false
	t0 = Time.get_ticks_usec()
	for i in CALLS:
		target.noop()
	var method_ns := float(Time.get_ticks_usec() - t0) * 1000.0 / CALLS
	var callable := Callable(target, "noop")
	t0 = Time.get_ticks_usec()
	for i in CALLS:
		callable.call()
	var callable_ns := float(Time.get_ticks_usec() - t0) * 1000.0 / CALLS
	# The floor under the export's Callable: an empty Rust closure behind the same kind of
	# custom Callable (Godot's and gdext's dispatch, none of WasGo's entry work).
	var floor_callable: Callable = ClassDB.class_call_static(&"WasgoBench", &"empty_callable")
	t0 = Time.get_ticks_usec()
	for i in CALLS:
		floor_callable.call()
	var floor_ns := float(Time.get_ticks_usec() - t0) * 1000.0 / CALLS
	var export_callable := mod.get_export_callable("noop")
	t0 = Time.get_ticks_usec()
	for i in CALLS:
		export_callable.call()
	var export_callable_ns := float(Time.get_ticks_usec() - t0) * 1000.0 / CALLS
	if mod.get_last_error() != "":
		push_error("the export's Callable failed: %s" % mod.get_last_error())
		_ok = false
	print("empty entry (%d calls, headless)" % CALLS)
	print("  mod call_export(\"noop\", [])  %8.1f ns/call" % entry_ns)
	print("  mod get_export_callable().call() %5.1f ns/call" % export_callable_ns)
	print("  GDScript method call          %8.1f ns/call" % method_ns)
	print("  GDScript Callable.call()      %8.1f ns/call" % callable_ns)
	print("  empty Rust Callable (floor)   %8.1f ns/call  (the dispatch an export's Callable cannot avoid)" % floor_ns)
	print("  ratio Callable / GDScript method : %.2f  (target <= 1.0)" % (export_callable_ns / method_ns))
	print("  ratio call_export / GDScript method : %.2f" % (entry_ns / method_ns))
	print("bench-target callable <= 1.0 %.3f empty export Callable / GDScript method" % (export_callable_ns / method_ns))

	# Round trips from `main` at 60 fps.
	t0 = Time.get_ticks_usec()
	for i in GD_ROUND_TRIPS:
		var n := mod.get_node("../Bench") as Node2D
		n.position = Vector2(i, 2 * i)
		if n.position != Vector2(i, 2 * i):
			_ok = false
	var gd_per_s := GD_ROUND_TRIPS / (float(Time.get_ticks_usec() - t0) / 1e6)
	Engine.max_fps = 60
	await process_frame
	var worker: WasmScript = await _start(stage, PackedStringArray([str(ROUND_TRIPS)]))
	if worker == null:
		quit(1)
		return
	var frames_before := Engine.get_process_frames()
	t0 = Time.get_ticks_usec()
	var state := {"done": false, "exit": -1, "count": 0, "at": t0}
	worker.finished.connect(func(code: int) -> void:
		state["done"] = true
		state["exit"] = code)
	worker.output.connect(func(line: String) -> void:
		if line.begins_with("done "):
			state["count"] = int(line.substr(5))
			state["at"] = Time.get_ticks_usec())
	while not state["done"] and Time.get_ticks_usec() - t0 < MAIN_LIMIT_MS * 1000:
		await process_frame
	var seconds := float(Time.get_ticks_usec() - t0) / 1e6
	var fps := (Engine.get_process_frames() - frames_before) / seconds
	Engine.max_fps = 0
	if not state["done"]:
		worker.kill()
		# Slower than the target is a figure, not a failure: the rate below says how slow.
		print("  (main did not finish %d round trips in %d ms: the rate below counts the %d it reported)" % [ROUND_TRIPS, MAIN_LIMIT_MS, state["count"]])
	elif state["exit"] != 0:
		push_error("%d round trips from main gave a wrong value" % state["exit"])
		_ok = false
	var count: int = state["count"]
	var per_s := count / (float(state["at"] - t0) / 1e6) if count > 0 else 0.0
	print("get_node + set + get round trips")
	print("  mod main at %.0f fps          %10.0f round trips/s (%d in %.2f s)" % [fps, per_s, count, float(state["at"] - t0) / 1e6])
	print("  GDScript (main thread)        %10.0f round trips/s" % gd_per_s)
	print("  mod main round trips/s        : %.0f  (target >= 50000 at 60 fps)" % per_s)
	print("bench-target main_round_trips >= 50000 %.0f main round trips/s at %.0f fps" % [per_s, fps])
	stage.free()
	quit(0 if _ok else 1)
