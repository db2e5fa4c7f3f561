## What the WasGo export plugin (`addons/wasgo/editor/wasgo_export_plugin.gd`) adds to every
## export, checked headless: every `.wasm` not excluded by the preset, the addon's allowlist and the
## game's allowlist files. That an exported pack runs the arena is `cargo xtask test`'s export check.
extends "res://tests/lib/wasgo_test.gd"

const ExportPlugin := preload("res://addons/wasgo/editor/wasgo_export_plugin.gd")
const ALLOWLIST_FILES := ExportPlugin.ALLOWLIST_FILES_SETTING


func test_every_wasm_and_the_allowlist_are_shipped() -> void:
	var files := ExportPlugin.files_to_ship(PackedStringArray(), PackedStringArray())
	for path in ["res://demo/mods/mover.wasm", "res://demo/mods/bonus.wasm", "res://tests/mods/hello.wasm", ExportPlugin.ALLOWLIST]:
		expect(files.has(path), "%s is not shipped: %s" % [path, files])
	for path in files:
		expect(not path.begins_with("res://.godot/"), "%s (Godot's cache) is shipped" % path)


func test_wasm_files_the_preset_excludes_are_left_out_but_the_allowlist_is_not() -> void:
	var files := ExportPlugin.files_to_ship(ExportPlugin.parse_filter("tests/*, bench/*"), PackedStringArray())
	expect(not files.has("res://tests/mods/hello.wasm"), "an excluded test mod is shipped")
	expect(files.has("res://demo/mods/mover.wasm"), "the demo's mover is not shipped")
	expect(files.has(ExportPlugin.ALLOWLIST), "the allowlist is not shipped")
	expect(ExportPlugin.is_excluded("res://demo/mods/x.wasm", ["res://demo/*"]), "a res:// pattern does not match")
	expect(not ExportPlugin.is_excluded("res://demo/mods/x.wasm", ["tests/*"]), "tests/* matches a demo path")
	# As Godot matches its filters: the path with and without `res://`, never a folder deeper.
	expect(not ExportPlugin.is_excluded("res://demo/mods/mover.wasm", ["mods/*"]), "mods/* matches demo/mods")
	expect(ExportPlugin.is_excluded("res://mods/mover.wasm", ["mods/*"]), "mods/* does not match the top-level mods folder")
	expect(not ExportPlugin.is_excluded("res://demo/mods/debug.wasm", ["debug.wasm"]), "debug.wasm matches a file in a subfolder")
	expect(ExportPlugin.is_excluded("res://demo/mods/debug.wasm", ["*debug.wasm"]), "*debug.wasm does not match")


func test_the_games_allowlist_files_are_shipped() -> void:
	var extra := "res://tests/editor/test_editor_export_plugin.gd"
	var files := ExportPlugin.files_to_ship(PackedStringArray(["tests/*"]), PackedStringArray([extra, ExportPlugin.ALLOWLIST]))
	expect(files.has(extra), "an extra allowlist file is not shipped, even under an excluded folder: %s" % files)
	expect_eq(files.count(ExportPlugin.ALLOWLIST), 1, "times the addon's allowlist is listed")
	var setting_before: Variant = ProjectSettings.get_setting(ALLOWLIST_FILES, PackedStringArray())
	expect_eq(ExportPlugin.allowlist_files(), PackedStringArray(setting_before), "files read from %s" % ALLOWLIST_FILES)


func test_only_the_editors_own_platform_and_architecture_are_precompiled() -> void:
	var os_name := OS.get_name().to_lower()
	var arch := Engine.get_architecture_name()
	expect_eq(ExportPlugin.precompile_refusal(PackedStringArray([os_name, arch, "pc", "release"])), "", "refusal for the editor's own target")
	var other_os := "windows" if os_name != "windows" else "linux"
	expect_contains(ExportPlugin.precompile_refusal(PackedStringArray([other_os, arch])), "`%s`" % other_os, "refusal for another OS")
	var other_arch := "arm64" if arch != "arm64" else "x86_64"
	expect_contains(ExportPlugin.precompile_refusal(PackedStringArray([os_name, other_arch])), "`%s`" % other_arch, "refusal for another architecture")
	expect_eq(ExportPlugin.host_target(), "%s.%s" % [os_name, arch], "host_target()")


func test_artifacts_go_where_wasgo_looks_for_them_and_a_set_key_is_kept() -> void:
	expect_eq(ExportPlugin.artifact_path("res://demo/mods/mover.wasm"), "res://demo/mods/mover.cwasm", "artifact_path()")
	var key: String = ProjectSettings.get_setting(ExportPlugin.KEY_SETTING, "")
	expect(not key.is_empty(), "this project has a precompile key")
	expect(ExportPlugin.ensure_key(), "ensure_key() with a key set")
	expect_eq(ProjectSettings.get_setting(ExportPlugin.KEY_SETTING, ""), key, "the key after ensure_key()")
