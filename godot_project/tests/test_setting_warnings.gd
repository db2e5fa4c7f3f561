## Bad settings get a clear warning naming the setting (or the node's property) and what WasGo
## does instead, once: a negative limit, a frame budget of 0, an unknown permission kind in
## `auto_grant`, a resource folder that is no `res://` path, a URL whitelist entry that does not
## parse, a reach that names no node. Each was taken silently (or, for the whitelist, warned
## about at every level-2 start).
extends "res://tests/lib/wasgo_test.gd"

const LogCounter := preload("res://tests/lib/log_counter.gd")

## A mod whose `init` asks for its own node (which decides its reach) and loads
## `res://mod_assets/none.png`.
const PROBE_WAT := """(module
  (import "wasgo" "self" (func $self (result i32)))
  (import "wasgo" "load_resource" (func $load (param i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "res://mod_assets/none.png")
  (func (export "init") (drop (call $self)) (drop (call $load (i32.const 0) (i32.const 25)))))"""

var _warnings: LogCounter


func _watch() -> void:
	_warnings = LogCounter.new("WasGo", Logger.ERROR_TYPE_WARNING)
	OS.add_logger(_warnings)


func cleanup() -> void:
	if _warnings != null:
		OS.remove_logger(_warnings)
		_warnings = null
	super.cleanup()


func _start_probe(node_name: String, properties := {}) -> ModProbe:
	properties["module"] = WasmEngine.compile_module(PROBE_WAT.to_utf8_buffer(), "setting_probe")
	var probe := new_mod(node_name, properties)
	tree.root.add_child(probe.node)
	expect_eq(probe.node.start(), OK, "start(): %s" % probe.node.get_last_error())
	return probe


func test_negative_limits_and_a_frame_budget_of_zero_are_named() -> void:
	set_setting("wasgo/limits/memory_mb", -1)
	set_setting("wasgo/limits/frame_budget_ms", 0)
	_watch()
	await frames(2)
	_start_probe("NegativeLimits", {"memory_limit_mb": -5})
	await frames(2)
	expect_eq(_warnings.count_containing("`wasgo/limits/memory_mb` is -1"), 1, "warnings about memory_mb")
	expect_eq(_warnings.count_containing("`wasgo/limits/frame_budget_ms` is 0"), 1, "warnings about frame_budget_ms")
	expect_eq(_warnings.count_containing("has `memory_limit_mb` -5"), 1, "warnings about the node's memory_limit_mb")
	# Another node with the same value is not warned about again; a setting given another bad
	# value is (the first problem's warning hid every later one).
	_start_probe("NegativeLimits2", {"memory_limit_mb": -5})
	set_setting("wasgo/limits/memory_mb", -2)
	await frames(2)
	_start_probe("NegativeLimits3")
	await frames(1)
	expect_eq(_warnings.count_containing("has `memory_limit_mb` -5"), 1, "warnings about memory_limit_mb -5 after a second node")
	expect_eq(_warnings.count_containing("`wasgo/limits/memory_mb` is -2"), 1, "warnings about memory_mb's second bad value")


func test_an_unknown_permission_kind_in_auto_grant_is_named() -> void:
	set_setting("wasgo/safety/auto_grant", PackedStringArray(["file", "network"]))
	_watch()
	await frames(2)
	_start_probe("AutoGrantTypo")
	await frames(1)
	expect_eq(_warnings.count_containing("lists \"file\", which is no permission kind"), 1, "warnings about auto_grant: %s" % _warnings.count())


func test_a_resource_folder_that_is_no_res_path_is_named() -> void:
	set_setting("wasgo/safety/resource_folders", PackedStringArray(["mod_assets"]))
	_watch()
	_start_probe("FolderTypo")
	await frames(1)
	expect_eq(_warnings.count_containing("write `res://mod_assets`"), 1, "warnings about resource_folders")


func test_a_reach_that_names_no_node_is_named() -> void:
	_watch()
	_start_probe("ReachTypo", {"reach": NodePath("../Arenna_nowhere")})
	await frames(1)
	expect_eq(_warnings.count_containing("`../Arenna_nowhere`"), 1, "warnings about the reach")


func test_a_url_whitelist_entry_that_does_not_parse_is_named_once() -> void:
	set_setting("wasgo/safety/level", 2)
	set_setting("wasgo/safety/url_whitelist", PackedStringArray(["api.example-typo.com"]))
	_watch()
	for i in 3:
		await frames(1)
		var probe := _start_probe("WhitelistTypo%d" % i, {"safety_level": 2})
		probe.node.kill()
	await frames(1)
	expect_eq(_warnings.count_containing("api.example-typo.com"), 1, "warnings about the whitelist entry")
