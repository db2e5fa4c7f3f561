## Headless test runner for WasGo.
##
##   godot --headless --path godot_project -s res://tests/run_tests.gd [-- --filter=TEXT] [--dir=res://tests/DIR/] [--skip=test_a,test_b]
##
## Runs every `test_*` method of every `res://tests/test_*.gd` (files and methods in name order,
## a fresh instance per test, each awaited with a time limit), prints `PASS file::test` or
## `FAIL file::test: reasons`, then `N passed, M failed`, and quits with 0 only if every test
## passed. A script error raised while a test runs fails that test. `cargo xtask test` runs this
## and also fails on script errors, extension load errors and leaked objects anywhere in the log.
## `--dir` runs the tests of another folder: `cargo xtask test` runs `res://tests/after_restart/`
## in a second Godot process, after this suite, for what must survive a restart of the game.
## `--skip` leaves out the named files (comma-separated, without `.gd`): the interpreter pass
## (`--wasgo-mode=interpreter`) skips the files that only repeat the same paths at scale.
extends SceneTree

const DEFAULT_TEST_DIR := "res://tests/"
const TEST_TIMEOUT_MS := 30000
const ErrorCatcher := preload("res://tests/lib/error_catcher.gd")

var _passed := 0
var _failed := 0


func _initialize() -> void:
	_run_all()


func _run_all() -> void:
	var filter := _filter_from_args()
	var catcher := ErrorCatcher.new()
	OS.add_logger(catcher)
	if not (ClassDB.class_exists("WasmScript") and Engine.has_singleton("WasmEngine")):
		_report("run_tests::extension_loaded", ["the WasGo extension is not loaded: is addons/wasgo/bin/ built (cargo xtask test) and .godot/extension_list.cfg written (godot --import)?"])
	else:
		# `_initialize` runs before the tree's root is ready: a node a test added then would not
		# get `_ready` (nor a WasmScript's autostart) until the first frame.
		while not root.is_node_ready():
			await process_frame
		for path in _test_files():
			await _run_file(path, filter, catcher)
	OS.remove_logger(catcher)
	print("%d passed, %d failed" % [_passed, _failed])
	# With a filter, matching nothing here is fine: `cargo xtask test` also runs other folders
	# and fails when no test ran in any of them.
	quit(0 if _failed == 0 and (_passed > 0 or filter != "") else 1)


func _filter_from_args() -> String:
	return _user_arg("--filter=", "")


func _user_arg(prefix: String, default: String) -> String:
	for arg in OS.get_cmdline_user_args():
		if arg.begins_with(prefix):
			return arg.trim_prefix(prefix)
	return default


func _test_files() -> PackedStringArray:
	var found: PackedStringArray = []
	var test_dir := _user_arg("--dir=", DEFAULT_TEST_DIR)
	var skipped := _user_arg("--skip=", "").split(",", false)
	for file in DirAccess.get_files_at(test_dir):
		if file.begins_with("test_") and file.ends_with(".gd") and not skipped.has(file.get_basename()):
			found.append(test_dir.path_join(file))
	found.sort()
	return found


func _run_file(path: String, filter: String, catcher: ErrorCatcher) -> void:
	var file_name := path.get_file().get_basename()
	var script := load(path) as GDScript
	if script == null or not script.can_instantiate():
		_report(file_name, ["cannot load %s (see the parse error above)" % path])
		return
	for method in _test_methods(script):
		var full_name := "%s::%s" % [file_name, method]
		if filter == "" or full_name.contains(filter):
			await _run_test(script, method, full_name, catcher)


func _test_methods(script: GDScript) -> PackedStringArray:
	var names: PackedStringArray = []
	for method in script.get_script_method_list():
		var method_name: String = method["name"]
		if method_name.begins_with("test_") and not names.has(method_name):
			names.append(method_name)
	names.sort()
	return names


func _run_test(script: GDScript, method: String, full_name: String, catcher: ErrorCatcher) -> void:
	var test: Object = script.new()
	var is_node := test is Node
	if is_node:
		root.add_child(test)
	test.tree = self
	var state := {"done": false}
	catcher.begin()
	var started_at := Time.get_ticks_msec()
	# A test file may give its tests more time with `const TIMEOUT_MS := ...`.
	var timeout_ms: int = script.get_script_constant_map().get("TIMEOUT_MS", TEST_TIMEOUT_MS)
	_call_test(test, method, state)
	while not state["done"] and Time.get_ticks_msec() - started_at < timeout_ms:
		await process_frame
	var reasons: PackedStringArray = test.failures.duplicate()
	if not state["done"]:
		reasons.append("timed out after %d ms" % timeout_ms)
	await test.cleanup()
	reasons.append_array(catcher.end())
	if is_node:
		test.free()
	_report(full_name, reasons)


## Awaits the test method (which may or may not be a coroutine) and marks it done.
func _call_test(test: Object, method: String, state: Dictionary) -> void:
	await test.call(method)
	state["done"] = true


func _report(full_name: String, reasons: PackedStringArray) -> void:
	if reasons.is_empty():
		_passed += 1
		print("PASS %s" % full_name)
	else:
		_failed += 1
		print("FAIL %s: %s" % [full_name, "; ".join(reasons).replace("\n", " | ")])
