## What a mod author and a game developer see of mistakes before and while a mod runs: a
## `WasmScript`'s configuration warnings (each appears for its mistake and goes once it is
## fixed), load errors that name the node, a file that is not WebAssembly reported as such and
## once per change, and the read-only properties the remote inspector shows of a running node.
extends "res://tests/lib/wasgo_test.gd"

const LogCounter := preload("res://tests/lib/log_counter.gd")

const NOT_WASM_PATH := "user://wasgo_test_not_wasm.wasm"
const NO_HEADER := "not a WebAssembly module (no `\\0asm` header)"

## Imports `wasgo.log` (level 1) and `wasgo.file_write` (level 2).
const NEEDS_LEVEL_2 := """(module
  (import "wasgo" "log" (func (param i32 i32 i32)))
  (import "wasgo" "file_write" (func (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1))"""
## Imports a misspelled `wasgo.fle_write`.
const UNKNOWN_IMPORT := """(module
  (import "wasgo" "fle_write" (func (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1))"""
## Exports `proces` where `process` was meant.
const MISSPELLED := """(module (func (export "proces") (param f64)))"""
## What the three above should have been.
const FIXED := """(module
  (import "wasgo" "log" (func (param i32 i32 i32)))
  (memory (export "memory") 1)
  (func (export "process") (param f64)))"""
## Grows its memory to 3 pages and works a little in every `process`.
const BUSY_PROCESS := """(module
  (memory (export "memory") 3)
  (global $sum (mut i64) (i64.const 0))
  (func (export "process") (param f64)
    (local $i i32)
    (loop $work
      (global.set $sum (i64.add (global.get $sum) (i64.extend_i32_u (local.get $i))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $work (i32.lt_u (local.get $i) (i32.const 200000))))))"""


func module_from(wat: String, module_name: String) -> WasmModule:
	var module := WasmEngine.compile_module(wat.to_utf8_buffer(), module_name)
	expect(module != null, "compile_module(%s) failed: %s" % [module_name, WasmEngine.get_last_error()])
	return module


## The node's warnings joined in one text, for `contains` checks.
func warnings_of(node: Node) -> String:
	return "\n".join(node.get_setup_warnings())


func write_file(path: String, bytes: PackedByteArray) -> void:
	var file := FileAccess.open(path, FileAccess.WRITE)
	expect(file != null, "cannot write %s" % path)
	if file != null:
		file.store_buffer(bytes)
		file.close()


func test_no_file_warns_until_a_file_is_set() -> void:
	var node: Node = new_mod("no_file").node
	expect_contains(warnings_of(node), "no `wasm_file` (or `module`) is set", "warnings with nothing set")
	node.wasm_file = MODS + "hello.wasm"
	expect_eq(node.get_setup_warnings(), PackedStringArray(), "warnings with hello.wasm set")


func test_missing_file_warns_until_it_points_at_one_that_exists() -> void:
	var node: Node = new_mod("missing_file").node
	node.wasm_file = MODS + "no_such_mod.wasm"
	expect_contains(warnings_of(node), "no such file", "warnings for a missing file")
	expect_contains(warnings_of(node), "no_such_mod.wasm", "warnings for a missing file")
	node.wasm_file = MODS + "hello.wasm"
	expect_eq(node.get_setup_warnings(), PackedStringArray(), "warnings once the file exists")


func test_text_file_named_wasm_warns_until_it_is_replaced_by_a_module() -> void:
	write_file(NOT_WASM_PATH, "these are notes, not a mod\n".to_utf8_buffer())
	var node: Node = new_mod("not_wasm").node
	node.wasm_file = NOT_WASM_PATH
	expect_contains(warnings_of(node), NO_HEADER, "warnings for a text file")
	# The same path, now holding a module (a different length: a new stamp).
	write_file(NOT_WASM_PATH, FileAccess.get_file_as_bytes(MODS + "hello.wasm"))
	expect_eq(node.get_setup_warnings(), PackedStringArray(), "warnings once the file is a module")
	DirAccess.remove_absolute(NOT_WASM_PATH)


func test_import_above_the_level_warns_until_the_level_allows_it() -> void:
	set_setting(SAFETY_LEVEL, 1)
	var node: Node = new_mod("above_level", {"module": module_from(NEEDS_LEVEL_2, "needs_level_2")}).node
	var text := warnings_of(node)
	expect_contains(text, "`wasgo.file_write`, which needs safety level 2", "warnings at level 1")
	expect(not text.contains("wasgo.log"), "a level-1 import was warned about: %s" % text)
	set_setting(SAFETY_LEVEL, 2)
	expect_eq(node.get_setup_warnings(), PackedStringArray(), "warnings in a level-2 project")
	node.safety_level = 1
	expect_contains(warnings_of(node), "needs safety level 2", "warnings of a node lowered to level 1")
	node.safety_level = 2
	expect_eq(node.get_setup_warnings(), PackedStringArray(), "warnings of a node at level 2")


func test_node_level_above_the_project_warns_until_lowered() -> void:
	set_setting(SAFETY_LEVEL, 1)
	var node: Node = new_mod("asks_3", {"wasm_file": MODS + "hello.wasm", "safety_level": 3}).node
	expect_contains(warnings_of(node), "`safety_level` is 3, above the project setting", "warnings of a node asking for 3")
	node.safety_level = 0
	expect_eq(node.get_setup_warnings(), PackedStringArray(), "warnings of a node at the project level")


func test_unknown_import_warns_until_fixed() -> void:
	var node: Node = new_mod("unknown_import", {"module": module_from(UNKNOWN_IMPORT, "unknown_import")}).node
	expect_contains(warnings_of(node), "`wasgo.fle_write`, which WasGo provides at no safety level", "warnings for a typo in an import")
	node.module = module_from(FIXED, "fixed")
	expect_eq(node.get_setup_warnings(), PackedStringArray(), "warnings once fixed")


func test_a_module_with_thousands_of_wrong_imports_gives_a_short_list_of_warnings() -> void:
	# Godot's scene dock joins every warning into one tooltip at each tree update: a hostile
	# module's 5,000 findings must not become 5,000 lines there.
	var wat := "(module\n"
	for i in 5000:
		wat += "  (import \"wasgo\" \"nope_%d\" (func))\n" % i
	wat += ")"
	var node: Node = new_mod("many_imports", {"module": module_from(wat, "many_imports")}).node
	var warnings: PackedStringArray = node.get_setup_warnings()
	expect_eq(warnings.size(), 20, "warnings of a module with 5,000 unknown imports")
	expect_contains(warnings[0], "`wasgo.nope_0`", "the first warning")
	expect_contains(warnings[19], "and 4981 more findings", "the last warning counts the rest")
	node.module = module_from(FIXED, "fixed")
	expect_eq(node.get_setup_warnings(), PackedStringArray(), "warnings once fixed")


func test_misspelled_callback_export_warns_until_fixed() -> void:
	var node: Node = new_mod("misspelled", {"module": module_from(MISSPELLED, "misspelled")}).node
	expect_contains(warnings_of(node), "exports `proces`, which WasGo never calls; did you mean `process`?", "warnings for `proces`")
	node.module = module_from(FIXED, "fixed")
	expect_eq(node.get_setup_warnings(), PackedStringArray(), "warnings once fixed")


func test_load_errors_name_the_node_path() -> void:
	# Past the runner's `_initialize` (run alone, this test could come before any frame, when the
	# root is not in the tree yet and a node has no path).
	await frames(1)
	var probe := new_mod("missing_at_run_time", {"wasm_file": MODS + "no_such_mod.wasm"}, false)
	expect_eq(start(probe), ERR_CANT_OPEN, "start() with a missing file")
	var error: String = probe.node.get_last_error()
	expect_contains(error, "`/root/missing_at_run_time`", "the error of a missing file")
	expect_contains(error, "no_such_mod.wasm", "the error of a missing file")


func test_text_file_named_wasm_is_not_a_module_and_is_reported_once_per_change() -> void:
	write_file(NOT_WASM_PATH, "still notes, not a mod\n".to_utf8_buffer())
	var counter := LogCounter.new(NOT_WASM_PATH.get_file().get_basename())
	OS.add_logger(counter)
	for i in 3:
		var loaded := ResourceLoader.load(NOT_WASM_PATH, "", ResourceLoader.CACHE_MODE_IGNORE)
		expect_eq(loaded, null, "load() #%d of a text file" % i)
	OS.remove_logger(counter)
	expect_contains(WasmEngine.get_last_error(), NO_HEADER, "WasmEngine.get_last_error()")
	expect_eq(counter.count_containing(NO_HEADER), 1, "errors printed for three loads of one bad file")
	# A WasmScript pointed at it says the same, with its path.
	await frames(1)
	var probe := new_mod("runs_notes", {"wasm_file": NOT_WASM_PATH}, false)
	expect_eq(start(probe), ERR_CANT_OPEN, "start() with a text file")
	expect_contains(probe.node.get_last_error(), NO_HEADER, "the node's error")
	expect_contains(probe.node.get_last_error(), "`/root/runs_notes`", "the node's error")
	DirAccess.remove_absolute(NOT_WASM_PATH)


func test_remote_inspector_shows_status_error_memory_and_frame_time_read_only() -> void:
	var probe := new_mod("inspected", {"module": module_from(BUSY_PROCESS, "busy_process")})
	var node: Node = probe.node
	var wanted := ["status", "last_error", "memory_in_use", "frame_time_usec"]
	for property in node.get_property_list():
		if wanted.has(property["name"]):
			wanted.erase(property["name"])
			var usage: int = property["usage"]
			expect(usage & PROPERTY_USAGE_EDITOR, "`%s` is not shown in the inspector" % property["name"])
			expect(usage & PROPERTY_USAGE_READ_ONLY, "`%s` is not read-only" % property["name"])
			expect(not (usage & PROPERTY_USAGE_STORAGE), "`%s` would be saved with the scene" % property["name"])
	expect_eq(wanted, [], "properties missing from the property list")
	expect_eq(node.get("status"), WasmScript.STATUS_IDLE, "status before start")
	expect_eq(node.get("memory_in_use"), 0, "memory_in_use before start")
	expect_eq(start(probe), OK, "start()")
	expect_eq(node.get("status"), WasmScript.STATUS_RUNNING, "status while running")
	expect_eq(node.get("memory_in_use"), 3 * 65536, "memory_in_use of a mod with 3 pages")
	await frames(3)
	expect(int(node.get("frame_time_usec")) > 0, "frame_time_usec stays 0 while `process` works every frame")
	node.kill()
	expect_eq(node.get("status"), WasmScript.STATUS_KILLED, "status after kill()")
	expect_eq(node.get("memory_in_use"), 0, "memory_in_use after kill()")
	expect_eq(node.get("last_error"), node.get_last_error(), "last_error")


## A file's name is anyone's choice: a line break or a bidi override in it is shown escaped in
## the node's warnings, the load error in the console and `get_last_error()`.
func test_a_file_name_with_hidden_characters_is_shown_escaped() -> void:
	var path := "user://bad\nWasGo: all mods verified" + String.chr(0x202E) + "txt.wasm"
	var file := FileAccess.open(path, FileAccess.WRITE)
	file.store_string("not a module")
	file.close()
	var probe := new_mod("odd_file_name", {"wasm_file": path}, false)
	for warning in probe.node.get_setup_warnings():
		expect(not warning.contains("\n") and not warning.contains(String.chr(0x202E)), "warning shown escaped: %s" % warning.c_escape())
	expect(WasmEngine.load_module(path) == null, "the file does not load")
	var error := WasmEngine.get_last_error()
	expect(error.contains("\\u{a}"), "the error names the file escaped: %s" % error.c_escape())
	expect(not error.contains("\n") and not error.contains(String.chr(0x202E)), "no hidden character in the error: %s" % error.c_escape())
	DirAccess.remove_absolute(path)
