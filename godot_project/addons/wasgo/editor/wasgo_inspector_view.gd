## The WasGo inspector section: a plain `VBoxContainer` built from the data of
## `wasgo_inspector_model.gd` (`describe()`), so it can be built and checked without an editor.
##
## It shows the module's name, size, SHA-256, guest kind and the level it runs at, then two tables
## (narrow, like the inspector; each line's tooltip gives the signature and why it is marked):
## the imports, each with the lowest level that exposes it, "stub" in red when the level leaves it
## an error stub (yellow when it is a game function that may be registered at run time); and the
## exports, the ones WasGo calls marked "called" in green.
@tool
extends VBoxContainer

const Model := preload("res://addons/wasgo/editor/wasgo_inspector_model.gd")
const STUB_COLOR := Color(1.0, 0.47, 0.42)
const CALLED_COLOR := Color(0.45, 0.85, 0.55)
## A stub in a module the game may still fill with `register_function` at run time.
const GAME_STUB_COLOR := Color(1.0, 0.78, 0.35)

## How long the section waits for a module to load before it shows that it is loading (a small
## module loads within it, and the section shows it at once).
const LOAD_GRACE_MSEC := 100

## The import and export tables (for tests and tooltips).
var imports_tree: Tree
var exports_tree: Tree
## Whether the section shows that its module is being loaded (see `Model.loading`).
var loading := false

var _target: WeakRef
var _inputs := []
var _since_check := 0.0


func _ready() -> void:
	set_process(_target != null)


func _process(delta: float) -> void:
	_since_check += delta
	if _since_check < (0.1 if loading else 0.5):
		return
	_since_check = 0.0
	var object: Object = _target.get_ref()
	if object == null:
		set_process(false)
		return
	var inputs := _inputs_of(object)
	if inputs != _inputs or loading:
		_inputs = inputs
		_show(object)


## What the section's data depends on: the project's level, the node's properties, and the
## module's bytes (its SHA-256: a `.wasm` rebuilt on disk is reloaded into the same `WasmModule`,
## which emitted only `changed`, and the section kept the old hash, imports and exports; and
## the file's modified time and length, for a file that did not load).
static func _inputs_of(object: Object) -> Array:
	var inputs := [Model.project_level()]
	if object != null and object.is_class("WasmScript"):
		var path: String = object.get("wasm_file")
		inputs.append_array([object.get("module"), path, object.get("safety_level"), Model.file_stamp(path)])
	if object != null and object.is_class("WasmModule"):
		inputs.append(str(object.get("sha256")))
	elif object != null and object.is_class("WasmScript") and object.get("module") != null:
		inputs.append(str(object.get("module").get("sha256")))
	return inputs


## Builds the section for `object` and rebuilds it when what it shows depends on changes (the
## node's `module`, `wasm_file` or `safety_level`, the project's level), checked twice a second.
func watch(object: Object) -> void:
	_target = weakref(object)
	_inputs = _inputs_of(object)
	_show(object)
	set_process(true)


## Builds the section for `object`, or shows that its module is loading: the module of a
## `wasm_file` Godot has not loaded yet is loaded on a loader thread, since compiling it here held
## the editor (seconds for a large module) each time the node was selected.
func _show(object: Object) -> void:
	loading = Model.loading(object, LOAD_GRACE_MSEC)
	if loading:
		build({"loading": object.get("wasm_file")})
	else:
		build(Model.describe(object))


## Builds the section for `data` (from `Model.describe`); an empty `data` shows a hint instead.
func build(data: Dictionary) -> void:
	name = "WasGoModuleInfo"
	for child in get_children():
		remove_child(child)
		child.queue_free()
	if data.has("loading"):
		_add_label("WebAssembly module: loading `%s`..." % Model.shown(str(data["loading"])))
		return
	if data.is_empty():
		var object: Object = _target.get_ref() if _target != null else null
		var path: String = object.get("wasm_file") if object != null and object.is_class("WasmScript") else ""
		if path.is_empty():
			_add_label("WebAssembly module: none (set `wasm_file` or `module`)")
		else:
			_add_label("WebAssembly module: `%s` does not load (see the node's warnings)" % Model.shown(path))
		return
	var summary: Dictionary = data["summary"]
	var level: int = data["level"]
	var title := _add_label("WebAssembly module")
	title.add_theme_font_size_override("font_size", 15)
	var grid := GridContainer.new()
	grid.columns = 2
	add_child(grid)
	for pair in [
		["name", summary["name"]],
		["size", Model.format_size(summary["size"])],
		["SHA-256", summary["sha256"]],
		["guest kind", summary["guest_kind"]],
		["runs at level", "%d (%s)" % [level, Model.level_name(level)]],
	]:
		var key := Label.new()
		key.text = pair[0]
		key.modulate = Color(1, 1, 1, 0.7)
		grid.add_child(key)
		var value := Label.new()
		value.text = str(pair[1])
		value.tooltip_text = str(pair[1])
		value.clip_text = true
		value.size_flags_horizontal = Control.SIZE_EXPAND_FILL
		value.mouse_filter = Control.MOUSE_FILTER_PASS
		grid.add_child(value)

	var imports: Array[Dictionary] = data["imports"]
	var import_count: int = data.get("import_count", imports.size())
	var stubs: int = data.get("stub_count", Model.stub_names(imports).size())
	_add_label("Imports (%d, %d stub%s at level %d)" % [import_count, stubs, "" if stubs == 1 else "s", level])
	imports_tree = _add_table(["import", "level"], imports.size())
	for row in imports:
		var item := imports_tree.create_item(imports_tree.get_root())
		item.set_text(0, Model.shown("%s.%s" % [row["module"], row["name"]]))
		var needs := int(row.get("level", 0))
		var mark := str(needs) if needs > 0 else "-"
		if row["stub"]:
			mark = "stub"
			var color := GAME_STUB_COLOR if row.get("game_function", false) else STUB_COLOR
			for column in 2:
				item.set_custom_color(column, color)
		item.set_text(1, mark)
		for column in 2:
			item.set_tooltip_text(column, "%s %s\n%s" % [Model.shown("%s.%s" % [row["module"], row["name"]]), row["signature"], row["note"]])

	_add_more_row(imports_tree, import_count - imports.size())

	var exports: Array[Dictionary] = data["exports"]
	var export_count: int = data.get("export_count", exports.size())
	_add_label("Exports (%d)" % export_count)
	exports_tree = _add_table(["export", "WasGo"], exports.size())
	for row in exports:
		var item := exports_tree.create_item(exports_tree.get_root())
		item.set_text(0, Model.shown(str(row["name"])))
		item.set_text(1, "called" if row["called"] else "")
		var why := str(row["note"]) if row["called"] else "not called by WasGo (the game may call it with call_export)"
		for column in 2:
			item.set_tooltip_text(column, "%s %s\n%s" % [Model.shown(str(row["name"])), row.get("signature", row.get("kind", "")), why])
			if row["called"]:
				item.set_custom_color(column, CALLED_COLOR)
	_add_more_row(exports_tree, export_count - exports.size())


## A last row saying how many rows were not made (`Model.MAX_ROWS` of each are).
func _add_more_row(tree: Tree, more: int) -> void:
	if more <= 0:
		return
	var item := tree.create_item(tree.get_root())
	item.set_text(0, "… and %d more (the first %d are listed)" % [more, Model.MAX_ROWS])
	item.set_custom_color(0, Color(1, 1, 1, 0.6))


func _add_label(text: String) -> Label:
	var label := Label.new()
	label.text = text
	add_child(label)
	return label


## A table with `titles`, tall enough for `rows` lines up to about a dozen (then it scrolls).
func _add_table(titles: Array, rows: int) -> Tree:
	var tree := Tree.new()
	tree.columns = titles.size()
	tree.column_titles_visible = true
	tree.hide_root = true
	tree.select_mode = Tree.SELECT_ROW
	tree.custom_minimum_size = Vector2(0, clampi(rows * 20 + 32, 60, 280))
	for column in titles.size():
		tree.set_column_title(column, titles[column])
		tree.set_column_expand(column, column == 0)
		tree.set_column_clip_content(column, column == 0)
	tree.set_column_custom_minimum_width(1, 64)
	tree.create_item()
	add_child(tree)
	return tree
