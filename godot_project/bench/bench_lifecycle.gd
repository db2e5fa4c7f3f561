## `cargo xtask bench`: loading a module from the disk cache against compiling it cold, and how
## long `kill()` takes on a spinning and on a sleeping `main`. Release build, headless.
##
## Played twice by `cargo xtask bench`, as a game is started twice:
##   -- --phase=cold  empties the project's compiled-module cache (`wasgo/runtime/cache_dir`),
##                    then loads each module: a cold compile (checked: `compiles` counts it), which
##                    writes the disk cache; saves the times in `user://`
##   -- --phase=warm  a new process (nothing cached in memory) loads the same modules: from the
##                    disk cache (checked: `cache_hits` counts them, no compile); prints both with
##                    the ratio; then times KILLS kills of each kind of `main` (p50, p99, max)
## Exits 1 if a phase did not do what it measures.
extends SceneTree

## A small Rust mod and a large Go one (the demo's archivist, 2.3 MB).
const MODULES := ["res://tests/mods/bench_mover.wasm", "res://demo/mods/archivist.wasm"]
const COLD_FILE := "user://bench_lifecycle_cold.json"
const KILLS := 50
## A `main` that spins until it is killed.
const SPIN_WAT := """(module
  (memory (export "memory") 1)
  (func (export "main") (result i32) (loop $l (br $l)) (i32.const 0)))"""
## A `main` that sleeps (WASI `poll_oneoff` on a 10 s monotonic clock) until it is killed.
const SLEEP_WAT := """(module
  (import "wasi_snapshot_preview1" "poll_oneoff" (func $poll (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 8) "\\00")
  (data (i32.const 16) "\\01\\00\\00\\00")
  (data (i32.const 24) "\\00\\e4\\0b\\54\\02\\00\\00\\00")
  (func (export "main") (result i32)
    (loop $l (drop (call $poll (i32.const 0) (i32.const 64) (i32.const 1) (i32.const 128))) (br $l))
    (i32.const 0)))"""

var _ok := true


func _initialize() -> void:
	_run.call_deferred()


func _phase() -> String:
	for arg in OS.get_cmdline_user_args():
		if arg.begins_with("--phase="):
			return arg.substr(8)
	return ""


func _fail(message: String) -> void:
	push_error(message)
	_ok = false


## Loads each module once; returns [ms per module], or an empty Array on failure.
func _load_all(expect_compiles: bool) -> Array:
	var times := []
	for path in MODULES:
		var before: Dictionary = WasmEngine.get_stats()
		var t0 := Time.get_ticks_usec()
		var module := WasmEngine.load_module(path)
		var ms := float(Time.get_ticks_usec() - t0) / 1000.0
		if module == null:
			_fail("cannot load %s" % path)
			return []
		var after: Dictionary = WasmEngine.get_stats()
		var compiled: bool = after["compiles"] > before["compiles"]
		if compiled != expect_compiles:
			_fail("%s was %s, which this phase does not measure" % [path, "compiled" if compiled else "loaded from the cache"])
			return []
		times.append(ms)
	return times


func _empty_cache() -> void:
	var dir: String = ProjectSettings.get_setting("wasgo/runtime/cache_dir", "user://wasgo_cache")
	var access := DirAccess.open(dir)
	if access == null:
		return
	for file in access.get_files():
		if file != "cache.key":
			access.remove(file)


func _kill_times(wat: String, name: String) -> Array[int]:
	var module := WasmEngine.compile_module(wat.to_utf8_buffer(), name)
	var took: Array[int] = []
	if module == null:
		_fail("the %s WAT does not compile" % name)
		return took
	for i in KILLS:
		var mod := WasmScript.new()
		mod.module = module
		mod.autostart = false
		root.add_child(mod)
		if mod.start() != OK:
			_fail("cannot start %s: %s" % [name, mod.get_last_error()])
			mod.free()
			return took
		# Let `main` get going (spinning, or inside its sleep).
		for f in 3:
			await process_frame
		var t0 := Time.get_ticks_usec()
		mod.kill()
		took.append(Time.get_ticks_usec() - t0)
		if mod.get_status() != WasmScript.STATUS_KILLED:
			_fail("%s was not killed when kill() returned" % name)
		mod.free()
	took.sort()
	return took


func _run() -> void:
	ProjectSettings.set_setting("wasgo/runtime/print_output", false)
	match _phase():
		"cold":
			_empty_cache()
			var cold := _load_all(true)
			if not cold.is_empty():
				var file := FileAccess.open(COLD_FILE, FileAccess.WRITE)
				file.store_string(JSON.stringify(cold))
				print("cold compiles timed: %s ms (the warm phase prints the comparison)" % [cold])
		"warm":
			var text := FileAccess.get_file_as_string(COLD_FILE)
			var cold = JSON.parse_string(text)
			if not cold is Array or cold.size() != MODULES.size():
				_fail("no cold figures in %s: play the cold phase first" % COLD_FILE)
			var warm := _load_all(false)
			if _ok and not warm.is_empty():
				print("module load from the disk cache after a restart vs a cold compile (release, headless)")
				for i in MODULES.size():
					var bytes := FileAccess.get_file_as_bytes(MODULES[i]).size()
					print("  %-36s %7d KB  cache %8.2f ms  cold %9.2f ms  ratio 1/%.0f  (target <= 1/20)" % [
						MODULES[i].get_file(), bytes / 1024, warm[i], cold[i], cold[i] / warm[i]])
					print("bench-target cache_%s <= 0.05 %.4f disk-cache load / cold compile, %s" % [
						MODULES[i].get_file().get_basename(), warm[i] / cold[i], MODULES[i].get_file()])
			print("kill() of a running main (%d kills each, headless)" % KILLS)
			for kind in [["spinning", SPIN_WAT], ["sleeping", SLEEP_WAT]]:
				var took := await _kill_times(kind[1], "kill_" + kind[0])
				if took.size() == KILLS:
					var p99: int = took[mini(KILLS - 1, int(ceil(KILLS * 0.99)) - 1)]
					print("  %-9s p50 %6.2f ms  p99 %6.2f ms  max %6.2f ms  (target p99 <= 10 ms)" % [
						kind[0], took[KILLS / 2] / 1000.0, p99 / 1000.0, took[-1] / 1000.0])
					print("bench-target kill_%s <= 10 %.2f kill() p99 in ms, %s main" % [
						kind[0], p99 / 1000.0, kind[0]])
			DirAccess.remove_absolute(COLD_FILE)
		_:
			_fail("play with -- --phase=cold, then -- --phase=warm")
	quit(0 if _ok else 1)
