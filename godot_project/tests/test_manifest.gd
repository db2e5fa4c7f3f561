## Mod manifests: the `wasgo.manifest` custom section read by `WasmModule.get_manifest()` without
## running the mod (the examples carry one; none gives {}), a malformed one reported without
## stopping the load, claims above the game's level reported before the mod starts (configuration
## warning and `get_last_error()`), and a mod built for a newer ABI refused at load.
extends "res://tests/lib/wasgo_test.gd"

const DEMO_MODS := "res://demo/mods/"
const EXAMPLES := ["mover", "decorator", "hostile", "scorekeeper", "greeter", "leaderboard",
	"archivist", "announcer", "ranker", "bonus"]


## A WAT module with `manifest` (a JSON text) as its `wasgo.manifest` section, a `ready` export
## that logs "ready ran" and nothing else.
func _wat_with_manifest(manifest: String) -> PackedByteArray:
	var escaped := manifest.c_escape()
	return ("""(module
  (import "wasgo" "log" (func $log (param i32 i32 i32)))
  (@custom "wasgo.manifest" "%s")
  (memory (export "memory") 1)
  (data (i32.const 16) "ready ran")
  (func (export "ready") (call $log (i32.const 1) (i32.const 16) (i32.const 9))))""" % escaped).to_utf8_buffer()


func _started(name: String, module: WasmModule, level := 0) -> ModProbe:
	var probe := new_mod(name, {"module": module, "safety_level": level})
	expect_eq(start(probe), OK, "start() of %s" % name)
	return probe


func test_every_example_carries_its_manifest() -> void:
	for name: String in EXAMPLES:
		var module := WasmEngine.load_module(DEMO_MODS + name + ".wasm")
		if not expect(module != null, "load_module(%s): %s" % [name, WasmEngine.get_last_error()]):
			continue
		var manifest := module.get_manifest()
		expect_eq(manifest.get("id", ""), name, "%s's manifest id" % name)
		expect(String(manifest.get("name", "")) != "", "%s's manifest has a name: %s" % [name, manifest])
		# 1.0 for the manifests written by hand, 1.2 where the Rust SDK adds the ABI it was
		# generated for (1.1 from an SDK built before 1.2): a 1.2 host runs them all.
		expect(manifest.get("abi", "") in ["1.0", "1.1", "1.2", "1.3"],
			"%s's manifest targets ABI 1.0, 1.1 or 1.2: %s" % [name, manifest.get("abi", "")])
		expect_eq(module.get_last_error(), "", "%s's manifest is well formed" % name)
	var archivist := WasmEngine.load_module(DEMO_MODS + "archivist.wasm")
	if archivist != null:
		expect_eq(archivist.get_manifest().get("level"), 2, "the archivist asks for level 2")
		expect_eq(archivist.get_manifest().get("permissions"), PackedStringArray(["files"]), "and for `files`")


func test_a_module_without_a_manifest_gives_an_empty_dictionary() -> void:
	var module := WasmEngine.compile_module("(module)".to_utf8_buffer(), "bare")
	expect(module != null, "compile_module(bare)")
	expect_eq(module.get_manifest(), {}, "get_manifest() of a module without one")
	expect_eq(module.get_last_error(), "", "no manifest is no error")
	var hello := WasmEngine.load_module(MODS + "hello.wasm")
	expect_eq(hello.get_manifest(), {}, "get_manifest() of the hello test mod")


func test_all_fields_are_returned_with_their_types() -> void:
	var module := WasmEngine.compile_module(_wat_with_manifest(
		'{"id":"full","name":"Full","version":"2.1.0","authors":["Ada","Bo"],"description":"all\\nfields","homepage":"https://example.com/full","level":1,"abi":"1.0","x-later":1}'), "full")
	var m := module.get_manifest()
	expect_eq(m.get("id"), "full", "id")
	expect_eq(m.get("name"), "Full", "name")
	expect_eq(m.get("version"), "2.1.0", "version")
	expect_eq(m.get("authors"), PackedStringArray(["Ada", "Bo"]), "authors")
	expect_eq(m.get("description"), "all\nfields", "description")
	expect_eq(m.get("homepage"), "https://example.com/full", "homepage")
	expect_eq(m.get("level"), 1, "level")
	expect_eq(m.get("abi"), "1.0", "abi")
	expect(not m.has("x-later"), "an unknown field is ignored: %s" % m)


func test_a_malformed_manifest_is_reported_and_the_mod_still_loads_and_runs() -> void:
	var module := WasmEngine.compile_module(_wat_with_manifest('{"name":"Bad","level":7}'), "malformed")
	if not expect(module != null, "a malformed manifest does not stop the load: %s" % WasmEngine.get_last_error()):
		return
	expect_eq(module.get_manifest(), {}, "get_manifest() of a malformed manifest")
	expect_contains(module.get_last_error(), "`level`", "the module's get_last_error() names the field")
	expect_contains(module.get_last_error(), "1, 2 or 3", "and says what it must be")
	var probe := _started("malformed_node", module)
	expect_contains(probe.node.get_last_error(), "malformed `wasgo.manifest` section", "the node's get_last_error()")
	await wait_until(func() -> bool: return probe.has_output("ready ran"), 5000)
	expect(probe.has_output("ready ran"), "the mod ran anyway: %s" % probe.describe())
	var broken_json := WasmEngine.compile_module(_wat_with_manifest('{"name": '), "broken_json")
	expect(broken_json != null, "broken JSON does not stop the load")
	expect_contains(broken_json.get_last_error(), "not valid JSON", "broken JSON is named")


func test_a_manifest_asking_above_the_games_level_warns_before_it_starts() -> void:
	set_setting(SAFETY_LEVEL, 1)
	var module := WasmEngine.compile_module(
		_wat_with_manifest('{"name":"Greedy","level":3,"permissions":["files","network"]}'), "greedy")
	var probe := new_mod("greedy_node", {"module": module})
	var warnings: PackedStringArray = probe.node.get_setup_warnings()
	var joined := "\n".join(warnings)
	expect_contains(joined, "asks for safety level 3", "configuration warning about the level")
	expect_contains(joined, "`files`, `network`", "configuration warning about the permissions")
	expect_eq(start(probe), OK, "a greedy mod still starts (the level is the game's)")
	expect_contains(probe.node.get_last_error(), "asks for safety level 3", "the node's get_last_error()")
	await wait_until(func() -> bool: return probe.has_output("ready ran"), 5000)
	expect(probe.has_output("ready ran"), "the mod runs at the game's level: %s" % probe.describe())
	# At level 3 nothing is asked for that is not given.
	set_setting(SAFETY_LEVEL, 3)
	var fine := new_mod("greedy_at_3", {"module": module})
	expect_eq("\n".join(fine.node.get_setup_warnings()).find("asks for"), -1, "no warning at level 3")


func test_a_mod_built_for_a_newer_abi_is_refused_at_load_naming_both_versions() -> void:
	var module := WasmEngine.compile_module(_wat_with_manifest('{"name":"Future","abi":"1.99"}'), "future")
	expect(module == null, "a mod for ABI 1.99 is refused")
	var error := WasmEngine.get_last_error()
	expect_contains(error, "ABI 1.99", "the error names the mod's ABI")
	expect_contains(error, "ABI 1.3", "and the game's")
	var other_major := WasmEngine.compile_module(_wat_with_manifest('{"abi":"2.0"}'), "next_major")
	expect(other_major == null, "a mod for ABI 2.0 is refused")
	var same := WasmEngine.compile_module(_wat_with_manifest('{"abi":"1.0"}'), "same_abi")
	expect(same != null, "a mod for an older minor of this ABI loads: %s" % WasmEngine.get_last_error())
	var older := WasmEngine.compile_module(_wat_with_manifest('{"abi":"1"}'), "plain_major")
	expect(older != null, "\"1\" means 1.0 and loads")
