## The extension loads headless and exposes the contract's classes, singleton and constants;
## modules load, compile, cache and describe themselves; `call_export` works.
extends "res://tests/lib/wasgo_test.gd"


func test_extension_is_loaded_with_engine_singleton_and_classes() -> void:
	expect(Engine.has_singleton("WasmEngine"), "Engine.has_singleton(\"WasmEngine\") is false")
	for class_id in ["WasmEngine", "WasmModule", "WasmScript"]:
		expect(ClassDB.class_exists(class_id), "class %s is not registered" % class_id)
	var node := WasmScript.new()
	expect(node is Node, "WasmScript.new() did not make a Node")
	expect_eq(node.get_status(), WasmScript.STATUS_IDLE, "status of a new WasmScript")
	expect_eq(node.is_running(), false, "is_running() of a new WasmScript")
	expect_eq(node.autostart, true, "autostart default")
	expect_eq(node.safety_level, 0, "safety_level default (0 = project setting)")
	node.free()


func test_status_constants_match_the_contract() -> void:
	expect_eq(WasmScript.STATUS_IDLE, 0, "STATUS_IDLE")
	expect_eq(WasmScript.STATUS_RUNNING, 1, "STATUS_RUNNING")
	expect_eq(WasmScript.STATUS_FINISHED, 2, "STATUS_FINISHED")
	expect_eq(WasmScript.STATUS_TRAPPED, 3, "STATUS_TRAPPED")
	expect_eq(WasmScript.STATUS_KILLED, 4, "STATUS_KILLED")


func test_project_settings_are_registered_with_contract_defaults() -> void:
	expect_eq(ProjectSettings.get_setting(SAFETY_LEVEL), 1, SAFETY_LEVEL)
	expect_eq(ProjectSettings.get_setting("wasgo/limits/memory_mb"), 64, "wasgo/limits/memory_mb")
	expect_eq(ProjectSettings.get_setting("wasgo/limits/callback_budget_ms"), 50, "wasgo/limits/callback_budget_ms")
	expect_eq(ProjectSettings.get_setting("wasgo/limits/main_timeout_ms"), 0, "wasgo/limits/main_timeout_ms")


## The settings read only when the extension starts say so in the editor: a change asks for a
## restart (changed and exported without one, precompiled mods were made for the old engine).
func test_settings_read_at_start_ask_for_a_restart_when_changed() -> void:
	var restart := {}
	for property: Dictionary in ProjectSettings.get_property_list():
		if String(property["name"]).begins_with("wasgo/"):
			restart[property["name"]] = property["usage"] & PROPERTY_USAGE_RESTART_IF_CHANGED != 0
	for name in ["wasgo/runtime/mode", "wasgo/runtime/memory_reservation_mb", "wasgo/runtime/instance_pool_size",
			"wasgo/runtime/debug_info", "wasgo/runtime/cache_dir"]:
		expect_eq(restart.get(name), true, "%s asks for a restart" % name)
	expect_eq(restart.get("wasgo/limits/memory_mb"), false, "a setting read at each start does not")


## A WasGo setting someone erased (`set_setting(name, null)`, e.g. a game's own settings code)
## reads as its default: the mod starts, nothing is reported.
func test_an_erased_setting_reads_as_its_default() -> void:
	const NAME := "wasgo/limits/memory_mb"
	var value: Variant = ProjectSettings.get_setting(NAME)
	ProjectSettings.set_setting(NAME, null)
	expect(not ProjectSettings.has_setting(NAME), "set_setting(null) erased %s" % NAME)
	var module := wat_module("callbacks_add")
	if module != null:
		var probe := new_mod("after_erase", {"module": module})
		expect_eq(start(probe), OK, "start() with %s erased" % NAME)
		expect_eq(probe.node.get_last_error(), "", "no error")
		expect_eq(probe.node.call_export("add", [2, 3]), 5, "the mod runs")
	# Put back as registered (value, default, shown in the basic settings).
	ProjectSettings.set_setting(NAME, value)
	ProjectSettings.set_initial_value(NAME, 64)
	ProjectSettings.set_as_basic(NAME, true)


func test_stats_have_the_contract_keys() -> void:
	var stats: Dictionary = WasmEngine.get_stats()
	for key in ["modules", "instances", "running", "traps", "kills", "cache_hits", "workers"]:
		expect(stats.has(key), "get_stats() has no `%s` key: %s" % [key, stats])


## `cargo xtask test` runs this suite twice: as the game starts by default (`auto`, which
## compiles on this machine) and with `-- --wasgo-mode=interpreter` (the interpreter pass). The
## mode the engine reports must be the one the run asked for.
func test_stats_report_the_runtime_mode_the_run_asked_for() -> void:
	var expected := "compiled"
	if OS.get_cmdline_user_args().has("--wasgo-mode=interpreter"):
		expected = "interpreter"
	expect_eq(WasmEngine.get_stats().get("mode"), expected, "get_stats()[\"mode\"]")
	expect_eq(ProjectSettings.get_setting("wasgo/runtime/mode"), "auto", "wasgo/runtime/mode default")


func test_load_module_reads_res_paths_and_caches_by_content() -> void:
	var hits_before: int = WasmEngine.get_stats()["cache_hits"]
	var first: WasmModule = WasmEngine.load_module(MODS + "hello.wasm")
	var second: WasmModule = WasmEngine.load_module(MODS + "hello.wasm")
	if not expect(first != null and second != null, "load_module(hello.wasm) failed: %s" % WasmEngine.get_last_error()):
		return
	expect_eq(first.sha256.length(), 64, "length of the sha256 hex digest")
	expect_eq(second.sha256, first.sha256, "sha256 of the same file loaded twice")
	expect(WasmEngine.get_stats()["cache_hits"] > hits_before, "loading the same bytes twice did not hit the module cache")
	expect(first.name != "", "a loaded module has an empty name")


## A copy of a module (`duplicate()`, a scene saved with it and loaded again) keeps its name and
## source path: the mod's id (its sandbox, its grants) comes from the name, and hot reload from
## the path. A copy ran as mod `mod` before, sharing that id with every other copy.
func test_a_copy_of_a_module_keeps_its_name_and_source_path() -> void:
	var module: WasmModule = WasmEngine.load_module(MODS + "hello.wasm")
	if not expect(module != null, "load_module(hello.wasm): %s" % WasmEngine.get_last_error()):
		return
	var copy: WasmModule = module.duplicate()
	expect_eq(copy.name, module.name, "the copy's name")
	expect_eq(copy.get_source_path(), module.get_source_path(), "the copy's source path")
	expect_eq(copy.sha256, module.sha256, "the copy's code")
	var holder := Node.new()
	var node := WasmScript.new()
	node.name = "Held"
	node.autostart = false
	node.module = module
	holder.add_child(node)
	node.owner = holder
	var scene := PackedScene.new()
	expect_eq(scene.pack(holder), OK, "pack the scene")
	holder.free()
	var path := "user://wasgo_module_copy.tscn"
	expect_eq(ResourceSaver.save(scene, path), OK, "save the scene")
	var loaded: PackedScene = ResourceLoader.load(path, "", ResourceLoader.CACHE_MODE_IGNORE)
	var again := loaded.instantiate()
	var held: WasmModule = again.get_node("Held").module
	if expect(held != null, "the loaded scene's module"):
		expect_eq(held.name, module.name, "the loaded module's name")
		expect_eq(held.get_source_path(), module.get_source_path(), "the loaded module's source path")
	again.free()
	DirAccess.remove_absolute(path)


func test_module_describes_imports_exports_and_unexposed_imports() -> void:
	var module := wat_module("file_write")
	if module == null:
		return
	var file_write := module.get_imports().filter(func(i: Dictionary) -> bool: return i["module"] == "wasgo" and i["name"] == "file_write")
	if expect_eq(file_write.size(), 1, "imports named wasgo.file_write in %s" % [module.get_imports()]):
		expect_eq(file_write[0]["level"], 2, "level of wasgo.file_write")
		expect(str(file_write[0]["kind"]) != "", "an import has an empty kind")
	var export_names := module.get_exports().map(func(e: Dictionary) -> String: return e["name"])
	expect(export_names.has("main") and export_names.has("memory"), "exports: %s" % [export_names])
	expect_eq(module.get_unexposed_imports(1), PackedStringArray(["wasgo.file_write"]), "get_unexposed_imports(1)")
	expect_eq(module.get_unexposed_imports(2), PackedStringArray(), "get_unexposed_imports(2)")
	var nope := wat_module("env_nope")
	if nope != null:
		expect_eq(nope.get_unexposed_imports(3), PackedStringArray(["env.nope"]), "get_unexposed_imports(3) of an unknown import")


func test_call_export_works_on_a_module_without_main() -> void:
	var probe := new_mod("adder", {"module": wat_module("callbacks_add")})
	expect_eq(start(probe), OK, "start()")
	expect_eq(probe.started, 1, "`started` emissions when start() returned")
	expect_eq(probe.node.get_status(), WasmScript.STATUS_RUNNING, "status of a module without main after start()")
	expect(probe.node.has_export("add"), "has_export(\"add\") is false")
	expect(not probe.node.has_export("nope"), "has_export(\"nope\") is true")
	expect_eq(probe.node.call_export("add", [2, 3]), 5, "call_export(\"add\", [2, 3])")
	await frames(3)
	expect_eq(probe.node.get_status(), WasmScript.STATUS_RUNNING, "status a few frames later (it lives on callbacks)")
	expect(probe.finished.is_empty() and probe.traps.is_empty(), "a module without main ended: %s" % probe.describe())


## `call_export(name, args)` takes any Array as `args`, a typed one too, however the game calls
## it: through a `WasmScript`-typed variable, a plain `Node`, `callv` or `call_deferred`.
func test_call_export_takes_a_typed_array_on_every_kind_of_call() -> void:
	var probe := new_mod("typed_adder", {"module": wat_module("callbacks_add")})
	expect_eq(start(probe), OK, "start()")
	var typed: Array[int] = [2, 3]
	expect_eq(probe.node.call_export("add", typed), 5, "through the WasmScript")
	var as_node: Node = probe.node
	expect_eq(as_node.call_export("add", typed), 5, "through a Node variable")
	expect_eq(as_node.callv("call_export", ["add", typed]), 5, "through callv")
	as_node.call_deferred("call_export", "add", typed)
	await frames(1)
	expect_eq(probe.node.get_last_error(), "", "through call_deferred (nothing failed)")
	var texts: Array[String] = ["a", "b"]
	expect_eq(as_node.call("call_export", "add", texts), null, "texts to a mod without malloc are refused, not a script error")
	expect_contains(probe.node.get_last_error(), "of `add` is text or bytes", "the refusal names the argument")


## The contract: `malloc` and `free` are used by `call_export` to pass strings and bytes. A
## String or PackedByteArray argument becomes a (pointer, length) pair in a buffer from the mod's
## `malloc`, given back with its `free` after the call.
func test_call_export_passes_strings_and_bytes_through_the_mods_malloc() -> void:
	var probe := new_mod("text_args", {"module": wat_module("text_args")})
	expect_eq(start(probe), OK, "start(): %s" % probe.node.get_last_error())
	expect_eq(probe.node.call_export("say", ["héllo"]), 6, "the UTF-8 length of the text")
	expect(await wait_until(func() -> bool: return probe.has_output("héllo"), 2000), "the mod read the text: %s" % [probe.outputs])
	expect_eq(probe.node.call_export("sum", [PackedByteArray([1, 2, 3]), 0.5]), 3.0, "bytes and a number")
	expect_eq(probe.node.call_export("say", [""]), 0, "an empty text")
	expect_eq(probe.node.call_export("frees"), 3, "every buffer was given back (args left out)")
	expect_eq(probe.node.call_export("sum", [0.5, PackedByteArray([1])]), null, "bytes where a number goes")
	expect_contains(probe.node.get_last_error(), "argument 1 of `sum`", "the error names the argument")
	expect_eq(probe.node.call_export("say", ["a", "b"]), null, "too many arguments")
	expect_contains(probe.node.get_last_error(), "argument 2 of `say` is text or bytes", "the error names the argument")
	expect_eq(probe.node.get_status(), WasmScript.STATUS_RUNNING, "refused calls leave the mod running")


## The contract writes `call_export(name: String, args := [])`: the arguments may be left out.
func test_call_export_may_leave_out_its_arguments() -> void:
	var defaults := []
	for method: Dictionary in ClassDB.class_get_method_list("WasmScript", true):
		if method["name"] == "call_export":
			defaults = method["default_args"]
	expect_eq(defaults.size(), 1, "call_export has a default for args")
	expect_eq(defaults[0] if defaults.size() == 1 else null, [], "the default is an empty Array")
	var probe := new_mod("no_args", {"module": wat_module("text_args")})
	expect_eq(start(probe), OK, "start(): %s" % probe.node.get_last_error())
	expect_eq(probe.node.call_export("frees"), 0, "call_export(name)")
	expect_eq(probe.node.call_export("frees", []), 0, "call_export(name, [])")


## Without `malloc` a text cannot be passed: the call fails naming what is missing.
func test_call_export_with_text_needs_the_mods_malloc() -> void:
	var probe := new_mod("no_malloc", {"module": wat_module("callbacks_add")})
	expect_eq(start(probe), OK, "start(): %s" % probe.node.get_last_error())
	expect_eq(probe.node.call_export("add", ["text"]), null, "text to a mod without malloc")
	expect_contains(probe.node.get_last_error(), "export `malloc", "the error names what is missing")
	expect_eq(probe.node.get_status(), WasmScript.STATUS_RUNNING, "the game's mistake does not stop the mod")


func test_call_export_while_main_runs_is_refused_as_busy() -> void:
	var probe := new_mod("busy_adder", {"module": wat_module("busy_add")})
	expect_eq(start(probe), OK, "start()")
	await frames(3)
	expect(probe.node.is_running(), "busy_add's main is not running: %s" % probe.describe())
	expect_eq(probe.node.call_export("add", [1, 2]), null, "call_export while main runs")
	expect_contains(probe.node.get_last_error(), "busy", "get_last_error() after call_export while main runs")
	probe.node.kill()
	expect_eq(probe.kills.size(), 1, "`killed` emissions after kill()")


func test_module_resource_wins_over_wasm_file() -> void:
	var probe := new_mod("both_set", {"wasm_file": MODS + "hello.wasm", "module": wat_module("callbacks_add")})
	expect_eq(start(probe), OK, "start()")
	await frames(5)
	expect(probe.node.has_export("add"), "the `module` resource was not the one instantiated: %s" % probe.describe())
	expect(not probe.has_output("hello from wasi"), "the `wasm_file` mod ran although `module` was set: %s" % probe.describe())


func test_an_empty_module_is_refused_with_what_to_do() -> void:
	var probe := new_mod("empty_module", {"module": WasmModule.new()})
	expect_eq(start(probe), ERR_CANT_OPEN, "start() with WasmModule.new()")
	expect_contains(probe.node.get_last_error(), "holds no code", "the reason")
	expect_contains(probe.node.get_last_error(), "WasmEngine.load_module(path)", "and what to do")
	expect(not probe.node.is_running(), "nothing runs")


## Each start runs the module the node holds then, including one made after the last was freed.
func test_a_node_runs_the_module_it_holds_at_each_start() -> void:
	var probe := new_mod("swapped", {"module": wat_module("callbacks_add")})
	expect_eq(start(probe), OK, "start() with the adder")
	expect_eq(probe.node.call_export("add", [2, 3]), 5, "the adder runs")
	probe.node.kill()
	var doubler := WasmEngine.compile_module("""(module
  (func (export "twice") (param i32) (result i32)
    (i32.mul (local.get 0) (i32.const 2))))""".to_utf8_buffer(), "doubler")
	expect(doubler != null, "compile_module(doubler): %s" % WasmEngine.get_last_error())
	probe.node.module = doubler
	doubler = null
	expect_eq(probe.node.start(), OK, "start() with the doubler")
	expect(not probe.node.has_export("add"), "the adder is gone")
	expect_eq(probe.node.call_export("twice", [21]), 42, "the doubler runs")
	probe.node.kill()
	probe.node.module = null
	probe.node.module = wat_module("callbacks_add")
	expect_eq(probe.node.start(), OK, "start() with a new adder after the doubler was let go")
	expect_eq(probe.node.call_export("add", [20, 22]), 42, "the new adder runs")
