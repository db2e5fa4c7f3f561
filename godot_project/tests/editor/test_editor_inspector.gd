## The WasGo editor plugin's inspector data (`addons/wasgo/editor/wasgo_inspector_model.gd`) and
## section (`wasgo_inspector_view.gd`), checked headless without an editor: each import with the
## lowest level exposing it and a stub mark above the effective level, the exports WasGo calls,
## the module's name, size, SHA-256 and guest kind.
extends "res://tests/lib/wasgo_test.gd"

const Model := preload("res://addons/wasgo/editor/wasgo_inspector_model.gd")
const View := preload("res://addons/wasgo/editor/wasgo_inspector_view.gd")
const HELLO := "res://tests/mods/hello.wasm"
## Imports at level 1 (`wasgo.log`), level 2 (`wasgo.file_write`) and none (`env.nope`); exports
## WasGo calls (`main`, `process`) and ones it does not (`proces`, misspelled, and `memory`).
const MODULE_WAT := """(module
  (import "wasgo" "log" (func (param i32 i32 i32)))
  (import "wasgo" "file_write" (func (param i32 i32 i32 i32) (result i32)))
  (import "env" "nope" (func (param i32) (result i32)))
  (memory (export "memory") 1)
  (func (export "main"))
  (func (export "process") (param f64))
  (func (export "proces") (param f64)))"""


func _module() -> WasmModule:
	var module := WasmEngine.compile_module(MODULE_WAT.to_utf8_buffer(), "inspected")
	expect(module != null, "compile_module failed: %s" % WasmEngine.get_last_error())
	return module


func _row(rows: Array[Dictionary], full_name: String) -> Dictionary:
	for row in rows:
		var row_name := "%s.%s" % [row["module"], row["name"]] if row.has("module") else str(row["name"])
		if row_name == full_name:
			return row
	fail("no row for `%s` in %s" % [full_name, rows])
	return {"stub": null, "called": null, "level": null, "note": ""}


func test_imports_show_their_lowest_level_and_a_stub_mark_above_the_effective_level() -> void:
	var module := _module()
	if module == null:
		return
	var at_1 := Model.import_rows(module.get_imports(), 1)
	expect_eq(at_1.size(), 3, "import rows")
	expect_eq(_row(at_1, "wasgo.log")["level"], 1, "lowest level of wasgo.log")
	expect_eq(_row(at_1, "wasgo.log")["stub"], false, "wasgo.log at level 1 is a stub")
	expect_eq(_row(at_1, "wasgo.file_write")["level"], 2, "lowest level of wasgo.file_write")
	expect_eq(_row(at_1, "wasgo.file_write")["stub"], true, "wasgo.file_write at level 1 is a stub")
	expect_contains(_row(at_1, "wasgo.file_write")["note"], "needs level 2", "file_write's note at level 1")
	expect_eq(_row(at_1, "env.nope")["level"], 0, "lowest level of env.nope (none)")
	expect_eq(_row(at_1, "env.nope")["stub"], true, "env.nope at level 1 is a stub")
	expect_eq(_row(at_1, "env.nope")["game_function"], true, "env.nope may be a game function")
	expect_eq(_row(at_1, "wasgo.file_write")["game_function"], false, "wasgo.file_write may be a game function")
	var at_2 := Model.import_rows(module.get_imports(), 2)
	expect_eq(_row(at_2, "wasgo.file_write")["stub"], false, "wasgo.file_write at level 2 is a stub")
	expect_eq(_row(at_2, "env.nope")["stub"], true, "env.nope at level 2 is a stub")
	expect_eq(_row(at_2, "wasgo.file_write")["signature"], _row(at_1, "wasgo.file_write")["signature"], "signature kept")


func test_stub_marks_match_the_modules_own_unexposed_imports_at_every_level() -> void:
	for module: WasmModule in [_module(), load(HELLO)]:
		if not expect(module != null, "a module to inspect"):
			continue
		for level in [1, 2, 3]:
			var marked := Model.stub_names(Model.import_rows(module.get_imports(), level))
			var unexposed := module.get_unexposed_imports(level)
			marked.sort()
			unexposed.sort()
			expect_eq(marked, unexposed, "stubs of %s at level %d" % [module.name, level])


func test_a_node_level_only_lowers_the_project_level_and_zero_means_the_project_level() -> void:
	expect_eq(Model.effective_level(0, 2), 2, "node 0, project 2")
	expect_eq(Model.effective_level(1, 2), 1, "node 1, project 2")
	expect_eq(Model.effective_level(3, 2), 2, "node 3, project 2")
	# A number that is no level runs at level 1 (the runtime's rule), not at the project's.
	expect_eq(Model.effective_level(-1, 3), 1, "node -1, project 3")
	expect_eq(Model.effective_level(7, 3), 1, "node 7, project 3")
	set_setting(SAFETY_LEVEL, 2)
	var probe := new_mod("inspected_node", {"module": _module(), "safety_level": 3})
	var data := Model.describe(probe.node)
	expect_eq(data.get("level"), 2, "level of a level-3 node in a level-2 project")
	expect_eq(_row(data["imports"], "wasgo.file_write")["stub"], false, "file_write at the node's level 2")
	probe.node.safety_level = 1
	data = Model.describe(probe.node)
	expect_eq(data.get("level"), 1, "level of a level-1 node")
	expect_eq(_row(data["imports"], "wasgo.file_write")["stub"], true, "file_write at the node's level 1")
	probe.node.safety_level = 0
	expect_eq(Model.describe(probe.node).get("level"), 2, "level of a node that follows the project")
	# A project level that is not a whole number is level 1, as the runtime reads it (the
	# section said level 3 for the text "3" while the mod ran at level 1).
	for odd: Variant in ["3", 2.0]:
		set_setting(SAFETY_LEVEL, odd)
		expect_eq(Model.project_level(), 1, "project level %s (a %s)" % [odd, type_string(typeof(odd))])


func test_exports_mark_the_ones_wasgo_calls() -> void:
	var module := _module()
	if module == null:
		return
	var rows := Model.export_rows(module.get_exports())
	expect_eq(rows.size(), 4, "export rows")
	expect_eq(_row(rows, "main")["called"], true, "main is called by WasGo")
	expect_eq(_row(rows, "process")["called"], true, "process is called by WasGo")
	expect_eq(_row(rows, "proces")["called"], false, "the misspelled proces is called by WasGo")
	expect_eq(_row(rows, "memory")["called"], false, "memory is called by WasGo")
	expect_contains(_row(rows, "process")["note"], "Every frame", "process's note")


## Every export WasGo calls is marked, from the ABI's own list: the batched frame exports and
## `config` were missing from a list the editor kept apart.
func test_every_export_of_the_abi_is_marked_called() -> void:
	var wat := """(module
  (memory (export "memory") 1)
  (func (export "_initialize"))
  (func (export "process_node") (param i32 f64))
  (func (export "physics_process_node") (param i32 f64))
  (func (export "process_nodes") (param i32 i32 f64))
  (func (export "physics_process_nodes") (param i32 i32 f64))
  (func (export "config") (param i32 i32) (result i32) (i32.const 0))
  (func (export "tick") (param f64)))"""
	var module := WasmEngine.compile_module(wat.to_utf8_buffer(), "abi_exports")
	if not expect(module != null, "compile_module failed: %s" % WasmEngine.get_last_error()):
		return
	var rows := Model.export_rows(module.get_exports())
	for called: String in ["_initialize", "process_node", "physics_process_node", "process_nodes", "physics_process_nodes", "config"]:
		expect_eq(_row(rows, called)["called"], true, "%s is called by WasGo" % called)
	expect_eq(_row(rows, "tick")["called"], false, "tick is the game's to call")
	expect_contains(_row(rows, "process_nodes")["note"], "process_nodes(nodes_ptr, count, delta)", "the ABI's words")


func test_the_summary_gives_a_wasm_files_name_size_sha256_and_guest_kind() -> void:
	var module: WasmModule = load(HELLO)
	if not expect(module != null, "cannot load %s" % HELLO):
		return
	var summary := Model.summary(module)
	expect_eq(summary["name"], "hello", "name")
	expect_eq(summary["size"], FileAccess.get_file_as_bytes(HELLO).size(), "size")
	expect_eq(summary["sha256"], FileAccess.get_sha256(HELLO), "sha256")
	var kind := str(module.call("get_guest_kind")) if module.has_method("get_guest_kind") else "wasgo"
	expect_eq(summary["guest_kind"], kind, "guest kind")
	expect_eq(Model.summary(_module())["size"], -1, "size of a module compiled from bytes")


func test_a_wasm_script_shows_its_files_module_and_nothing_without_one() -> void:
	var with_file := new_mod("inspected_file", {"wasm_file": HELLO})
	var data := Model.describe(with_file.node)
	expect_eq(data.get("summary", {}).get("name"), "hello", "module name of a node with wasm_file")
	expect(not data.get("exports", []).is_empty(), "exports of a node with wasm_file")
	expect_eq(Model.describe(new_mod("inspected_empty").node), {}, "data of a node without a module")
	expect_eq(Model.describe(null), {}, "data of null")


func test_the_section_lists_every_import_and_export_with_its_marks() -> void:
	var module := _module()
	if module == null:
		return
	var view: VBoxContainer = View.new()
	view.build(Model.describe(module))
	var imports: Array[TreeItem] = view.imports_tree.get_root().get_children()
	var exports: Array[TreeItem] = view.exports_tree.get_root().get_children()
	expect_eq(imports.size(), 3, "import lines")
	expect_eq(exports.size(), 4, "export lines")
	for item in imports:
		var is_stub := item.get_text(0) != "wasgo.log"
		expect_eq(item.get_text(1) == "stub", is_stub, "stub mark of %s" % item.get_text(0))
	for item in exports:
		var called := item.get_text(0) in ["main", "process"]
		expect_eq(item.get_text(1) == "called", called, "called mark of %s" % item.get_text(0))
	view.free()


func test_the_section_follows_a_change_of_the_nodes_level() -> void:
	set_setting(SAFETY_LEVEL, 2)
	var probe := new_mod("inspected_live", {"module": _module(), "safety_level": 2})
	var view: VBoxContainer = View.new()
	view.watch(probe.node)
	var file_write_mark := func() -> String:
		for item: TreeItem in view.imports_tree.get_root().get_children():
			if item.get_text(0) == "wasgo.file_write":
				return item.get_text(1)
		return "(no line)"
	expect_eq(file_write_mark.call(), "2", "file_write's mark at level 2")
	probe.node.safety_level = 1
	view._process(1.0)
	expect_eq(file_write_mark.call(), "stub", "file_write's mark once the node is at level 1")
	view.free()


## Names come from the module: a newline would add a line of its own to the table or its
## tooltip, a bidi override reorder the text after it, a 100 KB name fill the dock.
func test_names_are_shown_with_hidden_characters_escaped_and_cut() -> void:
	expect_eq(Model.shown("process"), "process", "a plain name")
	expect_eq(Model.shown("a\nb"), "a\\u{a}b", "a newline")
	expect_eq(Model.shown("evil" + String.chr(0x202E) + "txt"), "evil\\u{202e}txt", "a bidi override")
	var long := Model.shown("x".repeat(100000))
	expect_eq(long.length(), Model.SHOWN_CHARS + 1, "a long name is cut")
	expect(long.ends_with("…"), "a cut name says so")
	# Godot breaks a line at the line and paragraph separators too.
	expect_eq(Model.shown("log" + String.chr(0x2028) + "FAKE"), "log\\u{2028}FAKE", "a line separator")
	# Invisible characters that made two names look the same: a Hangul filler, a tag character.
	expect_eq(Model.shown("mod" + String.chr(0x3164)), "mod\\u{3164}", "a Hangul filler")
	expect_eq(Model.shown("mod" + String.chr(0xE0041)), "mod\\u{e0041}", "a tag character")
	expect_eq(Model.shown(String.chr(0x2764) + String.chr(0xFE0F)), String.chr(0x2764) + String.chr(0xFE0F), "an emoji's presentation selector stays")
	expect_eq(Model.shown("a" + String.chr(0x2029) + "b"), "a\\u{2029}b", "a paragraph separator")


## A module with thousands of imports and exports: the section makes `Model.MAX_ROWS` rows of
## each and says how many more there are (a row each for 100,000 froze the editor for 20 s), and
## every text of a row, its tooltip too, shows names escaped and cut.
func test_a_huge_module_is_listed_in_part_with_names_escaped_everywhere() -> void:
	var n := Model.MAX_ROWS + 300
	var lines := PackedStringArray(["(module"])
	for i in n:
		lines.append("(import \"env\" \"f%d\" (func))" % i)
	lines.append("(import \"env\" \"odd\\0aFAKE LINE\\e2\\80\\ae%s\" (func))" % "y".repeat(5000))
	for i in n:
		lines.append("(func (export \"e%d\"))" % i)
	lines.append(")")
	var module := WasmEngine.compile_module("\n".join(lines).to_utf8_buffer(), "huge")
	if not expect(module != null, "compile: %s" % WasmEngine.get_last_error()):
		return
	var data := Model.describe(module)
	expect_eq([data["import_count"], data["export_count"]], [n + 1, n], "totals")
	expect_eq(data["stub_count"], n + 1, "every env import is a stub")
	expect_eq([data["imports"].size(), data["exports"].size()], [Model.MAX_ROWS, Model.MAX_ROWS], "rows made")
	var view: VBoxContainer = View.new()
	view.build(data)
	var import_items: Array[TreeItem] = view.imports_tree.get_root().get_children()
	expect_eq(import_items.size(), Model.MAX_ROWS + 1, "import lines with the 'more' line")
	expect_contains(import_items[-1].get_text(0), "and %d more" % (n + 1 - Model.MAX_ROWS), "the 'more' line")
	view.free()
	# The odd import's row, made on its own: its tooltip note names it escaped and cut.
	var odd: Dictionary = module.get_imports()[n]
	var row: Dictionary = Model.import_rows([odd], 1)[0]
	expect(not str(row["note"]).contains("\n"), "no line break in the note")
	expect(not str(row["note"]).contains(String.chr(0x202E)), "no bidi override in the note")
	expect(str(row["note"]).length() < 1000, "the note is cut: %d characters" % str(row["note"]).length())


## A `wasm_file` naming a resource that is no module (typed in, or set in a .tscn: the file
## dialog's filter is no check) shows nothing; the model asked a texture for its imports (a
## SCRIPT ERROR at every selection of the node).
func test_a_wasm_file_that_names_another_kind_of_resource_shows_nothing() -> void:
	for path in ["res://addons/wasgo/icons/wasm_module.svg", "res://tests/lib/log_counter.gd"]:
		expect(ResourceLoader.exists(path), "%s exists" % path)
		var probe := new_mod("inspected_other", {"wasm_file": path}, false)
		expect_eq(Model.describe(probe.node), {}, "data of a node whose wasm_file is %s" % path)


## A `wasm_file` that does not load is loaded (and reported) once, not at every look.
func test_a_bad_wasm_file_is_loaded_once_until_it_changes() -> void:
	var path := "user://inspected_bad.wasm"
	var file := FileAccess.open(path, FileAccess.WRITE)
	file.store_string("this is not a module")
	file.close()
	var probe := new_mod("inspected_bad", {"wasm_file": path}, false)
	var counter := preload("res://tests/lib/log_counter.gd").new("inspected_bad")
	OS.add_logger(counter)
	for i in 3:
		expect_eq(Model.describe(probe.node), {}, "data of a node whose file does not load")
	OS.remove_logger(counter)
	var first := counter.count()
	expect(first >= 1, "the bad file was reported")
	var again := preload("res://tests/lib/log_counter.gd").new("inspected_bad")
	OS.add_logger(again)
	Model.describe(probe.node)
	OS.remove_logger(again)
	expect_eq(again.count(), 0, "a fourth look reports nothing new (the first three: %d lines)" % first)
	DirAccess.remove_absolute(path)


## A `.wasm` rebuilt on disk is reloaded into the same `WasmModule` (the editor's reload): the
## section kept showing the old hash, imports and exports, since only the node's properties were
## watched. The module's hash and the file's stamp are watched too.
func test_the_section_follows_a_rebuilt_file() -> void:
	var path := "user://inspected_rebuilt.wasm"
	var write := func(wat: String) -> void:
		var file := FileAccess.open(path, FileAccess.WRITE)
		file.store_buffer(wat.to_utf8_buffer())
		file.close()
	write.call("(module (func (export \"first\")))")
	var probe := new_mod("inspected_rebuilt", {"wasm_file": path}, false)
	var view: VBoxContainer = View.new()
	view.watch(probe.node)
	var shows := func(text: String) -> bool:
		return view.find_children("*", "Label", true, false).any(func(l: Label) -> bool: return l.text == text)
	var before: String = str(Model.module_of(probe.node).get("sha256"))
	expect(shows.call(before), "the section shows the first hash")
	write.call("(module (func (export \"second\")) (func (export \"third\")))")
	var reloaded := ResourceLoader.load(path, "", ResourceLoader.CACHE_MODE_REPLACE)
	var after: String = str(reloaded.get("sha256")) if reloaded != null else ""
	if expect(after != "" and after != before, "the file reloaded with another hash: %s" % after):
		view._process(1.0)
		expect(shows.call(after), "the section shows the new hash")
		expect(not shows.call(before), "and no longer the old one")
	view.free()
	DirAccess.remove_absolute(path)



## Copies `HELLO` to a `user://` file Godot has not loaded (removed by the caller).
func _fresh_copy(file_name: String) -> String:
	var path := "user://" + file_name
	var file := FileAccess.open(path, FileAccess.WRITE)
	file.store_buffer(FileAccess.get_file_as_bytes(HELLO))
	file.close()
	return path


## The section loads the module of a `wasm_file` Godot has not loaded yet on one of Godot's
## loader threads and shows it once loaded: it compiled it on the editor's main thread, which
## held the editor for the whole compile (seconds for a module of a few megabytes) each time a
## node naming a new or rebuilt file was selected.
func test_the_section_loads_a_new_file_on_a_loader_thread() -> void:
	var path := _fresh_copy("inspected_threaded.wasm")
	expect(not ResourceLoader.has_cached(path), "the copy is not loaded yet")
	var probe := new_mod("inspected_threaded", {"wasm_file": path}, false)
	var view: VBoxContainer = View.new()
	view.watch(probe.node)
	var loaded := func() -> bool:
		view._process(1.0)
		return not view.loading
	expect(await wait_until(loaded, 30000), "the section ends loading")
	expect(not Model._loaded.has(path), "the module the loader thread gave was taken")
	var labels := view.find_children("*", "Label", true, false).map(func(l: Label) -> String: return l.text)
	expect(labels.has("inspected_threaded"), "the section shows the module's name once loaded: %s" % [labels])
	expect(view.imports_tree != null, "the import table is shown")
	view.free()
	DirAccess.remove_absolute(path)


## Only the ask that starts a load waits its grace: one that finds the load running looks and
## goes (the section asks every tenth of a second while it shows "loading", and a wait at each
## ask held the editor at a few frames a second for the whole compile). The module is a large
## one made unique by a custom section, so no cache has it and its compile takes a while.
func test_an_ask_that_finds_the_load_running_does_not_wait_for_it() -> void:
	var path := "user://inspected_slow.wasm"
	var bytes := FileAccess.get_file_as_bytes("res://tests/mods/gojs_basic.wasm")
	var tail := PackedByteArray([0, 13, 1, 120])
	var stamp := Time.get_ticks_usec()
	for i in 11:
		tail.append((stamp >> (i * 5)) & 0xff if i < 6 else randi() % 256)
	bytes.append_array(tail)
	var file := FileAccess.open(path, FileAccess.WRITE)
	file.store_buffer(bytes)
	file.close()
	var probe := new_mod("inspected_slow", {"wasm_file": path}, false)
	if Model.loading(probe.node):
		var running := ResourceLoader.load_threaded_get_status(path) == ResourceLoader.THREAD_LOAD_IN_PROGRESS
		# With a grace of a minute: a wait would last until the load ends, and answer false.
		var second := Model.loading(probe.node, 60000)
		if running:
			expect(second, "a second ask while the load runs answers at once that it runs")
	expect(await wait_until(func() -> bool: return not Model.loading(probe.node), 60000), "the load ends")
	Model.module_of(probe.node)
	DirAccess.remove_absolute(path)


## `Model.loading` starts the load on a loader thread and the module it gives is the one
## `describe` shows, without a load of its own on the calling thread.
func test_loading_hands_the_threaded_load_to_describe() -> void:
	var path := _fresh_copy("inspected_handed.wasm")
	var probe := new_mod("inspected_handed", {"wasm_file": path}, false)
	expect(await wait_until(func() -> bool: return not Model.loading(probe.node), 30000), "the load ends")
	var threaded: Resource = Model._loaded.get(path)
	if expect(threaded != null, "the loader thread's module is kept for describe"):
		expect_eq(Model.module_of(probe.node), threaded, "describe's module is the loader thread's")
		expect(not Model._loaded.has(path), "and is taken")
	expect_eq(Model.describe(probe.node).get("summary", {}).get("name"), "inspected_handed", "the module's name")
	DirAccess.remove_absolute(path)


## A bad file loaded on a loader thread is reported once and not loaded again until it changes.
func test_a_bad_file_loaded_on_a_loader_thread_is_reported_once() -> void:
	var path := "user://inspected_bad_threaded.wasm"
	var file := FileAccess.open(path, FileAccess.WRITE)
	file.store_string("not a module either")
	file.close()
	var probe := new_mod("inspected_bad_threaded", {"wasm_file": path}, false)
	var counter := preload("res://tests/lib/log_counter.gd").new("inspected_bad_threaded")
	OS.add_logger(counter)
	expect(await wait_until(func() -> bool: return not Model.loading(probe.node), 30000), "the load ends")
	expect_eq(Model.describe(probe.node), {}, "no data for a file that does not load")
	OS.remove_logger(counter)
	expect(counter.count() >= 1, "the bad file was reported")
	var again := preload("res://tests/lib/log_counter.gd").new("inspected_bad_threaded")
	OS.add_logger(again)
	expect(not Model.loading(probe.node), "no new load of the unchanged file")
	Model.describe(probe.node)
	OS.remove_logger(again)
	expect_eq(again.count(), 0, "another look reports nothing")
	DirAccess.remove_absolute(path)
