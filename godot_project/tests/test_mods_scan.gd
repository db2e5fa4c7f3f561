## Mod discovery: `WasmEngine.scan_mods` describes a folder's mods (a good one, a broken file, one
## asking for a higher level, one over the size cap, a symbolic link), the enabled list and load
## order are saved in `user://wasgo/mods.cfg` (phase 2 of the restart test checks them in a second
## Godot run: `tests/after_restart/test_mods_after_restart.gd`), `start_mods` starts the enabled
## ones in order, and nothing a mod writes into its sandbox under `user://mods` becomes a mod,
## changes its own code or reaches the enabled list.
extends "res://tests/lib/wasgo_test.gd"

const SANDBOX_ROOT := "user://mods"
const MODULE_MB := "wasgo/limits/module_mb"
const AUTO_GRANT := "wasgo/safety/auto_grant"
const ENABLE_NEW := "wasgo/mods/enable_new"


## WAT text for a mod with `manifest` as its `wasgo.manifest` section whose `ready` logs `says`.
func _mod(manifest: String, says: String) -> String:
	return """(module
  (import "wasgo" "log" (func $log (param i32 i32 i32)))
  (@custom "wasgo.manifest" "%s")
  (memory (export "memory") 1)
  (data (i32.const 16) "%s")
  (func (export "ready") (call $log (i32.const 1) (i32.const 16) (i32.const %d))))""" % [manifest.c_escape(), says, says.length()]


func _write(path: String, text: String) -> void:
	DirAccess.make_dir_recursive_absolute(path.get_base_dir())
	var f := FileAccess.open(path, FileAccess.WRITE)
	if expect(f != null, "cannot write %s" % path):
		f.store_string(text)
		f.close()


func _remove(path: String) -> void:
	if DirAccess.dir_exists_absolute(path):
		for file in DirAccess.get_files_at(path):
			DirAccess.remove_absolute(path.path_join(file))
		for dir in DirAccess.get_directories_at(path):
			_remove(path.path_join(dir))
	DirAccess.remove_absolute(path)


func _by_id(found: Array, id: String) -> Array:
	return found.filter(func(d: Dictionary) -> bool: return d["id"] == id)


func _ids(found: Array) -> PackedStringArray:
	var ids := PackedStringArray()
	for d: Dictionary in found:
		ids.append(d["id"])
	return ids


func test_a_good_mod_a_broken_file_and_a_greedy_mod_are_each_described() -> void:
	set_setting(SAFETY_LEVEL, 1)
	var dir := "user://scan_kinds"
	_remove(dir)
	_write(dir + "/good.wasm", _mod('{"name":"Good","version":"1.0.0","level":1}', "good"))
	_write(dir + "/broken.wasm", "this is not a module")
	_write(dir + "/greedy.wasm", _mod('{"name":"Greedy","level":3}', "greedy"))
	_write(dir + "/future.wasm", _mod('{"abi":"1.99"}', "future"))
	_write(dir + "/readme.txt", "not a mod")
	var found := WasmEngine.scan_mods(dir)
	expect_eq(_ids(found), PackedStringArray(["broken", "future", "good", "greedy"]), "the mods found, by id")
	if found.size() != 4:
		return
	var good: Dictionary = _by_id(found, "good")[0]
	expect_eq(good["path"], dir + "/good.wasm", "good's path")
	expect_eq(good["manifest"].get("name"), "Good", "good's manifest")
	expect_eq(good["problems"], PackedStringArray(), "good has no problem")
	expect_eq(good["startable"], true, "good may start")
	expect_eq(good["guest_kind"], "wasgo", "good's guest kind")
	expect_eq(String(good["sha256"]).length(), 64, "good's sha256")
	expect_eq(good["hash"], good["sha256"], "good's hash (the same as its sha256)")
	expect_eq(good["size"], FileAccess.get_file_as_bytes(dir + "/good.wasm").size(), "good's size")
	expect_eq(good["enabled"], false, "a new mod is disabled by default (`%s` is false)" % ENABLE_NEW)
	var broken: Dictionary = _by_id(found, "broken")[0]
	expect_eq(broken["startable"], false, "a broken file may not start")
	expect_contains("\n".join(broken["problems"]), "does not load", "broken's problem")
	var greedy: Dictionary = _by_id(found, "greedy")[0]
	expect_contains("\n".join(greedy["problems"]), "asks for safety level 3", "greedy's problem")
	expect_eq(greedy["startable"], true, "a claim above the level is reported, the mod may still start")
	expect_eq(greedy["level"], 3, "the level greedy asks for")
	var future: Dictionary = _by_id(found, "future")[0]
	expect_contains("\n".join(future["problems"]), "ABI 1.99", "future's problem names its ABI")
	expect_eq(future["startable"], false, "a mod for a newer ABI may not start")
	set_setting(ENABLE_NEW, true)
	expect_eq(_by_id(WasmEngine.scan_mods(dir), "good")[0]["enabled"], true, "with `%s` a new mod is enabled" % ENABLE_NEW)
	_remove(dir)


## WAT text of a module exporting `big(x)`, made of `ops` additions, unique per call (so no
## cache, in memory or on disk, holds it compiled).
func _large_wat(ops: int) -> String:
	var lines := PackedStringArray()
	lines.append("(module (func (export \"big\") (param i32) (result i32)")
	lines.append("  (local.set 0 (i32.add (local.get 0) (i32.const %d)))" % ((Time.get_ticks_usec() + randi()) % 2147483647))
	for i in ops:
		lines.append("  (local.set 0 (i32.add (local.get 0) (i32.const %d)))" % (i % 7))
	lines.append("  (local.get 0)))")
	return "\n".join(lines)


## A scan validates each module and leaves the compile to a background thread: before, it
## compiled every module on the main thread and waited for each (a player's mod that takes the
## compiler 30 s held the game's mods menu for 30 s). With a 1 ms compile limit a module that
## takes longer to compile is still listed and startable; one that does not validate is broken;
## the compile goes on and the module is then found compiled.
func test_a_scan_validates_and_does_not_wait_for_the_compiler() -> void:
	var dir := "user://scan_slow"
	_remove(dir)
	_write(dir + "/slow.wasm", _large_wat(3000))
	_write(dir + "/invalid.wasm", "(module (func (export \"f\") (result i32)))")
	# A scan starts compiles ahead only while fewer than two run: wait for earlier tests' ones.
	expect(await wait_until(func() -> bool: return WasmEngine.get_stats()["compiling"] == 0, 60000), "background compiles of earlier tests ended")
	set_setting("wasgo/limits/compile_timeout_ms", 1)
	var found := WasmEngine.scan_mods(dir)
	expect_eq(_ids(found), PackedStringArray(["invalid", "slow"]), "the mods found")
	if found.size() != 2:
		return
	var slow: Dictionary = _by_id(found, "slow")[0]
	expect_eq(slow["problems"], PackedStringArray(), "a module slower to compile than the limit")
	expect_eq(slow["startable"], true, "it may start")
	expect_eq(slow["guest_kind"], "wasgo", "its guest kind, read without compiling")
	var invalid: Dictionary = _by_id(found, "invalid")[0]
	expect_eq(invalid["startable"], false, "a module that does not validate")
	expect_contains("\n".join(invalid["problems"]), "does not load", "its problem")
	expect_contains("\n".join(invalid["problems"]), "type mismatch", "the validator's reason")
	set_setting("wasgo/limits/compile_timeout_ms", 30000)
	var compiled: bool = await wait_until(func() -> bool: return WasmEngine.get_stats()["compiling"] == 0, 60000)
	expect(compiled, "the background compile of the scanned module ended")
	var hits_before: int = WasmEngine.get_stats()["cache_hits"]
	var module := WasmEngine.load_module(dir + "/slow.wasm")
	expect(module != null, "the scanned module loads: %s" % WasmEngine.get_last_error())
	expect(WasmEngine.get_stats()["cache_hits"] > hits_before, "found compiled, not compiled again")
	_remove(dir)


func test_huge_files_and_symbolic_links_are_reported_not_read() -> void:
	var dir := "user://scan_hostile"
	_remove(dir)
	set_setting(MODULE_MB, 1)
	DirAccess.make_dir_recursive_absolute(dir)
	var f := FileAccess.open(dir + "/huge.wasm", FileAccess.WRITE)
	if expect(f != null, "cannot write huge.wasm"):
		f.seek(2 * 1024 * 1024)
		f.store_8(0)
		f.close()
	_write("user://scan_outside/secret.wasm", _mod("{}", "secret"))
	var d := DirAccess.open(dir)
	var linked := d.create_link(ProjectSettings.globalize_path("user://scan_outside/secret.wasm"), "linked.wasm") == OK
	var found := WasmEngine.scan_mods(dir)
	var huge: Dictionary = _by_id(found, "huge")[0] if _by_id(found, "huge").size() == 1 else {}
	expect_contains("\n".join(huge.get("problems", [])), "over the module size limit", "huge's problem")
	expect_eq(huge.get("sha256"), "", "a file over the cap is never read")
	if expect(linked, "DirAccess.create_link"):
		var link: Array = _by_id(found, "linked")
		if expect_eq(link.size(), 1, "the link is listed"):
			expect_contains("\n".join(link[0]["problems"]), "symbolic link", "the link's problem")
			expect_eq(link[0]["sha256"], "", "a link is never followed")
			expect_eq(link[0]["startable"], false, "a link may not start")
	_remove(dir)
	_remove("user://scan_outside")


func test_the_enabled_list_and_order_are_saved_and_start_mods_starts_in_order() -> void:
	var dir := "user://scan_start"
	_remove(dir)
	for id in ["start_a", "start_b", "start_c"]:
		_write(dir + "/" + id + ".wasm", _mod('{"level":1}', "hello from " + id))
	expect_eq(WasmEngine.set_mod_enabled("start_a", true), OK, "enable start_a")
	expect_eq(WasmEngine.set_mod_enabled("start_b", false), OK, "disable start_b")
	expect_eq(WasmEngine.set_mod_enabled("start_c", true), OK, "enable start_c")
	expect_eq(WasmEngine.set_mod_order(PackedStringArray(["start_c", "start_b", "start_a"])), OK, "set_mod_order")
	expect_eq(Array(WasmEngine.get_mod_order()).slice(0, 3), ["start_c", "start_b", "start_a"], "get_mod_order")
	expect_eq(_ids(WasmEngine.scan_mods(dir)), PackedStringArray(["start_c", "start_b", "start_a"]), "scan_mods lists in load order")
	var parent := Node.new()
	tree.root.add_child(parent)
	var started := WasmEngine.start_mods(parent, dir)
	var names := started.map(func(n: Node) -> String: return String(n.name))
	expect_eq(names, ["start_c", "start_a"], "start_mods starts the enabled mods, in order")
	for node in started:
		await wait_until(func() -> bool: return node.get_status() == WasmScript.STATUS_RUNNING, 5000)
		expect_eq(node.get_status(), WasmScript.STATUS_RUNNING, "%s runs" % node.name)
		expect_eq(node.get_parent(), parent, "%s is under the parent" % node.name)
	parent.free()
	# What a bad id would make of the file: refused, nothing changed.
	expect_eq(WasmEngine.set_mod_enabled("../evil", true), ERR_INVALID_PARAMETER, "an id that is a path")
	expect_eq(WasmEngine.set_mod_order(PackedStringArray(["ok", "a/b"])), ERR_INVALID_PARAMETER, "an order holding a path")
	expect_eq(Array(WasmEngine.get_mod_order()).slice(0, 3), ["start_c", "start_b", "start_a"], "the order after refused changes")
	_remove(dir)


## `start_mods` runs each mod at the level the game allows (`wasgo/safety/level`), or lower when
## its manifest asks for less; never above it.
func test_start_mods_runs_mods_at_the_level_the_game_allows() -> void:
	var dir := "user://scan_levels"
	_remove(dir)
	_write(dir + "/lv_none.wasm", _mod("{}", "no manifest level"))
	_write(dir + "/lv_one.wasm", _mod('{"level":1}', "asks for 1"))
	_write(dir + "/lv_three.wasm", _mod('{"level":3}', "asks for 3"))
	for id in ["lv_none", "lv_one", "lv_three"]:
		expect_eq(WasmEngine.set_mod_enabled(id, true), OK, "enable %s" % id)
	expect_eq(WasmEngine.set_mod_order(PackedStringArray(["lv_none", "lv_one", "lv_three"])), OK, "set_mod_order")
	set_setting(SAFETY_LEVEL, 2)
	var parent := Node.new()
	tree.root.add_child(parent)
	var started := WasmEngine.start_mods(parent, dir)
	var levels := {}
	for node in started:
		levels[String(node.name)] = node.safety_level
	expect_eq(levels, {"lv_none": 2, "lv_one": 1, "lv_three": 2}, "the nodes' levels under a game at level 2")
	parent.free()
	_remove(dir)


## `start_mods` from a child's `_ready` (the parent is busy setting up its children, and Godot
## refuses `add_child` then): the nodes go under the parent at the end of the frame and start
## there, instead of starting outside the tree and leaking.
func test_start_mods_from_a_childs_ready_adds_the_nodes_when_the_parent_is_free() -> void:
	var dir := "user://scan_busy"
	_remove(dir)
	_write(dir + "/busy_one.wasm", _mod('{"level":1}', "hello from busy_one"))
	expect_eq(WasmEngine.set_mod_enabled("busy_one", true), OK, "enable busy_one")
	var kid_script := GDScript.new()
	kid_script.source_code = """extends Node
var dir := ""
var started: Array = []
func _ready() -> void:
	started = WasmEngine.start_mods(get_parent(), dir)
"""
	expect_eq(kid_script.reload(), OK, "the child's script compiles")
	var host := Node.new()
	var kid := Node.new()
	kid.set_script(kid_script)
	kid.set("dir", dir)
	host.add_child(kid)
	var logger := preload("res://tests/lib/log_counter.gd").new("busy", Logger.ERROR_TYPE_ERROR)
	OS.add_logger(logger)
	tree.root.add_child(host)
	OS.remove_logger(logger)
	expect_eq(logger.count(), 0, "errors Godot logged about a busy parent")
	var started: Array = kid.get("started")
	if expect_eq(started.size(), 1, "start_mods returned the node"):
		var node: Node = started[0]
		expect(await wait_until(func() -> bool: return node.get_status() == WasmScript.STATUS_RUNNING, 5000), "the mod runs: status %d" % node.get_status())
		expect_eq(node.get_parent(), host, "the node is under the parent")
	host.free()
	_remove(dir)


## Writes to `dir` a large mod `first` (new: its salt misses every cache) and a small one
## `second`, each logging `ready <id>` from `ready`, enables them in that order and runs
## `start_mods` under a new parent: `{parent, started, said}` (the lines they logged, as they
## come).
func _start_large_then_small(dir: String, first: String, second: String) -> Dictionary:
	_remove(dir)
	var salt := Time.get_ticks_usec() + randi()
	var big := PackedStringArray()
	big.append("(func (export \"big\") (param i32) (result i32)")
	big.append("  (local.set 0 (i32.add (local.get 0) (i32.const %d)))" % (salt % 2147483647))
	for i in 6000:
		big.append("  (local.set 0 (i32.add (local.get 0) (i32.const %d)))" % (i % 7))
	big.append("  (local.get 0))")
	_write(dir + "/%s.wasm" % first, _mod("{}", "ready " + first).trim_suffix(")") + "\n" + "\n".join(big) + ")")
	_write(dir + "/%s.wasm" % second, _mod("{}", "ready " + second))
	for id in [first, second]:
		expect_eq(WasmEngine.set_mod_enabled(id, true), OK, "enable %s" % id)
	expect_eq(WasmEngine.set_mod_order(PackedStringArray([first, second])), OK, "set_mod_order")
	var parent := Node.new()
	tree.root.add_child(parent)
	var said: Array[String] = []
	var started := WasmEngine.start_mods(parent, dir)
	expect_eq(started.map(func(n: Node) -> String: return String(n.name)), [first, second], "the nodes, in order")
	for node in started:
		node.output.connect(func(line: String) -> void: said.append(line.strip_edges()))
	return {"parent": parent, "started": started, "said": said}


## `start_mods` starts the mods one after another in load order: started all at once, each mod
## began when its own background compile ended, so a small mod ordered after a large one ran its
## `ready` first.
func test_start_mods_runs_a_later_mod_only_after_an_earlier_one() -> void:
	var dir := "user://scan_start_order"
	var run := _start_large_then_small(dir, "order_z", "order_a")
	var parent: Node = run["parent"]
	var said: Array[String] = run["said"]
	expect(await wait_until(func() -> bool: return said.size() >= 2, 60000), "both mods said hello: %s" % [said])
	expect_eq(said, ["ready order_z", "ready order_a"], "the order the mods ran `ready` in")
	parent.free()
	_remove(dir)


## `kill_all()` while `start_mods` waits for an earlier mod's compile stops the chain: the later
## mods were started anyway once the compile (which kill_all cancelled) ended.
func test_kill_all_stops_the_mods_start_mods_has_yet_to_start() -> void:
	var dir := "user://scan_start_killed"
	var run := _start_large_then_small(dir, "killed_z", "killed_a")
	var parent: Node = run["parent"]
	var started: Array = run["started"]
	var said: Array[String] = run["said"]
	await frames(2)
	if expect_eq(started[0].get_status(), WasmScript.STATUS_LOADING, "the first mod is compiling"):
		WasmEngine.kill_all()
		# Long enough for the cancelled compile to end and the chain to go on, were it to.
		await wait_until(func() -> bool: return WasmEngine.get_stats()["compiling"] == 0, 60000)
		await frames(5)
		expect_eq(said, [] as Array[String], "no mod ran after kill_all()")
		expect_eq(started[1].get_status(), WasmScript.STATUS_IDLE, "the second mod was never started")
	parent.free()
	_remove(dir)


## `kill_all()` from game code an earlier start of the chain ran (the first mod's `trapped`
## handler; the modules compiled beforehand, so each start is synchronous): the chain checked
## for it only when it was entered, and started the later mods anyway.
func test_kill_all_from_a_handler_in_the_chain_stops_the_later_mods() -> void:
	var dir := "user://scan_kill_in_chain"
	_remove(dir)
	_write(dir + "/chain_a.wasm", "(module (memory (export \"memory\") 1) (func (export \"init\") unreachable))")
	_write(dir + "/chain_b.wasm", _mod("{}", "b"))
	_write(dir + "/chain_c.wasm", _mod("{}", "c"))
	var ids := ["chain_a", "chain_b", "chain_c"]
	for id in ids:
		expect_eq(WasmEngine.set_mod_enabled(id, true), OK, "enable %s" % id)
		expect(WasmEngine.load_module(dir + "/%s.wasm" % id) != null, "compile %s beforehand" % id)
	expect_eq(WasmEngine.set_mod_order(PackedStringArray(ids)), OK, "set_mod_order")
	var parent := Node.new()
	tree.root.add_child(parent)
	var started := WasmEngine.start_mods(parent, dir)
	if expect_eq(started.size(), 3, "start_mods returned the three nodes"):
		var traps := [0]
		started[0].trapped.connect(func(_message: String) -> void:
			traps[0] += 1
			WasmEngine.kill_all())
		await frames(5)
		expect_eq(traps[0], 1, "the first mod's init trapped")
		expect_eq(started[1].get_status(), WasmScript.STATUS_IDLE, "the second mod was never started")
		expect_eq(started[2].get_status(), WasmScript.STATUS_IDLE, "the third mod was never started")
	parent.free()
	_remove(dir)


## Phase 1 of the restart test: phase 2 (`tests/after_restart/test_mods_after_restart.gd`) finds
## this order and these flags in a second Godot run.
func test_restart_phase_1_the_enabled_list_and_order_are_saved() -> void:
	var dir := "user://scan_restart"
	_remove(dir)
	_write(dir + "/restart_a.wasm", _mod("{}", "a"))
	_write(dir + "/restart_b.wasm", _mod("{}", "b"))
	expect_eq(WasmEngine.set_mod_enabled("restart_a", false), OK, "disable restart_a")
	expect_eq(WasmEngine.set_mod_enabled("restart_b", true), OK, "enable restart_b")
	expect_eq(WasmEngine.set_mod_order(PackedStringArray(["restart_b", "restart_a"])), OK, "order b, a")
	expect(FileAccess.get_file_as_string("user://wasgo/mods.cfg").contains("restart_b"), "mods.cfg holds the ids")


func test_what_a_single_file_mod_writes_into_its_sandbox_never_becomes_a_mod() -> void:
	# `user://mods/scan_single.wasm`'s sandbox is `user://mods/scan_single/`: a mod writing a
	# module there (as its own name, or another) must not add a mod to the list. WasGo remembers
	# the sandbox when the mod first runs at level 2, before it can write anything.
	_remove(SANDBOX_ROOT + "/scan_single")
	_write(SANDBOX_ROOT + "/scan_single.wasm", _mod("{}", "single"))
	set_setting(SAFETY_LEVEL, 2)
	var probe := new_mod("scan_single", {"wasm_file": SANDBOX_ROOT + "/scan_single.wasm", "safety_level": 2})
	expect_eq(start(probe), OK, "start the single-file mod at level 2 (its sandbox is remembered)")
	probe.node.kill()
	_write(SANDBOX_ROOT + "/scan_single/scan_single.wasm", _mod("{}", "planted"))
	_write(SANDBOX_ROOT + "/scan_single/evil.wasm", _mod("{}", "planted"))
	var found := WasmEngine.scan_mods()
	expect_eq(_by_id(found, "scan_single").size(), 1, "scan_single is listed once")
	expect_eq(_by_id(found, "evil").size(), 0, "nothing in its sandbox is listed")
	if _by_id(found, "scan_single").size() == 1:
		expect_eq(_by_id(found, "scan_single")[0]["sandbox"], "user://mods/scan_single/", "its sandbox")
		expect_eq(_by_id(found, "scan_single")[0]["startable"], true, "the mod itself starts")
	# Even once the mod is gone, a sandbox WasGo made stays no mod.
	DirAccess.remove_absolute(SANDBOX_ROOT + "/scan_single.wasm")
	var after := WasmEngine.scan_mods()
	expect_eq(_by_id(after, "scan_single").size(), 0, "the remembered sandbox is not a folder mod")
	expect(WasmEngine.scan_mods(SANDBOX_ROOT + "/scan_single").is_empty(), "scanning inside a sandbox is refused")
	expect_contains(WasmEngine.get_last_error(), "inside the sandbox", "and says why")
	_remove(SANDBOX_ROOT + "/scan_single")


## A folder that is not a remembered sandbox but holds `name/name.wasm` beside `name.wasm` (a
## folder mod a file was dropped beside): both are listed, share the id, and neither starts
## (the folder mod was dropped as the file's sandbox, and the file took its place).
func test_a_file_dropped_beside_a_folder_mod_does_not_take_its_place() -> void:
	_remove(SANDBOX_ROOT + "/scan_vic")
	_write(SANDBOX_ROOT + "/scan_vic/scan_vic.wasm", _mod("{}", "victim"))
	_write(SANDBOX_ROOT + "/scan_vic.wasm", _mod("{}", "intruder"))
	var found: Array = _by_id(WasmEngine.scan_mods(), "scan_vic")
	expect_eq(found.size(), 2, "both are listed")
	for m: Dictionary in found:
		expect_eq(m["startable"], false, "%s may not start" % m["path"])
	DirAccess.remove_absolute(SANDBOX_ROOT + "/scan_vic.wasm")
	_remove(SANDBOX_ROOT + "/scan_vic")


## A mod started from a folder named like its id in another case (`user://mods/Scan_Case/
## scan_case.wasm`) is inside its id's folder where names ignore case (Windows, macOS): its
## sandbox is `scan_case-files` everywhere, never a folder its code may be in.
func test_a_folder_mod_in_a_folder_of_another_case_gets_the_files_sandbox() -> void:
	await frames(1)
	set_setting(SAFETY_LEVEL, 2)
	set_setting(AUTO_GRANT, PackedStringArray(["files"]))
	var code := SANDBOX_ROOT + "/Scan_Case/scan_case.wasm"
	_remove(SANDBOX_ROOT + "/Scan_Case")
	_remove(SANDBOX_ROOT + "/scan_case")
	_remove(SANDBOX_ROOT + "/scan_case-files")
	_write(code, """(module
  (import "wasgo" "file_write" (func $write (param i32 i32 i32 i32) (result i32)))
  (import "wasgo" "log" (func $log (param i32 i32 i32)))
  (memory (export "memory") 1)
  (data (i32.const 16) "note.txt")
  (data (i32.const 64) "hi")
  (data (i32.const 128) "written")
  (func (export "ready")
    (if (i32.eqz (call $write (i32.const 16) (i32.const 8) (i32.const 64) (i32.const 2)))
      (then (call $log (i32.const 1) (i32.const 128) (i32.const 7))))))""")
	var probe := new_mod("scan_case", {"wasm_file": code, "safety_level": 2})
	expect_eq(start(probe), OK, "start the mod at level 2")
	expect(probe.has_output("written"), "the mod wrote its file: %s" % probe.describe())
	expect_eq(FileAccess.get_file_as_string(SANDBOX_ROOT + "/scan_case-files/note.txt"), "hi", "the file went to scan_case-files")
	expect(not FileAccess.file_exists(SANDBOX_ROOT + "/scan_case/note.txt"), "not to user://mods/scan_case")
	probe.node.kill()
	_remove(SANDBOX_ROOT + "/Scan_Case")
	_remove(SANDBOX_ROOT + "/scan_case")
	_remove(SANDBOX_ROOT + "/scan_case-files")


func test_a_folder_mod_cannot_write_over_its_own_code_and_what_it_writes_is_not_a_mod() -> void:
	# The tree's root is ready only once the main loop has run a frame: `ready` (which writes
	# the file) runs at start() only for a node added to a ready tree (this test may run first).
	await frames(1)
	set_setting(SAFETY_LEVEL, 2)
	set_setting(AUTO_GRANT, PackedStringArray(["files"]))
	var code := SANDBOX_ROOT + "/scan_pack/scan_pack.wasm"
	_remove(SANDBOX_ROOT + "/scan_pack")
	_remove(SANDBOX_ROOT + "/scan_pack-files")
	# The mod writes "scan_pack.wasm" into its sandbox: if its sandbox were its code folder, it
	# would replace its own code.
	var planted := "(module)"
	_write(code, """(module
  (import "wasgo" "file_write" (func $write (param i32 i32 i32 i32) (result i32)))
  (import "wasgo" "log" (func $log (param i32 i32 i32)))
  (@custom "wasgo.manifest" "{\\"level\\":2,\\"permissions\\":[\\"files\\"]}")
  (memory (export "memory") 1)
  (data (i32.const 16) "scan_pack.wasm")
  (data (i32.const 64) "%s")
  (data (i32.const 128) "written")
  (func (export "ready")
    (if (i32.eqz (call $write (i32.const 16) (i32.const 14) (i32.const 64) (i32.const %d)))
      (then (call $log (i32.const 1) (i32.const 128) (i32.const 7))))))""" % [planted, planted.length()])
	var before := FileAccess.get_sha256(code)
	var found := WasmEngine.scan_mods()
	var pack: Array = _by_id(found, "scan_pack")
	if not expect_eq(pack.size(), 1, "the folder mod is listed"):
		return
	expect_eq(pack[0]["folder"], true, "as a folder mod")
	expect_eq(pack[0]["sandbox"], "user://mods/scan_pack-files/", "its sandbox is not its code folder")
	var probe := new_mod("scan_pack", {"wasm_file": code, "safety_level": 2})
	expect_eq(start(probe), OK, "start the folder mod at level 2")
	expect(probe.has_output("written"), "the mod wrote its file: %s" % probe.describe())
	expect_eq(FileAccess.get_sha256(code), before, "its code is unchanged")
	expect_eq(FileAccess.get_file_as_string(SANDBOX_ROOT + "/scan_pack-files/scan_pack.wasm"), planted, "the file went to its sandbox")
	var after := WasmEngine.scan_mods()
	expect_eq(_by_id(after, "scan_pack").size(), 1, "still one scan_pack")
	expect_eq(_by_id(after, "scan_pack-files").size(), 0, "its sandbox is not a mod")
	expect_eq(_by_id(after, "scan_pack")[0]["sha256"], pack[0]["sha256"], "the scanned code is the same")
	probe.node.kill()
	_remove(SANDBOX_ROOT + "/scan_pack")
	_remove(SANDBOX_ROOT + "/scan_pack-files")


## The same with the code's path spelled with a backslash, which Godot reads as `/`: the folder
## mod's sandbox was its code folder (the path compare split on `/` only).
func test_a_folder_mod_spelled_with_a_backslash_still_cannot_write_over_its_code() -> void:
	await frames(1)
	set_setting(SAFETY_LEVEL, 2)
	set_setting(AUTO_GRANT, PackedStringArray(["files"]))
	var code := SANDBOX_ROOT + "/scan_bs/scan_bs.wasm"
	_remove(SANDBOX_ROOT + "/scan_bs")
	_remove(SANDBOX_ROOT + "/scan_bs-files")
	var planted := "(module)"
	_write(code, """(module
  (import "wasgo" "file_write" (func $write (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 16) "scan_bs.wasm")
  (data (i32.const 64) "%s")
  (func (export "ready")
    (drop (call $write (i32.const 16) (i32.const 12) (i32.const 64) (i32.const %d)))))""" % [planted, planted.length()])
	var before := FileAccess.get_sha256(code)
	var probe := new_mod("scan_bs", {"wasm_file": SANDBOX_ROOT + "/scan_bs\\scan_bs.wasm", "safety_level": 2})
	expect_eq(start(probe), OK, "start the folder mod at level 2: %s" % probe.node.get_last_error())
	await frames(2)
	expect_eq(FileAccess.get_sha256(code), before, "its code is unchanged")
	expect_eq(FileAccess.get_file_as_string(SANDBOX_ROOT + "/scan_bs-files/scan_bs.wasm"), planted, "the file went to its sandbox")
	probe.node.kill()
	_remove(SANDBOX_ROOT + "/scan_bs")
	_remove(SANDBOX_ROOT + "/scan_bs-files")


func test_a_single_file_mod_named_after_a_folder_mods_sandbox_and_the_folder_mod_may_not_start() -> void:
	_remove(SANDBOX_ROOT + "/scan_kit")
	_write(SANDBOX_ROOT + "/scan_kit/scan_kit.wasm", _mod("{}", "kit"))
	_write(SANDBOX_ROOT + "/scan_kit-files.wasm", _mod("{}", "squatter"))
	var found := WasmEngine.scan_mods()
	# Neither starts: a file named to take another mod's sandbox disables both, and both are
	# named, so the player renames one (the first in file-name order could start before).
	var kit: Array = _by_id(found, "scan_kit")
	expect_eq(kit[0]["startable"] if kit.size() == 1 else null, false, "the folder mod is flagged too")
	expect_contains("\n".join(kit[0]["problems"]) if kit.size() == 1 else "", "neither starts", "and says why")
	var squatter: Array = _by_id(found, "scan_kit-files")
	if expect_eq(squatter.size(), 1, "the squatter is listed"):
		expect_eq(squatter[0]["startable"], false, "a mod that would share another's sandbox may not start")
		expect_contains("\n".join(squatter[0]["problems"]), "would share its", "and says why")
	_remove(SANDBOX_ROOT + "/scan_kit")
	DirAccess.remove_absolute(SANDBOX_ROOT + "/scan_kit-files.wasm")
