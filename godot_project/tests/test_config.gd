## A mod's optional `config` export: dynamic metadata read by `WasmModule.get_config()` and, when
## a `WasmScript` starts, before `init`, by `get_mod_config()`. It runs in a throwaway instance in
## which every import traps, under a 50 ms CPU budget; a failure is reported and the mod starts
## anyway.
extends "res://tests/lib/wasgo_test.gd"

const HOT_STATE := "res://tests/mods/hot_state.wasm"


## A WAT mod whose `config` answers `json` (after calling `wasgo.log` when `call_import`, or
## spinning forever when `spin`), whose `init` logs "init ran" and whose `ready` logs "ready ran".
func _wat_with_config(json: String, call_import := false, spin := false) -> PackedByteArray:
	var before := ""
	if call_import:
		before = "(call $log (i32.const 1) (i32.const 16) (i32.const 8))"
	elif spin:
		before = "(loop $l (br $l))"
	var escaped := json.c_escape()
	var length := json.to_utf8_buffer().size()
	return ("""(module
  (import "wasgo" "log" (func $log (param i32 i32 i32)))
  (memory (export "memory") 1)
  (global $next (mut i32) (i32.const 8192))
  (data (i32.const 16) "init ran")
  (data (i32.const 32) "ready ran")
  (data (i32.const 1024) "%s")
  (func (export "malloc") (param $size i32) (param $align i32) (result i32)
    (local $p i32)
    (local.set $p (global.get $next))
    (global.set $next (i32.add (global.get $next) (local.get $size)))
    (local.get $p))
  (func (export "init") (call $log (i32.const 1) (i32.const 16) (i32.const 8)))
  (func (export "ready") (call $log (i32.const 1) (i32.const 32) (i32.const 9)))
  (func (export "config") (param $ptr i32) (param $cap i32) (result i32)
    %s
    (if (i32.ge_u (local.get $cap) (i32.const %d))
      (then (memory.copy (local.get $ptr) (i32.const 1024) (i32.const %d))))
    (i32.const %d)))""" % [escaped, before, length, length, length]).to_utf8_buffer()


func _compiled(bytes: PackedByteArray, name: String) -> WasmModule:
	var module := WasmEngine.compile_module(bytes, name)
	expect(module != null, "compile_module(%s): %s" % [name, WasmEngine.get_last_error()])
	return module


func test_the_rust_sdk_macro_answers_a_dictionary_with_ints_kept() -> void:
	var module := WasmEngine.load_module(HOT_STATE)
	if not expect(module != null, "load_module(hot_state): %s" % WasmEngine.get_last_error()):
		return
	var config := module.get_config()
	expect_eq(config, {"counts": "frames", "version": 1, "carries": ["count"]},
		"hot_state's export_config! answer")
	expect_eq(typeof(config.get("version")), TYPE_INT, "a JSON integer stays an int")
	expect_eq(module.get_last_error(), "", "no error")


func test_a_module_without_config_gives_an_empty_dictionary() -> void:
	var module := wat_module("busy_add")
	if module == null:
		return
	expect_eq(module.get_config(), {}, "no config export, no config")
	expect_eq(module.get_last_error(), "", "and no error")


func test_a_script_reads_its_config_before_init_and_starts() -> void:
	var module := _compiled(_wat_with_config('{"waves": 3, "speed": 1.5, "boss": null}'), "waves")
	if module == null:
		return
	var probe := new_mod("configured", {"module": module})
	expect_eq(probe.node.get_mod_config(), {}, "nothing before the mod starts")
	expect_eq(start(probe), OK, "start()")
	expect_eq(probe.node.get_mod_config(), {"waves": 3, "speed": 1.5, "boss": null},
		"get_mod_config() after start")
	var changed: Dictionary = probe.node.get_mod_config()
	changed["waves"] = 99
	expect_eq(probe.node.get_mod_config()["waves"], 3, "a change of the returned Dictionary changes nothing else")
	expect(probe.has_output("init ran"), "init ran in the instance that plays: %s" % [probe.outputs])
	expect_eq(probe.node.get_last_error(), "", "no error")


func test_a_restart_without_config_forgets_the_last_config() -> void:
	var module := _compiled(_wat_with_config('{"waves": 3}'), "waves_once")
	var plain := wat_module("callbacks_add")
	if module == null or plain == null:
		return
	var probe := new_mod("reconfigured", {"module": module})
	expect_eq(start(probe), OK, "start() with a config")
	expect_eq(probe.node.get_mod_config(), {"waves": 3}, "the config")
	probe.node.kill()
	probe.node.module = plain
	expect_eq(probe.node.start(), OK, "start() again with a module without config")
	expect_eq(probe.node.get_mod_config(), {}, "the last start's config is gone")
	probe.node.kill()
	probe.node.module = module
	expect_eq(probe.node.start(), OK, "and once more with the config")
	expect_eq(probe.node.get_mod_config(), {"waves": 3}, "the config again")


func test_config_cannot_reach_godot_and_the_mod_still_starts() -> void:
	var module := _compiled(_wat_with_config('{"a": 1}', true), "calls_out")
	if module == null:
		return
	expect_eq(module.get_config(), {}, "a config that calls an import gives nothing")
	var error := module.get_last_error()
	expect_contains(error, "`calls_out`", "the error names the mod")
	expect_contains(error, "wasgo.log", "and the import it called")
	var probe := new_mod("calls_out", {"module": module})
	expect_eq(start(probe), OK, "the mod starts without a config")
	expect_eq(probe.node.get_mod_config(), {}, "with an empty config")
	expect_contains(probe.node.get_last_error(), "wasgo.log", "the node's last error says why")
	expect(probe.has_output("init ran"), "init ran: %s" % [probe.outputs])
	var logged := 0
	for line in probe.outputs:
		if line.contains("init ran"):
			logged += 1
	expect_eq(logged, 1, "the throwaway instance's `wasgo.log` call never reached the game")


func test_a_spinning_config_is_stopped_at_its_budget() -> void:
	var module := _compiled(_wat_with_config('{}', false, true), "spins")
	if module == null:
		return
	expect_eq(module.get_config(), {}, "a spinning config gives nothing")
	expect_contains(module.get_last_error(), "50 ms", "the error names the budget")
	var probe := new_mod("spins", {"module": module})
	expect_eq(start(probe), OK, "the mod starts after its config was stopped")
	expect_contains(probe.node.get_last_error(), "budget", "the node's last error says why")
	await expect_frames_go_on("after a spinning config")


func test_config_text_that_is_not_a_json_object_is_reported() -> void:
	for case: Array in [["[1, 2]", "not an object"], ["{oops", "not JSON"]]:
		var module := _compiled(_wat_with_config(case[0]), "bad_text")
		if module == null:
			continue
		expect_eq(module.get_config(), {}, "%s gives nothing" % case[0])
		expect_contains(module.get_last_error(), case[1], "%s is reported" % case[0])
