## `cargo xtask bench`: the compute kernels of `mods/tests/bench_compute` (recursive fib, a mixed
## int/float loop, a particle step) run as a Rust mod, built with the release profile of
## `mods/tests/bench_compute/Cargo.toml`, and the same mod built with the README's loop-unrolling
## flags (`bench_compute_unrolled.wasm`, `LOOP_UNROLL_FLAGS` in `rust/xtask/src/mods.rs`). The
## xtask runs the same source compiled natively (`native/`) in the same run and prints all three
## with their ratios. Each line it reads is `bench-mod <name> <ms> ms <result>` (the plain build)
## or `bench-mod-unrolled ...`, the best of `REPEATS` calls. Exits 1 if a call failed.
extends SceneTree

const REPEATS := 3
## (export, argument): the sizes `native/src/main.rs` uses.
const KERNELS := [["fib", 30], ["mixed_loop", 10_000_000], ["particles", 1000]]

var _ok := true


func _initialize() -> void:
	_run.call_deferred()


func _run() -> void:
	# A budget far above any kernel's time: this measures speed, not the limits.
	ProjectSettings.set_setting("wasgo/limits/callback_budget_ms", 600000)
	for build: Array in [["bench-mod", "bench_compute"], ["bench-mod-unrolled", "bench_compute_unrolled"]]:
		await _measure(build[0], "res://tests/mods/%s.wasm" % build[1])
	quit(0 if _ok else 1)


## Runs every kernel of the module at `path`, printing one `<prefix> ...` line each.
func _measure(prefix: String, path: String) -> void:
	var module := WasmEngine.load_module(path)
	if module == null:
		push_error("cannot load %s: %s" % [path, WasmEngine.get_last_error()])
		_ok = false
		return
	var mod := WasmScript.new()
	mod.name = "Compute"
	mod.autostart = false
	mod.module = module
	root.add_child(mod)
	if mod.start() != OK:
		push_error("cannot start %s: %s" % [path, mod.get_last_error()])
		mod.free()
		_ok = false
		return
	await process_frame
	for kernel: Array in KERNELS:
		var best := INF
		var result: Variant = null
		for i in REPEATS:
			var t0 := Time.get_ticks_usec()
			result = mod.call_export(kernel[0], [kernel[1]])
			best = minf(best, float(Time.get_ticks_usec() - t0))
		if result == null:
			push_error("%s of %s failed: %s" % [kernel[0], path, mod.get_last_error()])
			_ok = false
		print("%s %s %.3f ms %s" % [prefix, kernel[0], best / 1000.0, result])
	mod.free()
