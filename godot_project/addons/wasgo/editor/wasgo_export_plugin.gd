## Ships what WasGo reads at run time with every export, whatever the preset's filter: every
## `*.wasm` under `res://` (except paths matching the preset's exclude filter), the addon's
## `allowlist.cfg` and every file listed in the project setting `wasgo/safety/allowlist_files`.
## Godot's own export would leave the allowlists out (they are not resources), and the `.wasm`
## files out unless the filter selects them; the mods then fail in the exported game.
##
## Each file is added once, as-is, when the export begins; if the preset's own filter exports it
## too, that copy is skipped. The extension library is not added here: Godot's GDExtension export
## ships it beside the executable (see the README's "Shipping a game").
##
## With the preset option `wasgo/precompile` on, every shipped `.wasm` is also precompiled with
## `WasmEngine.precompile` and shipped as `<name>.cwasm` beside it, authenticated under the
## project setting `wasgo/runtime/precompile_key` (64 random hex digits are generated and saved in
## `project.godot` when it is empty). At run time a `res://` `.wasm` with an authentic `.cwasm`
## beside it loads without compiling. With `wasgo/ship_wasm` off, only the `.cwasm` is shipped
## (smaller, but the game then needs that exact build of WasGo). Precompiling needs the target's
## engine: only an export for the editor's own platform and architecture is precompiled; for any
## other the `.wasm` files are shipped alone, with an error saying so.
@tool
extends EditorExportPlugin

const ALLOWLIST := "res://addons/wasgo/allowlist.cfg"
const ALLOWLIST_FILES_SETTING := "wasgo/safety/allowlist_files"
const KEY_SETTING := "wasgo/runtime/precompile_key"
const PRECOMPILE_OPTION := "wasgo/precompile"
const SHIP_WASM_OPTION := "wasgo/ship_wasm"

var _added := {}


func _get_export_options(_platform: EditorExportPlatform) -> Array[Dictionary]:
	return [
		{
			"option": {"name": PRECOMPILE_OPTION, "type": TYPE_BOOL},
			"default_value": false,
		},
		{
			"option": {"name": SHIP_WASM_OPTION, "type": TYPE_BOOL},
			"default_value": true,
		},
	]


func _get_name() -> String:
	return "WasGo"


func _export_begin(features: PackedStringArray, _is_debug: bool, _path: String, _flags: int) -> void:
	_added.clear()
	var precompile := _option(PRECOMPILE_OPTION, false)
	if precompile:
		var refusal := precompile_refusal(features)
		if not refusal.is_empty():
			push_error("WasGo export: %s; the `.wasm` files are shipped without precompiling (turn `%s` off in the preset to silence this)" % [refusal, PRECOMPILE_OPTION])
			precompile = false
		elif not ensure_key():
			precompile = false
	var ship_wasm := _option(SHIP_WASM_OPTION, true) or not precompile
	var precompiled := 0
	for path in files_to_ship(_exclude_patterns(), allowlist_files()):
		var bytes := FileAccess.get_file_as_bytes(path)
		if bytes.is_empty() and FileAccess.get_open_error() != OK:
			push_warning("WasGo export: cannot read `%s` (%s); it is not in the export" % [path, error_string(FileAccess.get_open_error())])
			continue
		var is_wasm := path.get_extension().to_lower() == "wasm"
		var artifact := PackedByteArray()
		if precompile and is_wasm:
			artifact = WasmEngine.precompile(bytes)
			if artifact.is_empty():
				push_error("WasGo export: cannot precompile `%s`: %s; it is shipped as `.wasm` only" % [path, WasmEngine.get_last_error()])
			else:
				add_file(artifact_path(path), artifact, false)
				precompiled += 1
		if ship_wasm or not is_wasm or artifact.is_empty():
			add_file(path, bytes, false)
		# Also when left out: the preset's filter must not add it back.
		_added[path] = true
		# Nor a `.cwasm` the project holds beside it (a stale one, or a third-party mod's:
		# native code): only the artifact made here ships, or none.
		if is_wasm:
			_added[artifact_path(path)] = true
	if precompile:
		print("WasGo export: precompiled %d module(s) for %s" % [precompiled, host_target()])


## An export option of the preset, or `default` outside an export.
func _option(name: String, default: bool) -> bool:
	var preset := get_export_preset()
	if preset == null:
		return default
	var value: Variant = get_option(name)
	return value if value is bool else default


## `res://mods/a.wasm` → `res://mods/a.cwasm` (where WasGo looks for it at run time).
static func artifact_path(wasm_path: String) -> String:
	return wasm_path.get_basename() + ".cwasm"


## The editor's own platform, as `<os>.<architecture>` (e.g. `linux.x86_64`).
static func host_target() -> String:
	return "%s.%s" % [OS.get_name().to_lower(), Engine.get_architecture_name()]


## Why the export with `features` cannot be precompiled here (empty when it can): an artifact is
## native code for one platform and architecture, and only the editor's own can be made.
static func precompile_refusal(features: PackedStringArray) -> String:
	if not WasmEngine.get_stats().get("compiler", false):
		return "this build of the WasGo library has no compiler"
	var os_name := OS.get_name().to_lower()
	var os_feature := {"linux": "linux", "windows": "windows", "macos": "macos", "android": "android", "ios": "ios", "web": "web"}
	var host_os: String = os_feature.get(os_name, os_name)
	var arch := Engine.get_architecture_name()
	var known_os := ["linux", "windows", "macos", "android", "ios", "web", "linuxbsd"]
	var known_arch := ["x86_64", "x86_32", "arm64", "arm32", "rv64", "ppc64", "wasm32", "universal"]
	for feature in features:
		if feature in known_os and feature != host_os and not (feature == "linuxbsd" and host_os == "linux"):
			return "cannot precompile for `%s` on %s: an artifact is native code for the platform it was made on; export on that platform" % [feature, host_target()]
		if feature in known_arch and feature != arch:
			return "cannot precompile for the `%s` architecture on %s: an artifact is native code for the architecture it was made on; export on that architecture" % [feature, host_target()]
	return ""


## Makes sure `wasgo/runtime/precompile_key` holds a key: 32 random bytes as hex, saved in
## `project.godot`, when it is empty. The key itself is never printed.
static func ensure_key() -> bool:
	var current := str(ProjectSettings.get_setting(KEY_SETTING, "")).strip_edges()
	if not current.is_empty():
		return true
	var key := Crypto.new().generate_random_bytes(32).hex_encode()
	ProjectSettings.set_setting(KEY_SETTING, key)
	var error := ProjectSettings.save()
	if error != OK:
		push_error("WasGo export: cannot save the new `%s` in project.godot (%s); the modules are shipped without precompiling" % [KEY_SETTING, error_string(error)])
		ProjectSettings.set_setting(KEY_SETTING, "")
		return false
	print("WasGo export: generated a new `%s` and saved it in project.godot" % KEY_SETTING)
	return true


func _export_file(path: String, _type: String, _features: PackedStringArray) -> void:
	# A `.cwasm` in the project is native code under a key every player can read: only the
	# artifacts made here ship (a third-party mod's, beside a `.wasm` the preset leaves out or
	# with none, shipped through the preset's filter, would load in the game).
	if _added.has(path) or path.get_extension().to_lower() == "cwasm":
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


## Whether `path` (res://...) matches one of `patterns` the way Godot's export filters match
## (`EditorExportPlatform`): against the whole path and against the path without `res://`, so
## `mods/*` is the top-level `mods` folder only and `*.txt` any text file.
static func is_excluded(path: String, patterns: PackedStringArray) -> bool:
	var no_prefix := path.trim_prefix("res://")
	for pattern in patterns:
		if path.matchn(pattern) or no_prefix.matchn(pattern):
			return true
	return false
