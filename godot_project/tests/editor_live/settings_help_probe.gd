## Runs inside a real (headless) editor, as an autoload `cargo xtask test` adds through a
## temporary `override.cfg`: opens Project Settings, visits each WasGo subsection and another
## section, and checks the editor plugin's help lines (`addons/wasgo/editor/wasgo_settings_help.gd`):
## one per visible WasGo setting, its tooltip the whole description, none elsewhere; and that
## the editor never loads a `.cwasm` beside a `res://` `.wasm` (it compiles the `.wasm`). Prints
## `PASS`/`FAIL` lines and `N passed, M failed`, then quits the editor.
@tool
extends Node

var _passed := 0
var _failed := 0


func _ready() -> void:
	if not Engine.is_editor_hint():
		return
	# Let the editor finish starting (plugins enabled, first scan done).
	await get_tree().create_timer(3.0).timeout
	await _run()
	_artifacts_in_the_editor()
	print("%d passed, %d failed" % [_passed, _failed])
	get_tree().quit(0 if _failed == 0 else 1)


func _check(name: String, ok: bool, detail: String) -> void:
	if ok:
		_passed += 1
		print("PASS editor_live::%s" % name)
	else:
		_failed += 1
		print("FAIL editor_live::%s: %s" % [name, detail])


func _run() -> void:
	var dialogs := get_tree().root.find_children("*", "ProjectSettingsEditor", true, false)
	if dialogs.is_empty():
		_check("project_settings_dialog_exists", false, "no ProjectSettingsEditor in the editor")
		return
	var dialog: Window = dialogs[0]
	dialog.popup_centered()
	await get_tree().process_frame
	# Every section shown, the advanced ones too (`rendering/vrs` and the like).
	for button: CheckButton in dialog.find_children("*", "CheckButton", true, false):
		if button.text.to_lower().contains("advanced"):
			button.button_pressed = true
	await get_tree().process_frame
	var inspector: Node = dialog.find_children("*", "SectionedInspector", true, false)[0]
	var tree: Tree = inspector.find_children("*", "Tree", true, false)[0]
	var wasgo := _top_item(tree, "wasgo")
	_check("wasgo_section_listed", wasgo != null, "no WasGo section in Project Settings")
	if wasgo == null:
		dialog.hide()
		return
	var part := wasgo.get_first_child()
	while part:
		await _select(tree, part)
		var lines := _help_lines(inspector)
		var settings := _visible_settings(inspector)
		_check("%s_has_one_help_line_per_setting" % part.get_text(0).to_snake_case(),
				lines.size() == settings and settings > 0,
				"%d help lines for %d settings" % [lines.size(), settings])
		for line in lines:
			var whole: String = line.tooltip_text
			_check("%s_line_is_a_summary_of_its_tooltip" % part.get_text(0).to_snake_case(),
					whole.begins_with(line.text) and line.text.length() > 10,
					"line %s, tooltip %s" % [line.text, whole])
			break
		part = part.get_next()
	# Every other section: no help lines, and no error from the plugin looking at it (another
	# section's settings share names with WasGo's, `rendering/vrs/mode` an int where
	# `wasgo/runtime/mode` is text, which stopped the plugin with a SCRIPT ERROR).
	var strays: Array[String] = []
	var visited := 0
	for other in _sections(tree.get_root()):
		# Leaves only: selecting a section that holds others shows none of its own settings
		# (the inspector keeps what it showed).
		if other == wasgo or other.get_parent() == wasgo or other.get_first_child() != null:
			continue
		await _select(tree, other)
		visited += 1
		var stray := _help_lines(inspector)
		if not stray.is_empty():
			strays.append("%d in %s (%s)" % [stray.size(), other.get_text(0), stray[0].text])
	_check("other_sections_have_no_help_lines", strays.is_empty() and visited > 10,
			"help lines %s; %d sections visited" % [strays, visited])
	dialog.hide()


## In the editor a `.cwasm` beside a `res://` `.wasm` is never loaded, even one that
## authenticates and matches: `res://` is the project folder there, where a developer copies a
## third-party mod, and the key that authenticates artifacts ships in every pack (anyone can
## make one that passes). The editor compiles the `.wasm` (a run of the game loads the pair:
## `tests/test_precompiled.gd`).
func _artifacts_in_the_editor() -> void:
	var dir := "res://tests/editor_live_tmp/"
	DirAccess.make_dir_recursive_absolute(ProjectSettings.globalize_path(dir))
	var key := PackedByteArray()
	for i in 32:
		key.append(randi() % 256)
	ProjectSettings.set_setting("wasgo/runtime/precompile_key", key.hex_encode())
	var wasm := ("(module (func (export \"answer\") (result i32) i32.const 7)"
		+ " (func (export \"salt\") (result i64) i64.const %d))" % Time.get_ticks_usec()).to_utf8_buffer()
	for pair in [["pair.wasm", wasm], ["pair.cwasm", WasmEngine.precompile(wasm)]]:
		var f := FileAccess.open(dir + pair[0], FileAccess.WRITE)
		f.store_buffer(pair[1])
		f.close()
	var stats := WasmEngine.get_stats()
	var module := WasmEngine.load_module(dir + "pair.wasm")
	var after := WasmEngine.get_stats()
	_check("an_artifact_beside_a_project_wasm_is_not_loaded_in_the_editor",
			module != null and after["precompiled_loads"] == stats["precompiled_loads"]
				and after["compiles"] == stats["compiles"] + 1,
			"module %s, precompiled_loads %d -> %d, compiles %d -> %d" % [module,
				stats["precompiled_loads"], after["precompiled_loads"], stats["compiles"], after["compiles"]])
	for file in ["pair.wasm", "pair.cwasm"]:
		DirAccess.remove_absolute(ProjectSettings.globalize_path(dir + file))
	DirAccess.remove_absolute(ProjectSettings.globalize_path(dir))
	ProjectSettings.set_setting("wasgo/runtime/precompile_key", "")


## Every section item below `item` (the top-level ones and their subsections).
func _sections(item: TreeItem) -> Array[TreeItem]:
	var found: Array[TreeItem] = []
	var child := item.get_first_child()
	while child:
		found.append(child)
		found.append_array(_sections(child))
		child = child.get_next()
	return found


func _top_item(tree: Tree, text: String) -> TreeItem:
	var item := tree.get_root().get_first_child()
	while item and item.get_text(0).to_lower() != text:
		item = item.get_next()
	return item


func _select(tree: Tree, item: TreeItem) -> void:
	item.select(0)
	tree.item_selected.emit()
	await get_tree().process_frame
	await get_tree().process_frame


func _editor_inspector(inspector: Node) -> EditorInspector:
	return inspector.find_children("*", "EditorInspector", true, false)[0]


## The plugin's help lines: Labels whose tooltip is a WasGo setting description.
func _help_lines(inspector: Node) -> Array[Label]:
	var found: Array[Label] = []
	for label in _editor_inspector(inspector).find_children("*", "Label", true, false):
		if label.tooltip_text.length() > 20 and label.modulate.a < 1.0:
			found.append(label)
	return found


## How many property editors the inspector shows (one per visible setting).
func _visible_settings(inspector: Node) -> int:
	var count := 0
	for editor in _editor_inspector(inspector).find_children("*", "EditorProperty", true, false):
		if editor.is_visible_in_tree():
			count += 1
	return count
