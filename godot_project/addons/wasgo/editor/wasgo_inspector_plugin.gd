## Adds the WasGo section (`wasgo_inspector_view.gd`) at the top of the inspector of a
## `WasmModule` (a `.wasm` file opened from the FileSystem dock) and of a `WasmScript` node (its
## module's data, at the node's effective safety level; rebuilt when the node's file, module or
## level or the project's level change).
@tool
extends EditorInspectorPlugin

const View := preload("res://addons/wasgo/editor/wasgo_inspector_view.gd")


func _can_handle(object: Object) -> bool:
	return object != null and (object.is_class("WasmModule") or object.is_class("WasmScript"))


func _parse_begin(object: Object) -> void:
	var view: VBoxContainer = View.new()
	view.watch(object)
	add_custom_control(view)
