## The WasGo editor plugin (enabled in `project.godot`): registers the inspector section for
## `WasmModule` and `WasmScript` (`wasgo_inspector_plugin.gd`) and the export plugin that ships
## every `.wasm` and the allowlists (`wasgo_export_plugin.gd`), and the help lines of WasGo's
## settings in Project Settings (`wasgo_settings_help.gd`). The FileSystem dock's `.wasm` icon
## comes from `[icons]` in `wasgo.gdextension` (`WasmModule`).
##
## It also keeps the configuration warnings of the edited scene's `WasmScript` nodes current: a
## node refreshes them itself when its `wasm_file`, `module` or `safety_level` changes; the plugin
## refreshes every `WasmScript` of the edited scene when the project settings change (e.g.
## `wasgo/safety/level`) and when the FileSystem dock sees files change (a `.wasm` rebuilt, added
## or removed).
@tool
extends EditorPlugin

const InspectorPlugin := preload("res://addons/wasgo/editor/wasgo_inspector_plugin.gd")
const ExportPlugin := preload("res://addons/wasgo/editor/wasgo_export_plugin.gd")
const SettingsHelp := preload("res://addons/wasgo/editor/wasgo_settings_help.gd")

var _inspector: EditorInspectorPlugin
var _export: EditorExportPlugin
var _settings_help: EditorInspectorPlugin


func _enter_tree() -> void:
	_inspector = InspectorPlugin.new()
	add_inspector_plugin(_inspector)
	_settings_help = SettingsHelp.new()
	add_inspector_plugin(_settings_help)
	_export = ExportPlugin.new()
	add_export_plugin(_export)
	ProjectSettings.settings_changed.connect(_refresh_warnings)
	EditorInterface.get_resource_filesystem().filesystem_changed.connect(_refresh_warnings)


func _exit_tree() -> void:
	ProjectSettings.settings_changed.disconnect(_refresh_warnings)
	EditorInterface.get_resource_filesystem().filesystem_changed.disconnect(_refresh_warnings)
	remove_inspector_plugin(_inspector)
	remove_inspector_plugin(_settings_help)
	remove_export_plugin(_export)
	_inspector = null
	_settings_help = null
	_export = null


## Asks every `WasmScript` of the edited scene for its configuration warnings again.
func _refresh_warnings() -> void:
	var root := EditorInterface.get_edited_scene_root()
	if root == null:
		return
	for node in wasm_scripts_under(root):
		node.update_configuration_warnings()


## `root` and every node under it that is a `WasmScript`.
static func wasm_scripts_under(root: Node) -> Array[Node]:
	var found: Array[Node] = []
	if root.is_class("WasmScript"):
		found.append(root)
	for child in root.find_children("*", "WasmScript", true, false):
		found.append(child)
	return found
