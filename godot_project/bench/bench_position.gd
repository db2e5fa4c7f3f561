## `cargo xtask bench`: sets a Node2D's `position` N times four ways in one run and prints the
## times and ratios. Release build of the extension, headless. Exits 1 if a way failed.
##
##   GDScript typed   node.position = Vector2(i, i)
##   GDScript set()   node.set("position", Vector2(i, i))
##   mod fast path    wasgo.set_vec2(h, "position", i, i)     (one call_export running the loop)
##   mod generic set  wasgo.set(h, "position", <Vector2 bytes>)
##   native           the same typed assignment from Rust (WasgoBench.native_set_position)
##
## Each way runs ROUNDS times, the rounds interleaved (every way once per round), and the best
## round counts: on the 2-core virtual machine one run of a way moved by up to 40% between
## runs, so a single sample could put either side of a ratio near 1.0 on the wrong side.
extends SceneTree

const N := 1_000_000
const ROUNDS := 3


func _initialize() -> void:
	_run.call_deferred()


func _time(label: String, body: Callable) -> float:
	var t0 := Time.get_ticks_usec()
	var failed: Variant = body.call()
	var ns := float(Time.get_ticks_usec() - t0) * 1000.0 / N
	if failed != null and failed != 0:
		push_error("%s: %s calls failed" % [label, failed])
		_ok = false
	return ns


var _ok := true


func _run() -> void:
	ProjectSettings.set_setting("wasgo/limits/callback_budget_ms", 600000)
	var stage := Node.new()
	root.add_child(stage)
	var node := Node2D.new()
	node.name = "Bench"
	stage.add_child(node)
	var mod := WasmScript.new()
	mod.wasm_file = "res://tests/mods/bench_position.wasm"
	mod.autostart = false
	stage.add_child(mod)
	if mod.start() != OK:
		push_error("cannot start the bench mod: %s" % mod.get_last_error())
		quit(1)
		return
	if mod.get_status() == WasmScript.STATUS_LOADING:
		await mod.loaded
	await process_frame

	print("setting a Node2D's position %d times (release build, headless, best of %d)" % [N, ROUNDS])
	var ways := {
		"GDScript typed": func() -> Variant:
			for i in N:
				node.position = Vector2(i, i)
			return 0,
		"GDScript set()": func() -> Variant:
			for i in N:
				node.set("position", Vector2(i, i))
			return 0,
		"mod fast path": func() -> Variant: return mod.call_export("bench_fast", [N]),
		"mod generic set": func() -> Variant: return mod.call_export("bench_set", [N]),
		"native (Rust)": func() -> Variant: return ClassDB.class_call_static(&"WasgoBench", &"native_set_position", node, N),
	}
	var best := {}
	for round in ROUNDS:
		for label: String in ways:
			var ns := _time(label, ways[label])
			best[label] = minf(best.get(label, INF), ns)
	for label: String in ways:
		print("%-16s %8.1f ns/op" % [label, best[label]])
	var typed: float = best["GDScript typed"]
	var gd_set: float = best["GDScript set()"]
	var fast: float = best["mod fast path"]
	var generic: float = best["mod generic set"]
	var native: float = best["native (Rust)"]
	if node.position != Vector2(N - 1, N - 1):
		push_error("the last position is %s" % node.position)
		_ok = false
	print("ratio mod fast path / GDScript typed : %.2f  (target <= 1.0)" % (fast / typed))
	print("ratio mod generic set / GDScript set(): %.2f  (target <= 2.0)" % (generic / gd_set))
	print("ratio native / GDScript typed        : %.2f" % (native / typed))
	# For the summary `cargo xtask bench` prints at the end: key, comparison, bound, figure, name.
	print("bench-target position_fast <= 1.0 %.3f position fast path / GDScript typed" % (fast / typed))
	print("bench-target position_generic <= 2.0 %.3f position generic set / GDScript set()" % (generic / gd_set))
	stage.free()
	quit(0 if _ok else 1)
