## The WasGo editor plugin (enabled in `project.godot`): registers the inspector section for
## `WasmModule` and `WasmScript` (`wasgo_inspector_plugin.gd`) and the export plugin that ships
## every `.wasm` and the allowlists (`wasgo_export_plugin.gd`). The FileSystem dock's `.wasm` icon
## comes from `[icons]` in `wasgo.gdextension` (`WasmModule`).
@tool
extends EditorPlugin

const InspectorPlugin := preload("res://addons/wasgo/editor/wasgo_inspector_plugin.gd")
const ExportPlugin := preload("res://addons/wasgo/editor/wasgo_export_plugin.gd")

var _inspector: EditorInspectorPlugin
var _export: EditorExportPlugin


func _enter_tree() -> void:
	_inspector = InspectorPlugin.new()
	add_inspector_plugin(_inspector)
	_export = ExportPlugin.new()
	add_export_plugin(_export)


func _exit_tree() -> void:
	remove_inspector_plugin(_inspector)
	remove_export_plugin(_export)
	_inspector = null
	_export = null
