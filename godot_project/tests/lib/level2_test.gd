## Base of the level-2 tests: drives the `level2` test mod and inspects the file system.
##
## The mod's `op(code)` export reads its arguments from the game function `level2_test.arg(i)`
## and answers through `level2_test.report(text)` (see `mods/tests/level2/src/lib.rs`), so a test
## chooses every path, URL and body. A mod's id is the name its module is compiled under, so
## each test picks its own id and with it its own sandbox `user://mods/<id>/` and saved grants.
extends "res://tests/lib/wasgo_test.gd"

const LEVEL2_WASM := MODS + "level2.wasm"
const LEVEL2_MAIN_WASM := MODS + "level2_main.wasm"
const GRANTS_FILE := "user://wasgo/permissions.cfg"
const AUTO_GRANT := "wasgo/safety/auto_grant"
const STORAGE_MB := "wasgo/limits/storage_mb"
const URL_WHITELIST := "wasgo/safety/url_whitelist"
const HTTP_RESPONSE_KB := "wasgo/limits/http_response_kb"

## What `level2_test.arg(i)` returns to the mod.
var op_args: PackedStringArray = []
## Everything the mod reported, in order.
var reports: PackedStringArray = []
var permission_requests: Array = []
var _functions_registered := false


func _register_functions() -> void:
	if _functions_registered:
		return
	_functions_registered = true
	expect_eq(register_game_function("level2_test", "arg",
		func(i: int) -> String: return op_args[i] if i >= 0 and i < op_args.size() else "",
		["i32"], ["string"], 1), OK, "registering level2_test.arg")
	expect_eq(register_game_function("level2_test", "report",
		func(text: String) -> void: reports.append(text),
		["string"], [], 1), OK, "registering level2_test.report")


## A `level2` mod whose id is `mod_id`, at `level` (the project ceiling is raised to 3), started,
## with `permission_requested` recorded in `permission_requests` (so WasGo shows no dialog).
func level2_mod(mod_id: String, level := 2, handle_requests := true) -> ModProbe:
	_register_functions()
	set_setting(SAFETY_LEVEL, 3)
	var module := WasmEngine.compile_module(FileAccess.get_file_as_bytes(LEVEL2_WASM), mod_id)
	var probe := new_mod(mod_id, {"module": module, "safety_level": level})
	if handle_requests:
		probe.node.permission_requested.connect(func(kind: String, detail: String) -> void: permission_requests.append([kind, detail]))
	expect_eq(start(probe), OK, "start() of %s" % mod_id)
	return probe


## Calls `op(code)` with `args`; returns [result, what the mod reported].
func op(probe: ModProbe, code: int, args: Array = []) -> Array:
	op_args = PackedStringArray(args)
	var before := reports.size()
	var result: Variant = probe.node.call_export("op", [code])
	var said := reports[before] if reports.size() > before else ""
	return [result, said]


## `op` returning only the result code.
func op_code(probe: ModProbe, code: int, args: Array = []) -> Variant:
	return op(probe, code, args)[0]


## The mod's sandbox directory.
func sandbox(mod_id: String) -> String:
	return "user://mods/%s/" % mod_id


## Deletes a directory tree under user:// (no-op when missing).
func remove_tree(path: String) -> void:
	var dir := DirAccess.open(path)
	if dir == null:
		return
	dir.include_hidden = true
	for sub in dir.get_directories():
		remove_tree(path.path_join(sub))
	for file in dir.get_files():
		dir.remove(file)
	DirAccess.remove_absolute(path)


## Every file and directory under `path` (recursive, hidden included, symlinks not followed),
## as paths relative to it; directories end with `/`.
func tree_listing(path: String, prefix := "") -> PackedStringArray:
	var found: PackedStringArray = []
	var dir := DirAccess.open(path)
	if dir == null:
		return found
	dir.include_hidden = true
	for sub in dir.get_directories():
		found.append(prefix + sub + "/")
		if not dir.is_link(sub):
			found.append_array(tree_listing(path.path_join(sub), prefix + sub + "/"))
	for file in dir.get_files():
		found.append(prefix + file)
	found.sort()
	return found


## The kinds saved for `mod_id` in the grants file.
func saved_grants(mod_id: String) -> PackedStringArray:
	var cfg := ConfigFile.new()
	var kinds: PackedStringArray = []
	if cfg.load(GRANTS_FILE) != OK or not cfg.has_section(mod_id):
		return kinds
	for key in cfg.get_section_keys(mod_id):
		if cfg.get_value(mod_id, key) == true:
			kinds.append(key)
	kinds.sort()
	return kinds


## Removes every grant of `mod_id` (saved and on the node).
func forget_grants(probe: ModProbe) -> void:
	probe.node.revoke_permission("files")
	probe.node.revoke_permission("network")
