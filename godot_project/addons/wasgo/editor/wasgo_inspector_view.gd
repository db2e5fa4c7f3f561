## The WasGo inspector section: a plain `VBoxContainer` built from the data of
## `wasgo_inspector_model.gd` (`describe()`), so it can be built and checked without an editor.
##
## It shows the module's name, size, SHA-256, guest kind and the level it runs at, then two tables:
## the imports (each with the lowest level that exposes it; the ones the level leaves as error
## stubs in the warning colour, marked "stub") and the exports (the ones WasGo calls marked
## "called by WasGo", with when).
@tool
extends VBoxContainer

const Model := preload("res://addons/wasgo/editor/wasgo_inspector_model.gd")
const STUB_COLOR := Color(1.0, 0.47, 0.42)
const CALLED_COLOR := Color(0.45, 0.85, 0.55)

## The import and export tables (for tests and tooltips).
var imports_tree: Tree
var exports_tree: Tree


## Builds the section for `data` (from `Model.describe`); an empty `data` shows a hint instead.
func build(data: Dictionary) -> void:
	name = "WasGoModuleInfo"
	if data.is_empty():
		_add_label("WebAssembly module: none (set `wasm_file` or `module`)")
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
	var stubs := Model.stub_names(imports).size()
	_add_label("Imports (%d, %d stub%s at level %d)" % [imports.size(), stubs, "" if stubs == 1 else "s", level])
	imports_tree = _add_table(["import", "signature", "level"])
	for row in imports:
		var item := imports_tree.create_item(imports_tree.get_root())
		item.set_text(0, "%s.%s" % [row["module"], row["name"]])
		item.set_text(1, str(row["signature"]))
		var needs := int(row.get("level", 0))
		item.set_text(2, ("stub" if row["stub"] else str(needs)) if needs > 0 or row["stub"] else "-")
		for column in 3:
			item.set_tooltip_text(column, str(row["note"]))
			if row["stub"]:
				item.set_custom_color(column, STUB_COLOR)

	var exports: Array[Dictionary] = data["exports"]
	_add_label("Exports (%d)" % exports.size())
	exports_tree = _add_table(["export", "signature", "WasGo"])
	for row in exports:
		var item := exports_tree.create_item(exports_tree.get_root())
		item.set_text(0, str(row["name"]))
		item.set_text(1, str(row.get("signature", row.get("kind", ""))))
		item.set_text(2, "called" if row["called"] else "")
		for column in 3:
			item.set_tooltip_text(column, str(row["note"]) if row["called"] else "not called by WasGo (the game may call it with call_export)")
			if row["called"]:
				item.set_custom_color(column, CALLED_COLOR)


func _add_label(text: String) -> Label:
	var label := Label.new()
	label.text = text
	add_child(label)
	return label


func _add_table(titles: Array) -> Tree:
	var tree := Tree.new()
	tree.columns = titles.size()
	tree.column_titles_visible = true
	tree.hide_root = true
	tree.select_mode = Tree.SELECT_ROW
	tree.custom_minimum_size = Vector2(0, 140)
	for column in titles.size():
		tree.set_column_title(column, titles[column])
		tree.set_column_expand(column, column == 0 or column == 1)
	tree.create_item()
	add_child(tree)
	return tree
