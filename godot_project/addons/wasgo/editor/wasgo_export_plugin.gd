## Ships what WasGo reads at run time with every export, whatever the preset's filter: every
## `*.wasm` under `res://` (except paths matching the preset's exclude filter), the addon's
## `allowlist.cfg` and every file listed in the project setting `wasgo/safety/allowlist_files`.
## Godot's own export would leave the allowlists out (they are not resources), and the `.wasm`
## files out unless the filter selects them; the mods then fail in the exported game.
##
## Each file is added once, as-is, when the export begins; if the preset's own filter exports it
## too, that copy is skipped. The extension library is not added here: Godot's GDExtension export
## ships it beside the executable (see the README's "Shipping a game").
@tool
extends EditorExportPlugin

const ALLOWLIST := "res://addons/wasgo/allowlist.cfg"
const ALLOWLIST_FILES_SETTING := "wasgo/safety/allowlist_files"

var _added := {}


func _get_name() -> String:
	return "WasGo"


func _export_begin(_features: PackedStringArray, _is_debug: bool, _path: String, _flags: int) -> void:
	_added.clear()
	for path in files_to_ship(_exclude_patterns(), allowlist_files()):
		var bytes := FileAccess.get_file_as_bytes(path)
		if bytes.is_empty() and FileAccess.get_open_error() != OK:
			push_warning("WasGo export: cannot read `%s` (%s); it is not in the export" % [path, error_string(FileAccess.get_open_error())])
			continue
		add_file(path, bytes, false)
		_added[path] = true


func _export_file(path: String, _type: String, _features: PackedStringArray) -> void:
	if _added.has(path):
		skip()


func _export_end() -> void:
	_added.clear()


## The preset's exclude filter as glob patterns (`tests/*` and `res://tests/*` both match).
func _exclude_patterns() -> PackedStringArray:
	var preset := get_export_preset()
	if preset == null or not preset.has_method("get_exclude_filter"):
		return PackedStringArray()
	return parse_filter(str(preset.call("get_exclude_filter")))


## The game's extra allowlists: the project setting `wasgo/safety/allowlist_files`.
static func allowlist_files() -> PackedStringArray:
	var files: PackedStringArray = []
	var setting: Variant = ProjectSettings.get_setting(ALLOWLIST_FILES_SETTING, PackedStringArray())
	if setting is Array or setting is PackedStringArray:
		for entry: Variant in setting:
			files.append(str(entry))
	return files


## Every `.wasm` under `res://` not matching `exclude`, the addon's allowlist and the `extra`
## allowlist files (a missing one is warned about and left out).
static func files_to_ship(exclude: PackedStringArray, extra: PackedStringArray) -> PackedStringArray:
	var files: PackedStringArray = []
	for path in wasm_files("res://"):
		if not is_excluded(path, exclude):
			files.append(path)
	if FileAccess.file_exists(ALLOWLIST):
		files.append(ALLOWLIST)
	for path in extra:
		if path.is_empty() or files.has(path):
			continue
		if FileAccess.file_exists(path):
			files.append(path)
		else:
			push_warning("WasGo export: `%s` (listed in %s) does not exist; it is not in the export" % [path, ALLOWLIST_FILES_SETTING])
	return files


## Every `*.wasm` under `dir`, skipping hidden folders (`.godot/`) and folders holding a
## `.gdignore`.
static func wasm_files(dir: String) -> PackedStringArray:
	var found: PackedStringArray = []
	if FileAccess.file_exists(dir.path_join(".gdignore")):
		return found
	for file in DirAccess.get_files_at(dir):
		if file.get_extension().to_lower() == "wasm":
			found.append(dir.path_join(file))
	for sub in DirAccess.get_directories_at(dir):
		if not sub.begins_with("."):
			found.append_array(wasm_files(dir.path_join(sub)))
	return found


## "tests/*, bench/*" → ["tests/*", "bench/*"].
static func parse_filter(filter: String) -> PackedStringArray:
	var patterns: PackedStringArray = []
	for part in filter.split(",", false):
		if not part.strip_edges().is_empty():
			patterns.append(part.strip_edges())
	return patterns


## Whether `path` (res://...) matches one of `patterns` the way Godot's export filters match: a
## pattern starting with `res://` against the whole path, any other one as `*/pattern`.
static func is_excluded(path: String, patterns: PackedStringArray) -> bool:
	for pattern in patterns:
		var glob := pattern if pattern.begins_with("res://") else "*/" + pattern
		if path.matchn(glob):
			return true
	return false
