## Shows what each `wasgo/*` setting means in Project Settings: a one-line summary above the
## setting's editor, with the whole description as its tooltip.
##
## Godot's own tooltip there reads the engine's class reference, which documents built-in
## settings only (its doc generator skips settings an extension registers), so WasGo's settings
## would say "No description available". The texts come from the extension
## (`WasmEngine.get_setting_description`), the one place they are written.
##
## The Project Settings dialog edits one section at a time through an internal proxy object
## whose property names lack the section prefix (`memory_mb` for `wasgo/limits/memory_mb`); this
## plugin recognises WasGo's sections by their settings and leaves every other inspector alone.
@tool
extends EditorInspectorPlugin

var _prefix := ""


func _can_handle(object: Object) -> bool:
	return section_prefix(object) != ""


func _parse_begin(object: Object) -> void:
	_prefix = section_prefix(object)


func _parse_property(object: Object, _type: Variant.Type, name: String, _hint: PropertyHint,
		_hint_string: String, _usage: int, _wide: bool) -> bool:
	var text := description_for(_prefix + name)
	if text != "":
		add_custom_control(help_line(text))
	return false


## The prefix that turns the inspected object's property names into setting names when it is
## the Project Settings proxy showing a part of WasGo's section (`"wasgo/limits/"` for
## `memory_mb`, ...), else `""`. The proxy does not say which section it shows, so every section
## under `wasgo/` is tried: the one where each of the proxy's properties is a setting holding the
## same value is it.
static func section_prefix(object: Object) -> String:
	if object == null or not object.is_class("SectionedInspectorFilter"):
		return ""
	var names := PackedStringArray()
	for property in object.get_property_list():
		# The proxy also lists its own class (a category) and `script`, which are no settings.
		if property["usage"] & PROPERTY_USAGE_CATEGORY or property["usage"] & PROPERTY_USAGE_GROUP \
				or property["name"] == "script":
			continue
		names.append(property["name"])
	if names.is_empty():
		return ""
	for prefix in wasgo_sections():
		var all_match := true
		for name in names:
			var setting: String = prefix + name
			if not ProjectSettings.has_setting(setting) \
					or not _same(object.get(name), ProjectSettings.get_setting(setting)):
				all_match = false
				break
		if all_match:
			return prefix
	return ""


## Whether two values are equal: of one type, then `==` (GDScript refuses to compare an int
## with a String: a section of another addon whose `mode` is an int, looked at against WasGo's
## `wasgo/runtime/mode`, stopped the plugin with a SCRIPT ERROR).
static func _same(a: Variant, b: Variant) -> bool:
	return typeof(a) == typeof(b) and a == b


## `"wasgo/"` and every `"wasgo/<part>/"` under which a setting is registered.
static func wasgo_sections() -> PackedStringArray:
	var sections := PackedStringArray(["wasgo/"])
	for property in ProjectSettings.get_property_list():
		var name: String = property["name"]
		if name.begins_with("wasgo/") and name.count("/") >= 2:
			var section := name.substr(0, name.rfind("/") + 1)
			if not sections.has(section):
				sections.append(section)
	return sections


## The description of setting `setting` if it is one of WasGo's, else `""`.
static func description_for(setting: String) -> String:
	if not setting.begins_with("wasgo/") or not Engine.has_singleton("WasmEngine"):
		return ""
	return Engine.get_singleton("WasmEngine").get_setting_description(setting)


## A one-line, dimmed summary (the description's first sentence) whose tooltip is all of it.
static func help_line(text: String) -> Control:
	var label := Label.new()
	label.text = summary(text)
	label.tooltip_text = text
	label.mouse_filter = Control.MOUSE_FILTER_PASS
	label.autowrap_mode = TextServer.AUTOWRAP_WORD_SMART
	label.modulate = Color(1, 1, 1, 0.65)
	return label


## The first sentence of `text`.
static func summary(text: String) -> String:
	var end := text.find(". ")
	return text if end < 0 else text.substr(0, end + 1)
