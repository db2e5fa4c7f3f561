## Every `wasgo/*` project setting has a description, and the editor plugin's Project Settings
## help (`addons/wasgo/editor/wasgo_settings_help.gd`) shows it for WasGo's settings only: a
## one-line summary whose tooltip is the whole text.
extends "res://tests/lib/wasgo_test.gd"

const SettingsHelp := preload("res://addons/wasgo/editor/wasgo_settings_help.gd")


func _wasgo_settings() -> PackedStringArray:
	var names := PackedStringArray()
	for property in ProjectSettings.get_property_list():
		var name: String = property["name"]
		if name.begins_with("wasgo/"):
			names.append(name)
	return names


func test_every_wasgo_setting_has_a_description() -> void:
	var names := _wasgo_settings()
	expect(names.size() >= 20, "expected WasGo's settings to be registered, found %s" % names)
	for name in names:
		var text: String = WasmEngine.get_setting_description(name)
		expect(text.length() > 20, "`%s` has no description (got %s)" % [name, var_to_str(text)])
		expect_eq(SettingsHelp.description_for(name), text, "the plugin's text for %s" % name)


func test_names_that_are_not_wasgo_settings_get_no_help() -> void:
	expect_eq(WasmEngine.get_setting_description("wasgo/no/such_setting"), "", "an unknown wasgo name")
	expect_eq(SettingsHelp.description_for("application/config/name"), "", "a Godot setting")
	expect_eq(SettingsHelp.description_for("safety/level"), "", "a name without its section")


func test_only_the_project_settings_section_of_wasgo_is_recognised() -> void:
	var node := Node.new()
	expect_eq(SettingsHelp.section_prefix(node), "", "a node is not the settings section")
	expect_eq(SettingsHelp.section_prefix(ProjectSettings), "", "the ProjectSettings singleton")
	expect_eq(SettingsHelp.section_prefix(null), "", "no object")
	node.free()


func test_the_help_line_is_the_first_sentence_with_the_whole_text_as_tooltip() -> void:
	var text: String = WasmEngine.get_setting_description("wasgo/limits/main_timeout_ms")
	var line := SettingsHelp.help_line(text)
	expect(line is Label, "the help line is a Label")
	expect_eq(line.tooltip_text, text, "the tooltip")
	expect(line.text.length() < text.length(), "the line is a summary: %s" % line.text)
	expect(text.begins_with(line.text), "the summary starts the text: %s" % line.text)
	expect(line.text.ends_with("."), "the summary is a sentence: %s" % line.text)
	line.free()
	expect_eq(SettingsHelp.summary("One sentence only"), "One sentence only", "text without a full stop")
