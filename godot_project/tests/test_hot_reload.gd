## Hot reload while developing (`wasgo/runtime/hot_reload`): a running `WasmScript` whose
## `.wasm` file changes on disk reloads it, keeping the node, emits `reloaded(carried_state)`, and
## the mod's state goes across through its `save_state`/`load_state` exports (the SDK's
## `export_state!`). A replacement that does not compile is reported with the node's path and
## changes nothing; the next good one reloads. The test mod `hot_state` counts frames; its
## version-2 build `hot_state_v2` answers `version()` with 2.
extends "res://tests/lib/wasgo_test.gd"

const HOT_RELOAD := "wasgo/runtime/hot_reload"
const V1 := MODS + "hot_state.wasm"
const V2 := MODS + "hot_state_v2.wasm"
## Far more than the frames a test lasts: a count at least this large came across a reload.
const BIG := 1000000
## A bound for a hung reload (not a timing assertion: a reload comes within about half a second).
const RELOAD_WAIT_MS := 15000
const LogCounter := preload("res://tests/lib/log_counter.gd")

var _files: PackedStringArray = []


## Writes `bytes` to the `user://` file `file_name` (removed in `cleanup()`); returns its path.
func _write(file_name: String, bytes: PackedByteArray) -> String:
	var path := "user://" + file_name
	var file := FileAccess.open(path, FileAccess.WRITE)
	expect(file != null, "cannot write %s" % path)
	if file != null:
		file.store_buffer(bytes)
		file.close()
	if not _files.has(path):
		_files.append(path)
	return path


func cleanup() -> void:
	await super.cleanup()
	for path in _files:
		DirAccess.remove_absolute(ProjectSettings.globalize_path(path))


## A started `hot_state` mod run from a copy of its version 1 in `user://<file_name>`, with its
## `reloaded` emissions recorded in `reloads`.
func _started_copy(file_name: String, reloads: Array) -> ModProbe:
	set_setting(HOT_RELOAD, true)
	var path := _write(file_name, FileAccess.get_file_as_bytes(V1))
	var probe := new_mod(file_name.get_basename(), {"wasm_file": path})
	probe.node.reloaded.connect(func(carried: bool) -> void: reloads.append(carried))
	expect_eq(start(probe), OK, "start() of %s" % path)
	expect_eq(probe.node.call_export("version", []), 1, "version() of the first build")
	return probe


func _count(probe: ModProbe) -> int:
	var count: Variant = probe.node.call_export("count", [])
	return count if count is int else -1


func _wait_for_reload(reloads: Array, probe: ModProbe) -> bool:
	var reloaded: bool = await wait_until(func() -> bool: return not reloads.is_empty(), RELOAD_WAIT_MS)
	return expect(reloaded, "no `reloaded` after the file changed: %s, last error: %s" % [
		probe.describe(), probe.node.get_last_error()])


func test_a_changed_file_reloads_the_same_node_and_the_count_carries_over() -> void:
	var reloads := []
	var probe := _started_copy("wasgo_hot_carry.wasm", reloads)
	var node := probe.node
	var counted: bool = await wait_until(func() -> bool: return _count(probe) >= 3)
	expect(counted, "the mod counts frames: count is %d" % _count(probe))
	var before: int = node.call_export("add", [BIG])
	_write("wasgo_hot_carry.wasm", FileAccess.get_file_as_bytes(V2))
	if not await _wait_for_reload(reloads, probe):
		return
	expect_eq(reloads, [true], "`reloaded` emissions (carried_state)")
	expect(is_instance_valid(node) and probe.node == node and node.is_inside_tree(),
		"the node is the same object, still in the tree")
	expect_eq(node.call_export("version", []), 2, "version() after the reload")
	var after := _count(probe)
	expect(after >= before, "the count carried over: %d before the reload, %d after" % [before, after])
	expect_eq(node.get_status(), WasmScript.STATUS_RUNNING, "status after the reload")
	expect_eq(probe.kills.size(), 1, "`killed` emissions: %s" % [probe.kills])
	if probe.kills.size() == 1:
		expect(probe.kills[0].begins_with("reloading"), "the kill says it is a reload: %s" % probe.kills[0])
	expect_eq(probe.started, 2, "`started` emissions")
	expect_eq(probe.traps, PackedStringArray(), "traps")


func test_a_corrupt_replacement_is_reported_and_the_next_good_one_reloads() -> void:
	var reloads := []
	var probe := _started_copy("wasgo_hot_broken.wasm", reloads)
	var node := probe.node
	var before: int = node.call_export("add", [BIG])
	_write("wasgo_hot_broken.wasm", "half a build, not a module\n".to_utf8_buffer())
	var reported: bool = await wait_until(
		func() -> bool: return node.get_last_error().contains("cannot hot-reload"), RELOAD_WAIT_MS)
	if not expect(reported, "the broken file was not reported: %s" % probe.describe()):
		return
	var error: String = node.get_last_error()
	expect_contains(error, str(node.get_path()), "the error names the node")
	expect_contains(error, "user://wasgo_hot_broken.wasm", "the error names the file")
	expect_contains(error, "not a WebAssembly module", "the error says what is wrong")
	expect_eq(reloads, [], "`reloaded` emissions for a broken file")
	expect_eq(node.get_status(), WasmScript.STATUS_RUNNING, "the old instance goes on")
	expect_eq(node.call_export("version", []), 1, "version() while the file is broken")
	var still: int = _count(probe)
	var counting: bool = await wait_until(func() -> bool: return _count(probe) > still)
	expect(counting, "the old instance still counts frames")
	_write("wasgo_hot_broken.wasm", FileAccess.get_file_as_bytes(V2))
	if not await _wait_for_reload(reloads, probe):
		return
	expect_eq(reloads, [true], "`reloaded` emissions once the file is good")
	expect_eq(node.call_export("version", []), 2, "version() after the good file")
	expect(_count(probe) >= before, "the count carried over: %d before, %d after" % [before, _count(probe)])


## A player's mod in `user://` replaced by a symbolic link is not followed (the new code would
## come from wherever it points): reported, and the old instance goes on.
func test_a_user_mod_replaced_by_a_symbolic_link_is_not_reloaded() -> void:
	if OS.get_name() != "Linux":
		return
	var reloads := []
	var probe := _started_copy("wasgo_hot_link.wasm", reloads)
	var node := probe.node
	var file := ProjectSettings.globalize_path("user://wasgo_hot_link.wasm")
	DirAccess.remove_absolute(file)
	expect_eq(OS.execute("ln", ["-s", ProjectSettings.globalize_path(V2), file]), 0, "ln -s")
	var reported: bool = await wait_until(
		func() -> bool: return node.get_last_error().contains("symbolic link"), RELOAD_WAIT_MS)
	expect(reported, "the link was not reported: %s" % probe.describe())
	expect_eq(reloads, [], "`reloaded` emissions")
	expect_eq(node.call_export("version", []), 1, "version() after the link")
	expect_eq(node.get_status(), WasmScript.STATUS_RUNNING, "the old instance goes on")


func test_a_replacement_whose_init_traps_keeps_the_state_for_the_next_good_one() -> void:
	var reloads := []
	var probe := _started_copy("wasgo_hot_trap.wasm", reloads)
	var node := probe.node
	var before: int = node.call_export("add", [BIG])
	# Compiles (WAT is accepted), then traps in `init` while starting.
	var trapping := "(module (memory (export \"memory\") 1) (func (export \"init\") unreachable))"
	_write("wasgo_hot_trap.wasm", trapping.to_utf8_buffer())
	var trapped: bool = await wait_until(func() -> bool: return not probe.traps.is_empty(), RELOAD_WAIT_MS)
	if not expect(trapped, "the new module's `init` did not trap: %s" % probe.describe()):
		return
	expect_eq(reloads, [], "`reloaded` emissions for a module that did not start")
	expect_contains(node.get_last_error(), str(node.get_path()), "the failure names the node")
	expect_eq(node.get_status(), WasmScript.STATUS_TRAPPED, "status after the failed start")
	_write("wasgo_hot_trap.wasm", FileAccess.get_file_as_bytes(V2))
	if not await _wait_for_reload(reloads, probe):
		return
	expect_eq(reloads, [true], "the state saved before the failed start reached the good build")
	expect_eq(node.call_export("version", []), 2, "version() after the good file")
	expect(_count(probe) >= before, "the count carried over: %d before, %d after" % [before, _count(probe)])


## A replacement that starts but whose `load_state` (or `ready`) traps after taking the state:
## the state was gone with it, and the next good build started empty. It is kept until a start
## succeeds.
func test_a_replacement_whose_load_state_or_ready_traps_keeps_the_state() -> void:
	var breaking := {
		"load_state": "(module (memory (export \"memory\") 1) (global $p (mut i32) (i32.const 1024)) (func (export \"malloc\") (param i32 i32) (result i32) (global.get $p)) (func (export \"load_state\") (param i32 i32) unreachable))",
		"ready": "(module (memory (export \"memory\") 1) (global $p (mut i32) (i32.const 1024)) (func (export \"malloc\") (param i32 i32) (result i32) (global.get $p)) (func (export \"load_state\") (param i32 i32)) (func (export \"ready\") unreachable))",
	}
	for way in breaking:
		var reloads := []
		var probe := _started_copy("wasgo_hot_%s_trap.wasm" % way, reloads)
		var node := probe.node
		var before: int = node.call_export("add", [BIG])
		_write("wasgo_hot_%s_trap.wasm" % way, breaking[way].to_utf8_buffer())
		var trapped: bool = await wait_until(func() -> bool: return not probe.traps.is_empty(), RELOAD_WAIT_MS)
		if not expect(trapped, "the new module's `%s` did not trap: %s" % [way, probe.describe()]):
			continue
		_write("wasgo_hot_%s_trap.wasm" % way, FileAccess.get_file_as_bytes(V2))
		if not await _wait_for_reload(reloads, probe):
			continue
		expect_eq(reloads, [true], "the state reached the good build after a `%s` trap" % way)
		expect(_count(probe) >= before, "the count carried over a `%s` trap: %d before, %d after" % [way, before, _count(probe)])


## A game function the old mod's `save_state` calls points the node at another mod: the bytes
## it saved were handed to that mod's `load_state` at its next start. They are dropped.
func test_a_save_state_that_retargets_the_node_does_not_hand_its_bytes_on() -> void:
	var node_ref := [null]
	var other := _write("wasgo_hot_retarget_other.wasm", FileAccess.get_file_as_bytes(V2))
	expect_eq(register_game_function("game", "retarget", func() -> void: node_ref[0].wasm_file = other,
		[], [], 1), OK, "register game.retarget")
	var first := """(module
  (import "game" "retarget" (func $retarget))
  (memory (export "memory") 1)
  (global $p (mut i32) (i32.const 1024))
  (func (export "malloc") (param i32 i32) (result i32) (global.get $p))
  (func (export "free") (param i32 i32 i32))
  (func (export "save_state") (param $out i32) (param $cap i32) (result i32)
    (call $retarget)
    (i32.store (local.get $out) (i32.const 0x7fffffff))
    (i32.const 4)))"""
	var reloads := []
	var path := _write("wasgo_hot_retarget.wasm", first.to_utf8_buffer())
	var probe := new_mod("hot_retarget", {"wasm_file": path})
	probe.node.reloaded.connect(func(carried: bool) -> void: reloads.append(carried))
	node_ref[0] = probe.node
	expect_eq(start(probe), OK, "start(): %s" % probe.node.get_last_error())
	await wait_until(func() -> bool: return probe.node.get_status() == WasmScript.STATUS_RUNNING, 10000)
	_write("wasgo_hot_retarget.wasm", FileAccess.get_file_as_bytes(V1))
	var moved: bool = await wait_until(func() -> bool: return probe.node.wasm_file == other, RELOAD_WAIT_MS)
	await frames(5)
	probe.node.kill()
	expect_eq(probe.node.start(), OK, "start() of the other mod: %s" % probe.node.get_last_error())
	await wait_until(func() -> bool: return probe.node.get_status() == WasmScript.STATUS_RUNNING, 10000)
	expect_eq(probe.node.call_export("version", []), 2, "the other mod runs")
	expect(_count(probe) < BIG, "the other mod got no state: count %d" % _count(probe))
	expect_eq(reloads, [], "`reloaded` emissions")


## The state an old module saved is for the next build of that module: a game that points the
## node at another file (or module) drops it. Before, the next module the node ran got the old
## module's bytes in `load_state` (a hostile module whose reload trapped handed crafted bytes to
## whatever the node ran next).
func test_a_new_source_set_by_the_game_does_not_get_the_old_modules_state() -> void:
	var reloads := []
	var probe := _started_copy("wasgo_hot_other.wasm", reloads)
	var node := probe.node
	node.call_export("add", [BIG])
	var trapping := "(module (memory (export \"memory\") 1) (func (export \"init\") unreachable))"
	_write("wasgo_hot_other.wasm", trapping.to_utf8_buffer())
	var trapped: bool = await wait_until(func() -> bool: return not probe.traps.is_empty(), RELOAD_WAIT_MS)
	if not expect(trapped, "the new module's `init` did not trap: %s" % probe.describe()):
		return
	node.wasm_file = _write("wasgo_hot_fresh.wasm", FileAccess.get_file_as_bytes(V2))
	expect_eq(node.start(), OK, "start() from the new file: %s" % node.get_last_error())
	expect_eq(node.call_export("version", []), 2, "the new file runs")
	expect(_count(probe) < BIG, "the old module's state reached the new file's module: count %d" % _count(probe))
	expect_eq(reloads, [], "`reloaded` emissions")


func test_a_node_the_game_killed_is_not_restarted_by_a_change_of_its_file() -> void:
	var reloads := []
	var stopped := _started_copy("wasgo_hot_shared.wasm", reloads)
	# A second node on the same file, watched after the first: its reload is begun after the
	# first node's in the same check and completes no earlier, so once it reloaded the first
	# node's change has been handled too.
	var witness_reloads := []
	var witness := new_mod("wasgo_hot_witness", {"wasm_file": "user://wasgo_hot_shared.wasm"})
	witness.node.reloaded.connect(func(carried: bool) -> void: witness_reloads.append(carried))
	expect_eq(start(witness), OK, "start() of the witness")
	stopped.node.kill()
	_write("wasgo_hot_shared.wasm", FileAccess.get_file_as_bytes(V2))
	if not await _wait_for_reload(witness_reloads, witness):
		return
	expect_eq(witness.node.call_export("version", []), 2, "the witness runs the new build")
	expect_eq(reloads, [], "`reloaded` of the node the game killed")
	expect_eq(stopped.node.get_status(), WasmScript.STATUS_KILLED, "the killed node stays killed")
	expect_eq(stopped.started, 1, "`started` emissions of the killed node")


func test_mods_the_game_stopped_with_kill_all_are_not_restarted_by_a_change_of_their_file() -> void:
	var reloads := []
	var stopped := _started_copy("wasgo_hot_kill_all.wasm", reloads)
	WasmEngine.kill_all()
	expect_eq(stopped.node.get_status(), WasmScript.STATUS_KILLED, "status after kill_all()")
	# Started after kill_all() on the same file, and watched after the stopped node (see above).
	var witness_reloads := []
	var witness := new_mod("wasgo_hot_kill_all_witness", {"wasm_file": "user://wasgo_hot_kill_all.wasm"})
	witness.node.reloaded.connect(func(carried: bool) -> void: witness_reloads.append(carried))
	expect_eq(start(witness), OK, "start() of the witness")
	_write("wasgo_hot_kill_all.wasm", FileAccess.get_file_as_bytes(V2))
	if not await _wait_for_reload(witness_reloads, witness):
		return
	expect_eq(witness.node.call_export("version", []), 2, "the witness runs the new build")
	expect_eq(reloads, [], "`reloaded` of the node kill_all() stopped")
	expect_eq(stopped.node.get_status(), WasmScript.STATUS_KILLED, "the stopped node stays killed")
	expect_eq(stopped.started, 1, "`started` emissions of the stopped node")


func test_a_kill_from_the_killed_handler_of_a_hot_reload_stands() -> void:
	await _hot_reload_stopped_from_its_killed_handler("wasgo_hot_kill_handler.wasm", "kill()",
		func(node: Node) -> void: node.kill())


func test_kill_all_from_the_killed_handler_of_a_hot_reload_stands() -> void:
	await _hot_reload_stopped_from_its_killed_handler("wasgo_hot_kill_all_handler.wasm", "WasmEngine.kill_all()",
		func(_node: Node) -> void: WasmEngine.kill_all())


## A handler of the reload's `killed` that points the node at another mod without starting it:
## the old mod's new build is not started in its place (it ran under the new source's id and
## folders, and a `module` node's new module was overwritten by it).
func test_a_new_source_set_from_the_killed_handler_of_a_hot_reload_is_not_replaced() -> void:
	await _hot_reload_stopped_from_its_killed_handler("wasgo_hot_retarget_handler.wasm", "setting `wasm_file`",
		func(node: Node) -> void: node.wasm_file = V1)


## A handler of the `killed("reloading...")` that a hot reload of `file` emits calls `stop(node)`
## (the game's `what`): the mod stays killed and is not reloaded.
func _hot_reload_stopped_from_its_killed_handler(file: String, what: String, stop: Callable) -> void:
	var reloads := []
	var probe := _started_copy(file, reloads)
	var handled := [0]
	var node: Node = probe.node
	node.killed.connect(func(reason: String) -> void:
		if reason.begins_with("reloading"):
			handled[0] += 1
			stop.call(node))
	_write(file, FileAccess.get_file_as_bytes(V2))
	var called: bool = await wait_until(func() -> bool: return handled[0] > 0, RELOAD_WAIT_MS)
	if not expect(called, "no `killed(\"reloading...\")` after the file changed: %s" % probe.describe()):
		return
	# The swap runs in one go: once the handler ran, its outcome is settled.
	await frames(2)
	expect_eq(reloads, [], "`reloaded` after the handler called %s" % what)
	expect_eq(node.get_status(), WasmScript.STATUS_KILLED, "the handler's %s stands" % what)
	expect_eq(probe.started, 1, "`started` emissions")


## A handler of the reload's `killed` that starts the node again: that start (of the file as it
## now is) is the one that stays; the reload does not drop it for one of its own.
func test_a_start_from_the_killed_handler_of_a_hot_reload_stands() -> void:
	var reloads := []
	var file := "wasgo_hot_start_handler.wasm"
	var probe := _started_copy(file, reloads)
	var handled := [0]
	var node: WasmScript = probe.node
	node.killed.connect(func(reason: String) -> void:
		if reason.begins_with("reloading"):
			handled[0] += 1
			node.start())
	_write(file, FileAccess.get_file_as_bytes(V2))
	var called: bool = await wait_until(func() -> bool: return handled[0] > 0, RELOAD_WAIT_MS)
	if not expect(called, "no `killed(\"reloading...\")` after the file changed: %s" % probe.describe()):
		return
	var running: bool = await wait_until(func() -> bool: return node.get_status() == WasmScript.STATUS_RUNNING or node.get_status() == WasmScript.STATUS_FINISHED, RELOAD_WAIT_MS)
	expect(running, "the handler's start runs: %s" % probe.describe())
	await frames(2)
	expect_eq(probe.started, 2, "`started` emissions (the first start and the handler's)")
	expect_eq(probe.kills.size(), 1, "`killed` emissions (the reload's only)")
	expect_eq(reloads, [], "`reloaded` (the handler restarted the node itself)")
	expect_eq(node.call_export("version", []), 2, "the handler's start runs the new build")


func test_nodes_of_one_file_started_in_one_frame_all_reload_and_a_freed_one_is_dropped() -> void:
	set_setting(HOT_RELOAD, true)
	var path := _write("wasgo_hot_many.wasm", FileAccess.get_file_as_bytes(V1))
	var reloads := [[], [], [], []]
	var probes: Array[ModProbe] = []
	# All started in this one frame: they share one read of the file's stamp.
	var frame := Engine.get_process_frames()
	for i in 4:
		var probe := new_mod("hot_many_%d" % i, {"wasm_file": path})
		var mine: Array = reloads[i]
		probe.node.reloaded.connect(func(carried: bool) -> void: mine.append(carried))
		expect_eq(start(probe), OK, "start() of node %d" % i)
		probes.append(probe)
	expect_eq(Engine.get_process_frames(), frame, "the four starts ran in one frame")
	# A node freed before the change is no longer watched (nothing reloads into it).
	var gone: ModProbe = probes.pop_back()
	gone.node.free()
	_write("wasgo_hot_many.wasm", FileAccess.get_file_as_bytes(V2))
	var all: bool = await wait_until(func() -> bool:
		return reloads[0].size() > 0 and reloads[1].size() > 0 and reloads[2].size() > 0, RELOAD_WAIT_MS)
	expect(all, "every live node of the file reloads: %s" % [reloads])
	for i in probes.size():
		expect_eq(reloads[i], [true], "`reloaded` of node %d" % i)
		expect_eq(probes[i].node.call_export("version", []), 2, "version() of node %d after the reload" % i)
	expect_eq(reloads[3], [], "the freed node's handler never ran")


## What the editor does when a `.wasm` it has loaded changes on disk: `reload_from_file()` on
## the cached `WasmModule` (Godot loads the file again and copies the new resource's stored
## properties onto the old one); a game's `ResourceLoader.load(path, "", CACHE_MODE_REPLACE)`
## does the same. The module takes the new code, so a node holding it runs the
## rebuild at its next `start()` and `get_exports()` describes the rebuild. The file sits in
## `res://` (only resource paths reload), in the ignored `tests/mods/`.
func test_a_module_reloaded_from_its_changed_file_takes_the_new_code() -> void:
	var path := MODS + "wasgo_reload_probe.wasm"
	_write_res(path, FileAccess.get_file_as_bytes(V1))
	var module: WasmModule = load(path)
	if not expect(module != null, "load(%s)" % path):
		return
	var first_sha := module.sha256
	var changes := [0]
	module.changed.connect(func() -> void: changes[0] += 1)
	var probe := new_mod("reload_probe", {"module": module})
	expect_eq(start(probe), OK, "start() with the first build")
	expect_eq(probe.node.call_export("version", []), 1, "version() of the first build")
	_write_res(path, FileAccess.get_file_as_bytes(V2))
	# What `reload_from_file()` (not callable from scripts) does: load again, copy onto the
	# cached resource.
	var reloaded: Resource = ResourceLoader.load(path, "", ResourceLoader.CACHE_MODE_REPLACE)
	expect(reloaded == module, "CACHE_MODE_REPLACE hands back the cached module")
	expect(module.sha256 != first_sha, "sha256 after reload_from_file(): %s" % module.sha256)
	expect_eq(module.sha256, WasmEngine.load_module(V2).sha256, "the module's code is the rebuild's")
	expect_eq(module.source_path, path, "source_path after the reload")
	expect_eq(module.name, "wasgo_reload_probe", "name after the reload")
	expect_eq(probe.node.call_export("version", []), 1, "the running instance is left alone")
	probe.node.kill()
	expect_eq(probe.node.start(), OK, "start() again")
	expect_eq(probe.node.call_export("version", []), 2, "version() after start() runs the rebuild")
	await tree.process_frame
	expect(changes[0] >= 1, "`changed` emitted by the reload")
	# A hash no loaded module has (a module saved inside a scene: its code is not saved) changes
	# nothing and says so.
	var warned := LogCounter.new("no loaded module has the code")
	OS.add_logger(warned)
	module.set("_code_sha256", "00".repeat(32))
	OS.remove_logger(warned)
	expect_eq(module.sha256, WasmEngine.load_module(V2).sha256, "an unknown hash changes nothing")
	expect_eq(warned.count(), 1, "the warning of an unknown hash")
	DirAccess.remove_absolute(ProjectSettings.globalize_path(path))


func _write_res(path: String, bytes: PackedByteArray) -> void:
	var file := FileAccess.open(path, FileAccess.WRITE)
	expect(file != null, "cannot write %s" % path)
	if file != null:
		file.store_buffer(bytes)
		file.close()
