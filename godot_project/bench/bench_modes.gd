## `cargo xtask bench`: the compute kernels and the property benchmark, in whatever runtime mode
## this Godot runs in. The xtask plays it twice in one run, as the game starts by default
## (compiled) and with `-- --wasgo-mode=interpreter`, and prints the two side by side with the
## interpreter/compiled ratios. Release build of the extension, headless. Exits 1 if a kernel
## gave a wrong result or a call failed.
##
##   fib        recursive fib(30): calls and integer arithmetic (1.6 M calls)
##   sieve      the primes below 4,000,000: byte loads and stores in linear memory
##   mandelbrot 400 x 400 points, up to 100 iterations each: f64 arithmetic
##   position   1,000,000 `wasgo.set_vec2(h, "position", i, i)` from one `call_export` (the
##              property benchmark's mod fast path: host calls into Godot)
##
## Each line the xtask reads is `bench-mode <mode> <name> <time> <unit> <result>` (a kernel in
## ms per call, the property benchmark in ns per set); the time is the best of `REPEATS` runs.
extends SceneTree

const REPEATS := 3
const POSITION_SETS := 1_000_000

## (name, export, argument, the result it must give).
const KERNELS := [
	["fib", "fib", 30, 832040],
	["sieve", "sieve", 4_000_000, 283146],
	["mandelbrot", "mandelbrot", 400, 0],
]

const KERNELS_WAT := """(module
  (memory (export "memory") 64)
  (func $fib (export "fib") (param $n i32) (result i32)
    (if (result i32) (i32.lt_u (local.get $n) (i32.const 2))
      (then (local.get $n))
      (else (i32.add
        (call $fib (i32.sub (local.get $n) (i32.const 1)))
        (call $fib (i32.sub (local.get $n) (i32.const 2)))))))
  ;; Counts the primes below $n (at most 4 MiB: the memory's size), marking composites in memory.
  (func (export "sieve") (param $n i32) (result i32)
    (local $i i32) (local $j i32) (local $count i32)
    (memory.fill (i32.const 0) (i32.const 0) (local.get $n))
    (local.set $i (i32.const 2))
    (block $done (loop $outer
      (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
      (if (i32.eqz (i32.load8_u (local.get $i)))
        (then
          (local.set $count (i32.add (local.get $count) (i32.const 1)))
          (if (i32.le_u (local.get $i) (i32.div_u (local.get $n) (local.get $i)))
            (then
              (local.set $j (i32.mul (local.get $i) (local.get $i)))
              (block $marked (loop $mark
                (br_if $marked (i32.ge_u (local.get $j) (local.get $n)))
                (i32.store8 (local.get $j) (i32.const 1))
                (local.set $j (i32.add (local.get $j) (local.get $i)))
                (br $mark)))))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $outer)))
    (local.get $count))
  ;; The sum of escape iterations over a $size x $size grid of [-2, 1] x [-1.5, 1.5].
  (func (export "mandelbrot") (param $size i32) (result i32)
    (local $px i32) (local $py i32) (local $it i32) (local $sum i32)
    (local $cx f64) (local $cy f64) (local $x f64) (local $y f64) (local $t f64)
    (block $rows_done (loop $rows
      (br_if $rows_done (i32.ge_u (local.get $py) (local.get $size)))
      (local.set $cy (f64.sub
        (f64.div (f64.mul (f64.convert_i32_u (local.get $py)) (f64.const 3)) (f64.convert_i32_u (local.get $size)))
        (f64.const 1.5)))
      (local.set $px (i32.const 0))
      (block $cols_done (loop $cols
        (br_if $cols_done (i32.ge_u (local.get $px) (local.get $size)))
        (local.set $cx (f64.sub
          (f64.div (f64.mul (f64.convert_i32_u (local.get $px)) (f64.const 3)) (f64.convert_i32_u (local.get $size)))
          (f64.const 2)))
        (local.set $x (f64.const 0))
        (local.set $y (f64.const 0))
        (local.set $it (i32.const 0))
        (block $escaped (loop $iterate
          (br_if $escaped (i32.ge_u (local.get $it) (i32.const 100)))
          (br_if $escaped (f64.gt
            (f64.add (f64.mul (local.get $x) (local.get $x)) (f64.mul (local.get $y) (local.get $y)))
            (f64.const 4)))
          (local.set $t (f64.add
            (f64.sub (f64.mul (local.get $x) (local.get $x)) (f64.mul (local.get $y) (local.get $y)))
            (local.get $cx)))
          (local.set $y (f64.add (f64.mul (f64.mul (f64.const 2) (local.get $x)) (local.get $y)) (local.get $cy)))
          (local.set $x (local.get $t))
          (local.set $it (i32.add (local.get $it) (i32.const 1)))
          (br $iterate)))
        (local.set $sum (i32.add (local.get $sum) (local.get $it)))
        (local.set $px (i32.add (local.get $px) (i32.const 1)))
        (br $cols)))
      (local.set $py (i32.add (local.get $py) (i32.const 1)))
      (br $rows)))
    (local.get $sum)))
"""

var _ok := true


func _initialize() -> void:
	_run.call_deferred()


func _start(stage: Node, node_name: String, module: WasmModule) -> WasmScript:
	if module == null:
		push_error("cannot load %s: %s" % [node_name, WasmEngine.get_last_error()])
		return null
	var mod := WasmScript.new()
	mod.name = node_name
	mod.autostart = false
	mod.module = module
	stage.add_child(mod)
	if mod.start() != OK:
		push_error("cannot start %s: %s" % [node_name, mod.get_last_error()])
		return null
	return mod


## Calls `export(arg)` REPEATS times and prints the best time: in ms per call, or in ns per op
## when `ops` is given.
func _measure(mode: String, name: String, mod: WasmScript, export: String, arg: int, ops: int, expected: Variant) -> void:
	var best := INF
	var result: Variant = null
	for i in REPEATS:
		var t0 := Time.get_ticks_usec()
		result = mod.call_export(export, [arg])
		best = minf(best, float(Time.get_ticks_usec() - t0))
	if result == null or (expected != null and result != expected):
		push_error("%s gave %s, expected %s (%s)" % [name, result, expected, mod.get_last_error()])
		_ok = false
	if ops > 0:
		print("bench-mode %s %s %.1f ns/op %s" % [mode, name, best * 1000.0 / ops, result])
	else:
		print("bench-mode %s %s %.2f ms %s" % [mode, name, best / 1000.0, result])


func _run() -> void:
	# Budgets far above any kernel's time: this measures speed, not the limits.
	ProjectSettings.set_setting("wasgo/limits/callback_budget_ms", 600000)
	ProjectSettings.set_setting("wasgo/limits/frame_budget_ms", 600000)
	ProjectSettings.set_setting("wasgo/limits/compile_timeout_ms", 600000)
	var mode: String = WasmEngine.get_stats()["mode"]
	var stage := Node.new()
	root.add_child(stage)
	var target := Node2D.new()
	target.name = "Bench"
	stage.add_child(target)
	var kernels := _start(stage, "Kernels", WasmEngine.compile_module(KERNELS_WAT.to_utf8_buffer(), "kernels"))
	var position := _start(stage, "Position", WasmEngine.load_module("res://tests/mods/bench_position.wasm"))
	if kernels == null or position == null:
		stage.free()
		quit(1)
		return
	await process_frame
	print("compute kernels and the property benchmark in %s mode (best of %d, release build, headless)" % [mode, REPEATS])
	for kernel in KERNELS:
		var expected: Variant = kernel[3] if kernel[3] != 0 else null
		_measure(mode, kernel[0], kernels, kernel[1], kernel[2], 0, expected)
	_measure(mode, "position", position, "bench_fast", POSITION_SETS, POSITION_SETS, 0)
	if target.position != Vector2(POSITION_SETS - 1, POSITION_SETS - 1):
		push_error("the last position is %s" % target.position)
		_ok = false
	stage.free()
	quit(0 if _ok else 1)
