## `cargo xtask bench`: what 1000 instances of one module cost (issue 14 item 5), apart from
## the nodes that hold them.
##
##   nodes      1000 WasmScript nodes (autostart off) made and added to the tree: Godot's part
##   start()    `start()` on each of them: instance, WASI context, `init` (what the 10 ms target is)
##   empty init the same start() of a module whose `init` does nothing (no host call, no
##              language runtime): what WasGo and wasmtime take per instance, apart from the
##              mod's own `init` (the bench mover's looks up its parent and reads its arguments
##              through Rust's standard library)
##   GDScript   1000 nodes with an empty script made and added the same way, for the ratio
##   memory     the process's resident memory (`/proc/self/statm`, Linux) before and after the
##              start() loop, divided by 1000: what an idle instance holds (its store, its linear
##              memory pages that were touched, its tables and the glue's state), not the nodes
##
## Best of ROUNDS rounds for the times (the machine is shared), the memory of the last round;
## the first round's start() is printed apart, as a game's first spawn of a module pays it.
## `cargo xtask bench` plays this twice: without an instance pool (the default) and with one
## (`-- --wasgo-instance-pool=2000`, `wasgo/runtime/instance_pool_size`), where the rounds after
## the first take the slots the last round gave back.
## Exits 1 if a mod did not start.
extends SceneTree

const NODES := 1000
const ROUNDS := 5

## A mod with an empty `init` and `process` (WasmEngine compiles WAT text too).
const EMPTY_INIT_WAT := """(module
  (memory (export "memory") 1)
  (func (export "init"))
  (func (export "process") (param f64)))
"""

const GD_EMPTY := """extends Node
func _process(_delta: float) -> void:
	pass
"""

var _ok := true


func _initialize() -> void:
	_run.call_deferred()


## Resident bytes of this process, or -1 where `/proc` is not there.
func _rss() -> int:
	var f := FileAccess.open("/proc/self/statm", FileAccess.READ)
	if f == null:
		return -1
	var fields := f.get_line().split(" ")
	return int(fields[1]) * 4096 if fields.size() > 1 else -1


## Returns [us to make and add the nodes, us to start them all, resident bytes start() added].
func _mods(module: WasmModule) -> Array:
	var stage := Node.new()
	root.add_child(stage)
	var t0 := Time.get_ticks_usec()
	var mods: Array[WasmScript] = []
	for i in NODES:
		var mod := WasmScript.new()
		mod.autostart = false
		mod.module = module
		mod.args = PackedStringArray(["empty"])
		stage.add_child(mod)
		mods.append(mod)
	var t1 := Time.get_ticks_usec()
	var rss0 := _rss()
	for mod in mods:
		if mod.start() != OK:
			_ok = false
	var t2 := Time.get_ticks_usec()
	var rss1 := _rss()
	var live: int = WasmEngine.get_stats()["instances"]
	if live < NODES:
		push_error("only %d of %d instances are live" % [live, NODES])
		_ok = false
	stage.free()
	await process_frame
	return [t1 - t0, t2 - t1, rss1 - rss0]


func _gdscript(script: GDScript) -> int:
	var stage := Node.new()
	root.add_child(stage)
	var t0 := Time.get_ticks_usec()
	for i in NODES:
		var n := Node.new()
		n.set_script(script)
		stage.add_child(n)
	var us := Time.get_ticks_usec() - t0
	stage.free()
	await process_frame
	return us


func _run() -> void:
	var module := WasmEngine.load_module("res://tests/mods/bench_mover.wasm")
	if module == null:
		push_error("cannot load the bench mover mod")
		quit(1)
		return
	var empty := WasmEngine.compile_module(EMPTY_INIT_WAT.to_utf8_buffer(), "empty_init")
	if empty == null:
		push_error("cannot compile the empty-init module: %s" % WasmEngine.get_last_error())
		quit(1)
		return
	var script := GDScript.new()
	script.source_code = GD_EMPTY
	script.reload()
	var best_nodes := INF
	var best_start := INF
	var best_gd := INF
	var best_empty := INF
	var first_start := 0.0
	var rss := 0
	var first_rss := 0
	for r in ROUNDS:
		var m: Array = await _mods(module)
		if r == 0:
			first_start = m[1]
			first_rss = m[2]
		best_nodes = minf(best_nodes, m[0])
		best_start = minf(best_start, m[1])
		rss = m[2]
		best_gd = minf(best_gd, await _gdscript(script))
	# Apart from the bench mover's rounds: with a pool, each module's slots are kept for it.
	for r in ROUNDS:
		best_empty = minf(best_empty, (await _mods(empty))[1])
	var slots: int = WasmEngine.get_stats()["instance_pool_slots"]
	var pool := ("instance pool of %d slots" % slots) if slots > 0 else "no instance pool"
	print("1000 instances of one module, apart from their nodes (best of %d; %s)" % [ROUNDS, pool])
	print("  WasmScript nodes, autostart off %8.2f ms" % (best_nodes / 1000.0))
	print("  start() on each (instance+init) %8.2f ms  (target <= 10 ms)" % (best_start / 1000.0))
	print("  start() on each, first round    %8.2f ms" % (first_start / 1000.0))
	print("  the same, a mod whose init is empty %6.2f ms  (WasGo and wasmtime alone)" % (best_empty / 1000.0))
	print("  GDScript nodes with a script    %8.2f ms" % (best_gd / 1000.0))
	print("  ratio start() / GDScript nodes  : %.2f" % (best_start / best_gd))
	# The pool run's row is keyed by what was asked for: a pool that could not be reserved
	# still gives its row, saying so.
	var pool_asked := Array(OS.get_cmdline_user_args()).any(
		func(a: String) -> bool: return a.begins_with("--wasgo-instance-pool"))
	print("bench-target %s <= 10 %.2f start() x 1000 in ms, %s" % [
		"start_1000_pool" if pool_asked else "start_1000", best_start / 1000.0,
		pool + (" (the pool asked for could not be reserved)" if pool_asked and slots == 0 else "")])
	if rss >= 0:
		print("  resident memory per idle instance: %.1f KiB (RSS across the start() loop / %d)" % [rss / 1024.0 / NODES, NODES])
		# A pool's slots keep the pages their last instances dirtied, so later rounds add none:
		# the first round shows what a slot holds.
		print("  the same in the first round     : %.1f KiB" % [first_rss / 1024.0 / NODES])
	print("  memory layout                   %s MiB (wasgo/runtime/memory_reservation_mb)" % ProjectSettings.get_setting("wasgo/runtime/memory_reservation_mb"))
	quit(0 if _ok else 1)
