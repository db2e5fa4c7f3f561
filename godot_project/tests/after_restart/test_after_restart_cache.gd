## Phase 2 of the cache tamper test, in a second Godot process: the disk cache file phase 1
## (`test_precompiled.gd::test_restart_phase_1_a_disk_cache_file_is_tampered`) altered is refused
## (`cache_rejects`), the module is compiled instead and runs, and the file is written again,
## authenticated under the install's key (`user://wasgo/cache.key`).
extends "res://tests/lib/wasgo_test.gd"

const Precompiled := preload("res://tests/test_precompiled.gd")


func test_restart_phase_2_the_tampered_cache_file_was_recompiled_not_run() -> void:
	var bytes: PackedByteArray = Precompiled.CACHE_TAMPER_WAT.to_utf8_buffer()
	var files := Precompiled.cache_files_of(bytes)
	if not expect_eq(files.size(), 1, "disk cache files of the module before loading"):
		return
	var tampered := FileAccess.get_file_as_bytes(files[0])
	var stats := WasmEngine.get_stats()
	var module := WasmEngine.compile_module(bytes, "cache_tamper")
	if not expect(module != null, "compile_module: %s" % WasmEngine.get_last_error()):
		return
	var after := WasmEngine.get_stats()
	expect_eq(after["cache_rejects"], stats["cache_rejects"] + 1, "`cache_rejects`")
	expect_eq(after["compiles"], stats["compiles"] + 1, "`compiles` (the module was compiled again)")
	var probe := new_mod("cache_tamper", {"module": module})
	if expect_eq(start(probe), OK, "start(): %s" % probe.node.get_last_error()):
		expect_eq(probe.node.call_export("answer", []), 2026, "answer() of the recompiled module")
	var rewritten := FileAccess.get_file_as_bytes(files[0])
	expect(rewritten != tampered, "the tampered cache file was replaced")
	# The new file authenticates under the install's key: HMAC-SHA256 of the header before the
	# MAC and the payload, at bytes 84..116.
	var key := FileAccess.get_file_as_bytes("user://wasgo/cache.key")
	var signed := rewritten.slice(0, 84)
	signed.append_array(rewritten.slice(116))
	var mac := Crypto.new().hmac_digest(HashingContext.HASH_SHA256, key, signed)
	expect_eq(rewritten.slice(84, 116), mac, "the rewritten file's HMAC under the install's key")
