## `cargo xtask bench`: the compute kernels of `mods/tests/bench_compute` (recursive fib, a mixed
## int/float loop, a particle step) run as a Rust mod, built with the release profile of
## `mods/tests/bench_compute/Cargo.toml`. The xtask runs the same source compiled natively
## (`native/`) in the same run and prints both with their ratio. Each line it reads is
## `bench-mod <name> <ms> ms <result>`, the best of `REPEATS` calls. Exits 1 if a call failed.
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
	var module := WasmEngine.load_module("res://tests/mods/bench_compute.wasm")
	if module == null:
		push_error("cannot load bench_compute: %s" % WasmEngine.get_last_error())
		quit(1)
		return
	var mod := WasmScript.new()
	mod.name = "Compute"
	mod.autostart = false
	mod.module = module
	root.add_child(mod)
	if mod.start() != OK:
		push_error("cannot start bench_compute: %s" % mod.get_last_error())
		mod.free()
		quit(1)
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
			push_error("%s failed: %s" % [kernel[0], mod.get_last_error()])
			_ok = false
		print("bench-mod %s %.3f ms %s" % [kernel[0], best / 1000.0, result])
	mod.free()
	quit(0 if _ok else 1)
