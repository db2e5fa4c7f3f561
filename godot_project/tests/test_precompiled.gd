## Precompiled mods: `WasmEngine.precompile` makes an artifact that `load_precompiled` loads
## without compiling (`get_stats()` counts it in `precompiled_loads`, not `compiles`); a
## tampered, unauthenticated or mismatched artifact is refused with a clear error;
## `compile_module`, `load_module` and a `WasmScript` refuse an artifact (a `.cwasm` renamed
## `.wasm` never runs); a `.cwasm` beside a `res://` `.wasm` is loaded instead of compiling only
## when it authenticates under `wasgo/runtime/precompile_key`. Every module carries a fresh
## constant, so no cache (memory or disk) can answer for it.
extends "res://tests/lib/wasgo_test.gd"

const KEY_SETTING := "wasgo/runtime/precompile_key"
const SHIPPED_DIR := "res://tests/precompiled_tmp/"
const HEADER_LEN := 116

var _files: PackedStringArray = []


## WAT text of a module whose `answer()` export returns `value`, unique per call.
func _wat(value: int) -> PackedByteArray:
	var salt := Time.get_ticks_usec() + randi()
	return ("(module (func (export \"answer\") (result i32) i32.const %d)\n" % value
		+ "  (func (export \"salt\") (result i64) i64.const %d))" % salt).to_utf8_buffer()


func _key() -> PackedByteArray:
	return Crypto.new().generate_random_bytes(32)


func _write(path: String, bytes: PackedByteArray) -> void:
	var f := FileAccess.open(path, FileAccess.WRITE)
	f.store_buffer(bytes)
	f.close()
	_files.append(path)


func cleanup() -> void:
	await super.cleanup()
	for path in _files:
		DirAccess.remove_absolute(ProjectSettings.globalize_path(path))
	_files.clear()
	DirAccess.remove_absolute(ProjectSettings.globalize_path(SHIPPED_DIR))


## Runs `module` in a node and returns what its `answer()` export says (null on failure).
func _answer(module: WasmModule, node_name: String) -> Variant:
	var probe := new_mod(node_name, {"module": module})
	if not expect_eq(start(probe), OK, "start() of %s: %s" % [node_name, probe.node.get_last_error()]):
		return null
	return probe.node.call_export("answer", [])


func _stat(name: String) -> int:
	return int(WasmEngine.get_stats()[name])


func test_a_precompiled_artifact_runs_without_a_compile() -> void:
	var key := _key()
	var compiles := _stat("compiles")
	var artifact := WasmEngine.precompile(_wat(42), key)
	if not expect(not artifact.is_empty(), "precompile failed: %s" % WasmEngine.get_last_error()):
		return
	expect_eq(_stat("compiles"), compiles + 1, "`compiles` after precompile()")
	expect(WasmEngine.get_stats()["compiler"], "get_stats()[\"compiler\"] in this build")
	var loads := _stat("precompiled_loads")
	var hits := _stat("cache_hits")
	var module := WasmEngine.load_precompiled(artifact, "answer42", key)
	if not expect(module != null, "load_precompiled failed: %s" % WasmEngine.get_last_error()):
		return
	expect_eq(_stat("precompiled_loads"), loads + 1, "`precompiled_loads` after load_precompiled()")
	expect_eq(_stat("compiles"), compiles + 1, "`compiles` after load_precompiled() (no compile)")
	expect_eq(_stat("cache_hits"), hits, "`cache_hits` after load_precompiled()")
	expect_eq(module.name, "answer42", "the module's name")
	expect_eq(_answer(module, "precompiled_answer"), 42, "the precompiled mod's answer()")


func test_tampered_unauthenticated_and_mismatched_artifacts_are_refused() -> void:
	var key := _key()
	var artifact := WasmEngine.precompile(_wat(7), key)
	if not expect(not artifact.is_empty(), "precompile failed: %s" % WasmEngine.get_last_error()):
		return
	var loads := _stat("precompiled_loads")
	var cases := {}
	for at in [20, 100, HEADER_LEN + 10, artifact.size() / 2, artifact.size() - 1]:
		var bad := artifact.duplicate()
		bad[at] = bad[at] ^ 0x10
		cases["byte %d changed" % at] = [bad, key, "not authenticated"]
	cases["another key"] = [artifact, _key(), "not authenticated"]
	cases["truncated"] = [artifact.slice(0, artifact.size() - 5), key, "truncated"]
	cases["a key too short"] = [artifact, key.slice(0, 8), "shorter than the minimum"]
	cases["WebAssembly"] = [_wat(1), key, "compile_module"]
	cases["empty"] = [PackedByteArray(), key, "empty"]
	# An authentic artifact made for another engine: the compatibility hash changed and the
	# HMAC made again with the key (only a key holder can do this).
	var other := artifact.duplicate()
	for i in range(12, 44):
		other[i] = other[i] ^ 0xff
	var signed := other.slice(0, 84)
	signed.append_array(other.slice(HEADER_LEN))
	var mac := Crypto.new().hmac_digest(HashingContext.HASH_SHA256, key, signed)
	for i in 32:
		other[84 + i] = mac[i]
	cases["another engine"] = [other, key, "another engine"]
	for what: String in cases:
		var c: Array = cases[what]
		var module := WasmEngine.load_precompiled(c[0], "bad", c[1])
		expect(module == null, "%s: load_precompiled() returned a module" % what)
		expect_contains(WasmEngine.get_last_error(), c[2], "%s: get_last_error()" % what)
	expect_eq(_stat("precompiled_loads"), loads, "`precompiled_loads` after refusals")
	# The untampered one still loads.
	expect(WasmEngine.load_precompiled(artifact, "good", key) != null, "the good artifact: %s" % WasmEngine.get_last_error())


func test_without_a_key_nothing_is_precompiled_or_loaded() -> void:
	set_setting(KEY_SETTING, "")
	expect(WasmEngine.precompile(_wat(1)).is_empty(), "precompile() without a key")
	expect_contains(WasmEngine.get_last_error(), KEY_SETTING, "get_last_error() without a key")
	set_setting(KEY_SETTING, "not hex")
	expect(WasmEngine.load_precompiled(PackedByteArray([1, 2, 3])) == null, "load_precompiled() with a bad key setting")
	expect_contains(WasmEngine.get_last_error(), "hexadecimal", "get_last_error() with a bad key setting")


func test_compile_module_and_load_module_refuse_an_artifact() -> void:
	var artifact := WasmEngine.precompile(_wat(5), _key())
	if not expect(not artifact.is_empty(), "precompile failed: %s" % WasmEngine.get_last_error()):
		return
	var compiles := _stat("compiles")
	expect(WasmEngine.compile_module(artifact, "sneaky") == null, "compile_module() of an artifact")
	expect_contains(WasmEngine.get_last_error(), "WasmEngine.load_precompiled", "compile_module()'s error")
	# A `.cwasm` renamed `.wasm` (a mod file that is really native code).
	var path := "user://wasgo_renamed_artifact.wasm"
	_write(path, artifact)
	expect(WasmEngine.load_module(path) == null, "load_module() of a renamed artifact")
	expect_contains(WasmEngine.get_last_error(), "precompiled artifact", "load_module()'s error")
	var probe := new_mod("renamed_artifact", {"wasm_file": path}, false)
	expect(start(probe) != OK, "start() of a node whose wasm_file is an artifact")
	await frames(3)
	expect(not probe.node.is_running(), "the node runs an artifact")
	expect_eq(probe.started, 0, "`started` emissions")
	expect_contains(probe.node.get_last_error(), "precompiled artifact", "the node's get_last_error()")
	expect_eq(_stat("compiles"), compiles, "`compiles` (nothing was compiled)")


func test_a_cwasm_beside_a_game_wasm_is_loaded_only_when_it_authenticates() -> void:
	var key := _key()
	set_setting(KEY_SETTING, key.hex_encode())
	DirAccess.make_dir_recursive_absolute(ProjectSettings.globalize_path(SHIPPED_DIR))
	# A matching pair: the artifact is loaded, nothing compiled.
	var wasm := _wat(11)
	_write(SHIPPED_DIR + "pair.wasm", wasm)
	_write(SHIPPED_DIR + "pair.cwasm", WasmEngine.precompile(wasm))
	var compiles := _stat("compiles")
	var loads := _stat("precompiled_loads")
	var module := WasmEngine.load_module(SHIPPED_DIR + "pair.wasm")
	if expect(module != null, "load_module() of a shipped pair: %s" % WasmEngine.get_last_error()):
		expect_eq(_stat("precompiled_loads"), loads + 1, "`precompiled_loads` for the pair")
		expect_eq(_stat("compiles"), compiles, "`compiles` for the pair")
		expect_eq(_answer(module, "shipped_pair"), 11, "the shipped pair's answer()")
	# A tampered artifact beside its .wasm: the .wasm is compiled, the artifact never runs.
	var wasm2 := _wat(12)
	var bad := WasmEngine.precompile(wasm2)
	bad[bad.size() - 1] = bad[bad.size() - 1] ^ 1
	_write(SHIPPED_DIR + "tampered.wasm", wasm2)
	_write(SHIPPED_DIR + "tampered.cwasm", bad)
	compiles = _stat("compiles")
	loads = _stat("precompiled_loads")
	var compiled := WasmEngine.load_module(SHIPPED_DIR + "tampered.wasm")
	if expect(compiled != null, "load_module() beside a tampered artifact: %s" % WasmEngine.get_last_error()):
		expect_eq(_stat("compiles"), compiles + 1, "`compiles` beside a tampered artifact")
		expect_eq(_stat("precompiled_loads"), loads, "`precompiled_loads` beside a tampered artifact")
		expect_eq(_answer(compiled, "tampered_pair"), 12, "the compiled module's answer()")
	# An artifact too large to read beside its .wasm: passed over like a tampered one (the load
	# failed instead of compiling the .wasm). (The limit is set back after the test.)
	set_setting("wasgo/limits/module_mb", 1)
	var wasm4 := _wat(15)
	_write(SHIPPED_DIR + "huge.wasm", wasm4)
	var huge := FileAccess.open(SHIPPED_DIR + "huge.cwasm", FileAccess.WRITE)
	huge.seek(5 * 1024 * 1024)
	huge.store_8(0)
	huge.close()
	_files.append(SHIPPED_DIR + "huge.cwasm")
	var beside_huge := WasmEngine.load_module(SHIPPED_DIR + "huge.wasm")
	if expect(beside_huge != null, "load_module() beside an artifact too large: %s" % WasmEngine.get_last_error()):
		expect_eq(_answer(beside_huge, "huge_pair"), 15, "the compiled module's answer()")
	# A tampered artifact alone (the .wasm not shipped): refused, nothing runs.
	_write(SHIPPED_DIR + "alone.cwasm", bad)
	expect(WasmEngine.load_module(SHIPPED_DIR + "alone.wasm") == null, "load_module() of a tampered artifact alone")
	expect_contains(WasmEngine.get_last_error(), "not authenticated", "the error for a tampered artifact alone")
	# A good artifact alone: loaded.
	var wasm3 := _wat(13)
	_write(SHIPPED_DIR + "only.cwasm", WasmEngine.precompile(wasm3))
	var only := WasmEngine.load_module(SHIPPED_DIR + "only.wasm")
	if expect(only != null, "load_module() of an artifact alone: %s" % WasmEngine.get_last_error()):
		expect_eq(_answer(only, "shipped_alone"), 13, "the artifact-only module's answer()")
	# Beside a mod's .wasm in user:// an artifact is never looked at.
	_write("user://wasgo_mod_pair.wasm", _wat(14))
	_write("user://wasgo_mod_pair.cwasm", WasmEngine.precompile(_wat(99)))
	loads = _stat("precompiled_loads")
	var mod := WasmEngine.load_module("user://wasgo_mod_pair.wasm")
	if expect(mod != null, "load_module() of a user:// mod: %s" % WasmEngine.get_last_error()):
		expect_eq(_stat("precompiled_loads"), loads, "`precompiled_loads` for a user:// mod")
		expect_eq(_answer(mod, "user_mod"), 14, "the user:// mod's answer()")


## A mods-folder scan of the game's own `res://` mods checks one shipped precompiled from its
## artifact: nothing is compiled (in a library without the compiler every such mod was "does
## not load"), and the mod is startable.
func test_a_scan_of_shipped_mods_loads_their_artifacts_instead_of_compiling() -> void:
	var key := _key()
	set_setting(KEY_SETTING, key.hex_encode())
	DirAccess.make_dir_recursive_absolute(ProjectSettings.globalize_path(SHIPPED_DIR))
	var wasm := _wat(21)
	_write(SHIPPED_DIR + "scanned.wasm", wasm)
	_write(SHIPPED_DIR + "scanned.cwasm", WasmEngine.precompile(wasm))
	var compiles := _stat("compiles")
	var loads := _stat("precompiled_loads")
	var found: Array = WasmEngine.scan_mods(SHIPPED_DIR)
	var entry: Dictionary = {}
	for m in found:
		if m["id"] == "scanned":
			entry = m
	if expect(not entry.is_empty(), "the shipped mod in the scan: %s (%s)" % [found, WasmEngine.get_last_error()]):
		expect_eq(entry["problems"], PackedStringArray(), "problems of the shipped mod")
		expect_eq(entry["startable"], true, "the shipped mod may start")
		expect_eq(entry["guest_kind"], "wasgo", "its guest kind")
	expect_eq(_stat("compiles"), compiles, "`compiles` of the scan")
	expect_eq(_stat("precompiled_loads"), loads + 1, "`precompiled_loads` of the scan")


## `bytes` (a binary module) with a custom section `salt` holding a fresh number appended: the
## same code under another SHA-256, so no cache answers for it.
func _salted(bytes: PackedByteArray) -> PackedByteArray:
	var salted := bytes.duplicate()
	var payload := PackedByteArray([4]) + "salt".to_utf8_buffer()
	var salt := PackedByteArray()
	salt.resize(8)
	salt.encode_s64(0, Time.get_ticks_usec() + randi())
	payload.append_array(salt)
	salted.append(0)
	salted.append(payload.size())
	salted.append_array(payload)
	return salted


func test_a_larger_precompiled_module_loads_without_compiling() -> void:
	var bytes := _salted(FileAccess.get_file_as_bytes(MODS + "traps.wasm"))
	if not expect(bytes.size() > 100000, "cannot read traps.wasm"):
		return
	var key := _key()
	var started := Time.get_ticks_usec()
	var artifact := WasmEngine.precompile(bytes, key)
	var compile_us := Time.get_ticks_usec() - started
	if not expect(not artifact.is_empty(), "precompile failed: %s" % WasmEngine.get_last_error()):
		return
	var compiles := _stat("compiles")
	started = Time.get_ticks_usec()
	var module := WasmEngine.load_precompiled(artifact, "traps", key)
	var load_us := Time.get_ticks_usec() - started
	if not expect(module != null, "load_precompiled failed: %s" % WasmEngine.get_last_error()):
		return
	expect_eq(_stat("compiles"), compiles, "`compiles` after loading the artifact")
	expect_eq(module.get_guest_kind(), "wasgo", "the loaded module's guest kind")
	expect(module.get_exports().size() > 0, "the loaded module lists its exports")
	# Printed, not asserted: timings depend on the machine.
	print("traps.wasm (%d KiB): compile + serialize %d ms, load_precompiled %d ms (artifact %d KiB)" % [
		bytes.size() / 1024, compile_us / 1000, load_us / 1000, artifact.size() / 1024])


func test_the_disk_cache_key_is_made_once_per_install() -> void:
	var path := "user://wasgo/cache.key"
	expect(FileAccess.file_exists(path), "%s exists once the runtime started with a disk cache" % path)
	expect_eq(FileAccess.get_file_as_bytes(path).size(), 32, "bytes in %s" % path)


## Phase 1 of the cache tamper test (phase 2 is `after_restart/test_after_restart_cache.gd`, in
## a second Godot process): the disk cache file of a fixed module gets one byte flipped.
func test_restart_phase_1_a_disk_cache_file_is_tampered() -> void:
	var bytes := CACHE_TAMPER_WAT.to_utf8_buffer()
	# Files an earlier WasGo (another artifact format or engine) left for this source are not
	# this engine's: only the one this compile writes is looked at.
	for stale in cache_files_of(bytes):
		DirAccess.remove_absolute(stale)
	var module := WasmEngine.compile_module(bytes, "cache_tamper")
	if not expect(module != null, "compile_module: %s" % WasmEngine.get_last_error()):
		return
	var files := cache_files_of(bytes)
	if not expect_eq(files.size(), 1, "disk cache files of the module"):
		return
	var cached := FileAccess.get_file_as_bytes(files[0])
	expect_eq(cached.slice(0, 8).get_string_from_ascii(), "WASGOAOT", "the cache file's magic")
	cached[cached.size() / 2] = cached[cached.size() / 2] ^ 0x01
	_write_over(files[0], cached)


const CACHE_TAMPER_WAT := "(module (func (export \"answer\") (result i32) i32.const 2026) (func (export \"cache_tamper_marker\")))"


## The disk cache files of the module with source `bytes` for the runtime mode this Godot runs
## in (named `<SHA-256>-<native or pulley>-<compatibility hash>.cwasm`: the suite's compiled and
## interpreted passes share the cache folder, each with its own file).
static func cache_files_of(bytes: PackedByteArray) -> PackedStringArray:
	var dir := str(ProjectSettings.get_setting("wasgo/runtime/cache_dir", "user://wasgo_cache"))
	var hashing := HashingContext.new()
	hashing.start(HashingContext.HASH_SHA256)
	hashing.update(bytes)
	var sha := hashing.finish().hex_encode()
	var mode := "pulley" if WasmEngine.get_stats()["mode"] == "interpreter" else "native"
	var found := PackedStringArray()
	for file in DirAccess.get_files_at(dir):
		if file.begins_with(sha + "-" + mode + "-") and file.ends_with(".cwasm"):
			found.append(dir.path_join(file))
	return found


func _write_over(path: String, bytes: PackedByteArray) -> void:
	var f := FileAccess.open(path, FileAccess.WRITE)
	f.store_buffer(bytes)
	f.close()
