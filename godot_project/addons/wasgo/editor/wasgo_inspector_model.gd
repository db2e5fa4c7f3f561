## What the WasGo inspector section shows for a `WasmModule` or a `WasmScript`, as plain data.
##
## No editor class is used here, so the logic runs (and is tested, `res://tests/editor/`) in a
## headless game as well as in the editor. `describe(object)` gives:
##
## - `summary`: `name`, `size` (bytes of the `.wasm` file; -1 when compiled from bytes), `sha256`,
##   `guest_kind` (`get_guest_kind()` when the module has it, else "wasgo"), `source_path`;
## - `level`: the safety level the module runs at: for a `WasmScript`, its `safety_level` (0 = the
##   project setting `wasgo/safety/level`) and never above the project setting; for a bare module,
##   the project setting;
## - `imports`: one row per import (`module`, `name`, `kind`, `signature`, `level`: the lowest level
##   exposing it, 0 = none) with `stub` true when the effective level leaves a function import an
##   error stub (it links, but calling it traps), `game_function` true when that stub is in a
##   module the game may fill with `register_function` (often only at run time), and a `note`;
## - `exports`: one row per export with `called` true for the exports WasGo itself calls;
## - `import_count`, `export_count`, `stub_count`: the totals. At most `MAX_ROWS` rows of each
##   are made (a module may have 100,000 imports and as many exports: a row each froze the
##   editor for 20 s when it was inspected).
##
## Text from the module (its names, its file's name) goes through `shown()` wherever it is shown.
@tool
extends RefCounted

const LEVEL_SETTING := "wasgo/safety/level"
const DEFAULT_LEVEL := 1
## The guest kind of a module whose class predates `get_guest_kind()`.
const DEFAULT_GUEST_KIND := "wasgo"
const LEVEL_NAMES := {1: "Safe", 2: "Safe with wrappers", 3: "Unsafe"}
## The most import rows and export rows made for one module.
const MAX_ROWS := 500


## The data for `object` (a `WasmModule` or a `WasmScript`); empty when it has no module.
static func describe(object: Object) -> Dictionary:
	var module := module_of(object)
	if module == null:
		return {}
	var level := level_of(object)
	var imports: Array = module.get_imports()
	var exports: Array = module.get_exports()
	return {
		"summary": summary(module),
		"level": level,
		"imports": import_rows(imports.slice(0, MAX_ROWS), level),
		"exports": export_rows(exports.slice(0, MAX_ROWS)),
		"import_count": imports.size(),
		"export_count": exports.size(),
		"stub_count": stub_count(imports, level),
	}


## How many of `imports` are error stubs at `level` (see `import_rows`).
static func stub_count(imports: Array, level: int) -> int:
	var n := 0
	for entry: Dictionary in imports:
		var needs := int(entry.get("level", 0))
		if str(entry.get("kind", "function")) == "function" and (needs == 0 or needs > level):
			n += 1
	return n


## The module a `WasmModule` or `WasmScript` stands for: the node's `module`, else its
## `wasm_file` loaded (cached by Godot; compiled here, on the calling thread, unless `loading()`
## loaded it on a loader thread); null when there is none or it does not load.
static func module_of(object: Object) -> Resource:
	if object == null:
		return null
	if object.is_class("WasmModule"):
		return object as Resource
	if not object.is_class("WasmScript"):
		return null
	var module: Resource = object.get("module")
	if module != null:
		return module
	var path := _file_to_load(object)
	if path.is_empty():
		return null
	var loaded: Resource = _loaded.get(path)
	_loaded.erase(path)
	if loaded == null:
		loaded = ResourceLoader.load(path)
	if loaded == null or not loaded.is_class("WasmModule"):
		_failed_loads[path] = file_stamp(path)
		return null
	_failed_loads.erase(path)
	return loaded


## The `.wasm` file a `WasmScript` without a `module` would load, or "" when there is nothing to
## load: no file, a file of another kind, or one that did not load and has not changed since.
static func _file_to_load(object: Object) -> String:
	if object == null or not object.is_class("WasmScript") or object.get("module") != null:
		return ""
	var path: String = object.get("wasm_file")
	if path.is_empty() or not ResourceLoader.exists(path):
		return ""
	# Another kind of file (a texture, a scene typed into `wasm_file`) is no module: not loaded
	# (a scene would load whole), and never asked for a module's imports.
	if path.get_extension().to_lower() != "wasm":
		return ""
	# A file that did not load is not loaded again until it changes (its modified time or its
	# length: a rebuild within the same second counts): each load of a bad `.wasm` printed
	# Godot's load errors again, at every selection of the node.
	if _failed_loads.get(path, []) == file_stamp(path):
		return ""
	return path


## Whether the module of `object`'s `wasm_file` is still being loaded on one of Godot's loader
## threads (`ResourceLoader.load_threaded_request`), which the first ask starts when Godot has
## not loaded the file yet; waits up to `grace_msec` for it (a small module loads in a few
## milliseconds) when this ask starts the load, and not at all when it finds one running.
## False when there is nothing to load or the load ended, so that `describe`
## answers without compiling: the inspector section asks this first, since compiling a large
## module (seconds for a few megabytes) on the editor's main thread froze the editor each time
## a node naming a new or rebuilt file was selected.
static func loading(object: Object, grace_msec := 0) -> bool:
	var path := _file_to_load(object)
	if path.is_empty() or _loaded.has(path):
		return false
	# A load under way is followed to its end (and taken) even once Godot's cache has the
	# module: Godot keeps a load task until it is taken.
	# The grace is for the ask that starts the load: one that finds it running looks and goes
	# (the section asks again every tenth of a second while it shows "loading", and a wait at
	# each ask held the editor at a few frames a second for the whole compile).
	var grace := 0
	if not _threaded.has(path):
		if ResourceLoader.has_cached(path):
			return false
		if ResourceLoader.load_threaded_request(path, "WasmModule") != OK:
			return false
		_threaded[path] = true
		grace = grace_msec
	var until := Time.get_ticks_msec() + grace
	while ResourceLoader.load_threaded_get_status(path) == ResourceLoader.THREAD_LOAD_IN_PROGRESS:
		if Time.get_ticks_msec() >= until:
			return true
		OS.delay_msec(1)
	_threaded.erase(path)
	# Taken whatever the outcome, which ends Godot's load task; a failure was reported by the
	# load, and is marked (so it is not loaded again until the file changes) by `module_of`.
	var loaded: Resource = ResourceLoader.load_threaded_get(path)
	if loaded != null:
		_loaded[path] = loaded
	else:
		_failed_loads[path] = file_stamp(path)
	return false


## Paths whose load failed, with the file's stamp then (`file_stamp`).
static var _failed_loads := {}
## Paths being loaded on a loader thread for `loading()`.
static var _threaded := {}
## Modules a threaded load gave, kept until `module_of` takes them (nothing else holds them, and
## Godot's cache lets go of a resource nobody holds).
static var _loaded := {}


## The modified time and length of the file at `path` (empty when there is none).
static func file_stamp(path: String) -> Array:
	if path.is_empty() or not FileAccess.file_exists(path):
		return []
	var length := -1
	var file := FileAccess.open(path, FileAccess.READ)
	if file != null:
		length = file.get_length()
	return [FileAccess.get_modified_time(path), length]


## The project's safety level (`wasgo/safety/level`, 1 when unset).
static func project_level() -> int:
	var value: Variant = ProjectSettings.get_setting(LEVEL_SETTING, DEFAULT_LEVEL)
	# As the runtime reads it: a value that is not a whole number (the text "3", 2.0) or no
	# level (0, negative, 4 and up) is level 1.
	if typeof(value) != TYPE_INT:
		return 1
	var level: int = value
	return level if level >= 1 and level <= 3 else 1


## The level `object` runs its module at (see the file's doc).
static func level_of(object: Object) -> int:
	var node_level := 0
	if object != null and object.is_class("WasmScript"):
		node_level = int(object.get("safety_level"))
	return effective_level(node_level, project_level())


## A node's `safety_level` can only lower the project's; 0 means the project's; a number that
## is no level (negative, 4 and up) runs at level 1, never at the project's (as
## `SafetyLevel::resolve` decides at run time).
static func effective_level(node_level: int, project: int) -> int:
	if node_level == 0:
		return project
	if node_level < 0 or node_level > 3:
		return 1
	return mini(node_level, project)


## `name`, `size`, `sha256`, `guest_kind`, `source_path` of a module.
static func summary(module: Resource) -> Dictionary:
	var path: String = module.get("source_path")
	if path.is_empty():
		path = module.resource_path
	var size := -1
	if not path.is_empty() and FileAccess.file_exists(path):
		var file := FileAccess.open(path, FileAccess.READ)
		if file != null:
			size = file.get_length()
	var kind := DEFAULT_GUEST_KIND
	if module.has_method("get_guest_kind"):
		kind = str(module.call("get_guest_kind"))
	return {
		"name": shown(str(module.get("name"))),
		"size": size,
		"sha256": str(module.get("sha256")),
		"guest_kind": kind,
		"source_path": shown(path),
	}


## The imports (dictionaries from `WasmModule.get_imports()`) as rows for `level`.
static func import_rows(imports: Array, level: int) -> Array[Dictionary]:
	var rows: Array[Dictionary] = []
	for entry: Dictionary in imports:
		var row := entry.duplicate()
		row["game_function"] = false
		var needs := int(entry.get("level", 0))
		var is_function := str(entry.get("kind", "function")) == "function"
		row["stub"] = is_function and (needs == 0 or needs > level)
		if not is_function:
			row["note"] = "a %s import: WasGo provides none, so the module cannot be instantiated" % entry.get("kind")
		elif needs == 0 and is_game_module(str(entry.get("module", ""))):
			row["game_function"] = true
			row["note"] = "stub now: no game function `%s` is registered (a game registers its own with WasmEngine.register_function, often only at run time); unregistered when the mod starts, calling it traps" % shown("%s.%s" % [entry.get("module"), entry.get("name")])
		elif needs == 0:
			row["note"] = "stub: no level has this function with this signature; calling it traps"
		elif needs > level:
			row["note"] = "stub at level %d: needs level %d (%s); calling it traps" % [level, needs, level_name(needs)]
		else:
			row["note"] = "level %d (%s)" % [needs, level_name(needs)]
		rows.append(row)
	return rows


## The exports (dictionaries from `WasmModule.get_exports()`) as rows.
static func export_rows(exports: Array) -> Array[Dictionary]:
	var rows: Array[Dictionary] = []
	for entry: Dictionary in exports:
		var row := entry.duplicate()
		# `called` is the ABI's description of when WasGo calls it (from WasGo's catalog), empty
		# for an export only the game calls.
		var when := str(entry.get("called", ""))
		row["called"] = when != ""
		row["note"] = when
		rows.append(row)
	return rows


## Whether an import module can hold the game's own functions (any but `wasgo` and `wasi_*`).
static func is_game_module(module_name: String) -> bool:
	return module_name != "wasgo" and not module_name.begins_with("wasi")


## The most of a name the inspector shows.
const SHOWN_CHARS := 200


## A name from the module as the inspector shows it: control characters and invisible format
## characters (a bidi override reorders what follows, a newline adds a line) written as
## `\\u{..}`, at most `SHOWN_CHARS` of it (the same characters as the core's
## `wasgo_core::text::is_hidden`, which the configuration warnings use).
static func shown(text: String) -> String:
	var n := mini(text.length(), SHOWN_CHARS)
	var out := PackedStringArray()
	for i in n:
		var c := text.unicode_at(i)
		if _is_hidden(c):
			out.append("\\u{%x}" % c)
		else:
			out.append(text[i])
	if text.length() > n:
		out.append("…")
	return "".join(out)


static func _is_hidden(c: int) -> bool:
	return c < 0x20 or (c >= 0x7F and c < 0xA0) or c == 0xAD or c == 0x34F or c == 0x61C \
		or c == 0x115F or c == 0x1160 or c == 0x180E or c == 0x3164 or c == 0xFFA0 \
		or (c >= 0x200B and c <= 0x200F) or (c >= 0x202A and c <= 0x202E) \
		or c == 0x2028 or c == 0x2029 \
		or (c >= 0x2060 and c <= 0x2064) or (c >= 0x2066 and c <= 0x206F) or c == 0xFEFF \
		or (c >= 0xFFF9 and c <= 0xFFFB) or (c >= 0xFE00 and c <= 0xFE0D) \
		or (c >= 0xE0000 and c <= 0xE007F) or (c >= 0xE0100 and c <= 0xE01EF)


## "module.name" of every import row marked as a stub (the form of `get_unexposed_imports`).
static func stub_names(rows: Array[Dictionary]) -> PackedStringArray:
	var names: PackedStringArray = []
	for row in rows:
		if row["stub"]:
			names.append("%s.%s" % [row["module"], row["name"]])
	return names


## "Safe", "Safe with wrappers", "Unsafe".
static func level_name(level: int) -> String:
	return LEVEL_NAMES.get(level, "level %d" % level)


## 2345 → "2.3 KB"; -1 → "unknown (compiled from bytes)".
static func format_size(size: int) -> String:
	if size < 0:
		return "unknown (compiled from bytes)"
	if size < 1000:
		return "%d B" % size
	if size < 1000 * 1000:
		return "%.1f KB (%d bytes)" % [size / 1000.0, size]
	return "%.1f MB (%d bytes)" % [size / 1000000.0, size]
