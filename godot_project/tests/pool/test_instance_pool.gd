## The instance pool (`wasgo/runtime/instance_pool_size`), run by `cargo xtask test` in its own
## Godot process with `-- --wasgo-instance-pool=8` (`run_tests.gd -- --dir=res://tests/pool/`):
## eight mods live at once, the ninth start() fails with an error that names the setting and
## the game goes on, a freed node's slot is taken again, a node asking for more memory than a
## slot holds is refused, and a slot reused by the same module starts from the module's data,
## not from what the last instance wrote; a `kill()` of a spinning `main` gives its slot back.
extends "res://tests/lib/wasgo_test.gd"

const SLOTS := 8

## `peek(addr)` loads a word, `poke(addr, v)` stores one; bytes 16.. hold "pool data".
const POOL_WAT := """(module
  (memory (export "memory") 1)
  (data (i32.const 16) "pool data")
  (func (export "peek") (param i32) (result i32) (i32.load (local.get 0)))
  (func (export "poke") (param i32 i32) (i32.store (local.get 0) (local.get 1))))"""


func _module() -> WasmModule:
	var module := WasmEngine.compile_module(POOL_WAT.to_utf8_buffer(), "pool_probe")
	expect(module != null, "compile_module: %s" % WasmEngine.get_last_error())
	return module


func test_the_engine_runs_with_the_pool_the_command_line_asked_for() -> void:
	expect_eq(WasmEngine.get_stats()["instance_pool_slots"], SLOTS, "get_stats()[\"instance_pool_slots\"]")


func test_a_full_pool_refuses_the_next_start_by_name_and_a_freed_slot_is_taken_again() -> void:
	var module := _module()
	if module == null:
		return
	var probes: Array = []
	for i in SLOTS:
		var probe := new_mod("pooled_%d" % i, {"module": module})
		expect_eq(start(probe), OK, "start() of mod %d of %d" % [i + 1, SLOTS])
		probes.append(probe)
	var extra := new_mod("one_too_many", {"module": module})
	expect_eq(start(extra), ERR_CANT_CREATE, "start() past the pool's %d slots" % SLOTS)
	expect_contains(extra.node.get_last_error(), "wasgo/runtime/instance_pool_size", "the error of a full pool")
	expect_contains(extra.node.get_last_error(), "`pool_probe`", "the error of a full pool")
	# The live ones are unharmed.
	expect_eq(probes[0].node.call_export("peek", [16]), "pool".to_utf8_buffer().decode_s32(0), "a live mod's data")
	# A freed node gives its slot back at once.
	probes[0].node.free()
	expect_eq(start(extra), OK, "start() after a node was freed: %s" % extra.node.get_last_error())
	expect_eq(extra.node.call_export("peek", [16]), "pool".to_utf8_buffer().decode_s32(0), "the data of the mod in the reused slot")
	await expect_frames_go_on("after a full pool refused a start")


func test_a_reused_slot_starts_from_the_modules_data_not_the_last_instances_writes() -> void:
	var module := _module()
	if module == null:
		return
	var first := new_mod("writes_a_secret", {"module": module})
	if not expect_eq(start(first), OK, "start()"):
		return
	first.node.call_export("poke", [16, 0x5ec2e7])
	first.node.call_export("poke", [0, 0x5ec2e7])
	expect_eq(first.node.call_export("peek", [16]), 0x5ec2e7, "the write")
	first.node.free()
	# The most recently freed slot of the module is the one taken next.
	var second := new_mod("reads_the_slot", {"module": module})
	if not expect_eq(start(second), OK, "start()"):
		return
	expect_eq(second.node.call_export("peek", [16]), "pool".to_utf8_buffer().decode_s32(0), "the data segment, not the last write")
	expect_eq(second.node.call_export("peek", [0]), 0, "a byte the last instance wrote")


func test_a_node_asking_for_more_memory_than_a_slot_holds_is_refused() -> void:
	var module := _module()
	if module == null:
		return
	var slot_mb: int = ProjectSettings.get_setting("wasgo/limits/memory_mb")
	var greedy := new_mod("greedy", {"module": module, "memory_limit_mb": slot_mb * 2})
	expect_eq(start(greedy), ERR_CANT_CREATE, "start() with memory_limit_mb above the slot")
	expect_contains(greedy.node.get_last_error(), "memory_limit_mb", "the refusal")
	var modest := new_mod("modest", {"module": module, "memory_limit_mb": slot_mb})
	expect_eq(start(modest), OK, "start() with memory_limit_mb equal to the slot: %s" % modest.node.get_last_error())


func test_kill_of_a_spinning_main_gives_its_slot_back() -> void:
	var module := _module()
	if module == null:
		return
	# A hostile mod holds a slot with a `main` that never returns; the rest of the pool is full.
	var spinner := new_mod("spinner", {"wasm_file": MODS + "spin.wasm"})
	if not expect_eq(start(spinner), OK, "start() of the spinning mod: %s" % spinner.node.get_last_error()):
		return
	for i in SLOTS - 1:
		expect_eq(start(new_mod("filler_%d" % i, {"module": module})), OK, "start() of filler %d" % i)
	var waiting := new_mod("waiting", {"module": module})
	expect_eq(start(waiting), ERR_CANT_CREATE, "start() while the spinning mod holds the last slot")
	spinner.node.kill()
	expect(await wait_for_end(spinner), "the spinning mod ended after kill(): %s" % spinner.describe())
	expect(await wait_for_no_workers(), "the killed mod's worker thread ended")
	expect_eq(start(waiting), OK, "start() after the kill: %s" % waiting.node.get_last_error())
	expect_eq(waiting.node.call_export("peek", [16]), "pool".to_utf8_buffer().decode_s32(0), "the mod in the killed mod's slot")
