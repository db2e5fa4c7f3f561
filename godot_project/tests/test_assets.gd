## Assets a mod brings: `wasgo.texture_from_bytes`, `audio_from_bytes` and `font_from_bytes` make
## owned resources from the mod's embedded bytes (PNG, WAV and TTF here), refuse corrupt data,
## other formats, declared decompression bombs and data over `wasgo/limits/asset_kb` with -3 and
## a message naming the function; `wasgo.load_resource` reads only below
## `wasgo/safety/resource_folders`, never a script. The mod is `mods/tests/create` (Rust, SDK),
## whose assets are in `mods/tests/create/assets/`. SVGs whose drawing would cost more than
## `wasgo/limits/svg_draw_mpx` (a few hundred bytes of nested `<use>` froze the game 48 s) are
## refused before ThorVG draws them; `tests/wat/svg_texture.wat` passes SVG text the test makes.
extends "res://tests/lib/wasgo_test.gd"

const CREATE := MODS + "create.wasm"
const NOT_FOUND := -1
const INVALID_ARGUMENT := -3
const RESOURCE_FOLDERS := "wasgo/safety/resource_folders"
const ASSET_KB := "wasgo/limits/asset_kb"
const ASSETS_MB := "wasgo/limits/assets_mb"
const BUSY := -7
const SVG_DRAW_MPX := "wasgo/limits/svg_draw_mpx"
const SVG_HEAD := '<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="%d" height="%d">'

## The SVG text `test.svg` hands the `svg_texture` mod.
var _svg := ""


func _objects() -> int:
	return int(Performance.get_monitor(Performance.OBJECT_COUNT))


func _started() -> ModProbe:
	await frames(1)
	var probe := new_mod("AssetMod", {"wasm_file": CREATE, "safety_level": 1})
	if not expect_eq(start(probe), OK, "start(): %s" % probe.node.get_last_error()):
		return null
	await frames(2)
	return probe


func _call(probe: ModProbe, export: String, args := []) -> Variant:
	return probe.node.call_export(export, args)


func test_the_embedded_png_is_shown_with_its_size_and_pixels() -> void:
	var probe: ModProbe = await _started()
	if probe == null:
		return
	if not expect_eq(_call(probe, "texture", [0]), 0, "texture(0): %s" % [probe.outputs]):
		return
	var sprite := probe.node.get_node_or_null("ModSprite") as Sprite2D
	if not expect(sprite != null and sprite.texture != null, "a Sprite2D with the mod's texture"):
		return
	expect_eq(sprite.texture.get_size(), Vector2(8, 4), "texture size")
	var image := sprite.texture.get_image()
	expect_eq(image.get_pixel(0, 0), Color(1, 0, 0, 1), "left pixel (red)")
	expect_eq(image.get_pixel(7, 3), Color(0, 0, 1, 1), "right pixel (blue)")
	expect(probe.node.get_owned_objects().has(sprite.texture), "the texture is owned by the mod")


func test_corrupt_or_foreign_images_are_refused_and_the_game_goes_on() -> void:
	var probe: ModProbe = await _started()
	if probe == null:
		return
	var baseline := _objects()
	expect_eq(_call(probe, "texture", [1]), INVALID_ARGUMENT, "a corrupt PNG")
	expect(probe.has_output("FAIL texture 1: `wasgo.texture_from_bytes`: Godot could not decode the image (the data is corrupt)"), "message: %s" % [probe.outputs])
	expect_eq(_call(probe, "texture", [2]), INVALID_ARGUMENT, "a PNG declaring 60000 x 60000")
	expect(probe.has_output("the image is 60000 x 60000 pixels, over the game's limit of 4096 on a side (`wasgo/limits/texture_max_px`)"), "message: %s" % [probe.outputs])
	expect_eq(_call(probe, "texture", [3]), INVALID_ARGUMENT, "a GIF")
	expect(probe.has_output("the data is not a PNG, JPEG, WebP or SVG image"), "message: %s" % [probe.outputs])
	expect_eq(_objects(), baseline, "nothing was left behind")
	expect_eq(probe.node.get_status(), WasmScript.STATUS_RUNNING, "the mod still runs")
	await expect_frames_go_on("after refused images")


func test_the_embedded_sound_plays_with_its_length() -> void:
	var probe: ModProbe = await _started()
	if probe == null:
		return
	if not expect_eq(_call(probe, "sound", [0]), 0, "sound(0): %s" % [probe.outputs]):
		return
	var player := probe.node.get_node_or_null("ModPlayer") as AudioStreamPlayer
	if not expect(player != null and player.stream != null, "an AudioStreamPlayer with the mod's sound"):
		return
	expect(absf(player.stream.get_length() - 0.25) < 0.001, "stream length %f s, want 0.25" % player.stream.get_length())
	expect(player.playing, "the player plays")


## An Ogg Vorbis sound (its setup header read before Godot gets it) plays like the WAV.
func test_an_ogg_vorbis_sound_plays() -> void:
	var probe: ModProbe = await _started()
	if probe == null:
		return
	if not expect_eq(_call(probe, "sound", [4]), 0, "sound(4): %s" % [probe.outputs]):
		return
	var player := probe.node.get_node_or_null("ModPlayer") as AudioStreamPlayer
	if not expect(player != null and player.stream is AudioStreamOggVorbis, "an AudioStreamPlayer with the mod's Ogg sound"):
		return
	expect(absf(player.stream.get_length() - 0.25) < 0.01, "stream length %f s, want 0.25" % player.stream.get_length())
	expect(player.playing, "the player plays")


func test_corrupt_or_foreign_sounds_are_refused() -> void:
	var probe: ModProbe = await _started()
	if probe == null:
		return
	expect_eq(_call(probe, "sound", [1]), INVALID_ARGUMENT, "a WAV with a broken format chunk")
	expect(probe.has_output("FAIL sound 1: `wasgo.audio_from_bytes`"), "message: %s" % [probe.outputs])
	expect_eq(_call(probe, "sound", [2]), INVALID_ARGUMENT, "bytes that are no sound")
	expect(probe.has_output("the data is not an Ogg Vorbis, WAV or MP3 sound"), "message: %s" % [probe.outputs])
	expect_eq(_call(probe, "sound", [3]), INVALID_ARGUMENT, "an Ogg Opus stream")
	expect(probe.has_output("whose first stream is not Vorbis"), "message: %s" % [probe.outputs])
	expect_eq(probe.node.get_status(), WasmScript.STATUS_RUNNING, "the mod still runs")


func test_the_embedded_font_is_used_and_broken_fonts_are_refused() -> void:
	var probe: ModProbe = await _started()
	if probe == null:
		return
	if not expect_eq(_call(probe, "font", [0]), 0, "font(0): %s %s" % [probe.node.get_last_error(), probe.describe()]):
		return
	var label := probe.node.get_node_or_null("ModLabel") as Label
	if not expect(label != null, "a Label with the mod's font"):
		return
	var font := label.get_theme_font("font")
	expect(font is FontFile and font.get_font_name() == "WasGoTest", "the mod's font: %s" % font)
	# Unhinted: FreeType's auto-hinter is quadratic in a glyph's outline segments.
	expect_eq((font as FontFile).hinting, TextServer.HINTING_NONE, "the mod's font's hinting")
	expect_eq(_call(probe, "font", [1]), INVALID_ARGUMENT, "a font cut short")
	expect(probe.has_output("FAIL font 1: `wasgo.font_from_bytes`: the data looks like a TrueType or OpenType font (TTF/OTF) but is corrupt"), "message: %s" % [probe.outputs])
	expect_eq(_call(probe, "font", [2]), INVALID_ARGUMENT, "garbage after a font signature")
	# CFF outlines whose subroutines multiply: FreeType runs every call while drawing (this
	# 1.3 KiB font: about 0.2 s per glyph on the main thread); an ordinary CFF font is taken.
	expect_eq(_call(probe, "font", [4]), INVALID_ARGUMENT, "a font whose CFF subroutines multiply")
	expect(probe.has_output("FAIL font 4: `wasgo.font_from_bytes`: the font is too complex to draw (glyph 0's outline takes more than 50000 charstring operators with its subroutines expanded)"), "message: %s" % [probe.outputs])
	if expect_eq(_call(probe, "font", [6]), 0, "an ordinary font with CFF outlines: %s" % [probe.outputs]):
		var cff_label := probe.node.get_node_or_null("CffLabel") as Label
		if expect(cff_label != null, "a Label with the CFF font"):
			var cff_font := cff_label.get_theme_font("font") as FontFile
			expect(cff_font != null and cff_font.get_string_size("ABC", HORIZONTAL_ALIGNMENT_LEFT, -1, 24).x > 0.0, "the CFF font measures text")
	# Composites of composites: 100 components four levels deep, 10^8 points in one glyph
	# (17 s in FreeType).
	expect_eq(_call(probe, "font", [5]), INVALID_ARGUMENT, "a font whose composite glyphs multiply")
	expect(probe.has_output("FAIL font 5: `wasgo.font_from_bytes`: the font is too complex to draw (glyph 3, with its components expanded, has more than 65535 points or 1024 components)"), "message: %s" % [probe.outputs])
	expect_eq(probe.node.get_status(), WasmScript.STATUS_RUNNING, "the mod still runs")


## The table tags of a TrueType/OpenType font file.
func _font_tables(data: PackedByteArray) -> PackedStringArray:
	var tags: PackedStringArray = []
	if data.size() < 12:
		return tags
	var count := (data[4] << 8) | data[5]
	for t in count:
		var at := 12 + t * 16
		if at + 4 <= data.size():
			tags.append(data.slice(at, at + 4).get_string_from_ascii())
	return tags


## A font FreeType takes for "tricky" runs its bytecode whatever the hinting setting; one whose
## glyph programs loop took 1.6 to 5 s to render 199 glyphs on the main thread. Godot gets mods'
## fonts without TrueType instructions: no `fpgm`, `prep` or `cvt ` table (and no glyph
## programs, checked by the core's tests), and without glyphs drawn as SVG (the fixture has an
## `SVG ` table; Godot draws those with ThorVG, past the SVG cost check), the outlines intact.
func test_a_mods_font_reaches_godot_without_its_hinting_programs() -> void:
	var probe: ModProbe = await _started()
	if probe == null:
		return
	if not expect_eq(_call(probe, "font", [3]), 0, "font(3): %s %s" % [probe.node.get_last_error(), probe.describe()]):
		return
	var label := probe.node.get_node_or_null("TrickyLabel") as Label
	if not expect(label != null, "a Label with the mod's tricky font"):
		return
	var font := label.get_theme_font("font") as FontFile
	if not expect(font != null, "the Label's font is a FontFile"):
		return
	expect_eq(font.get_font_name(), "MingLiU WasGo test", "the font's family name")
	var tables := _font_tables(font.data)
	expect(tables.has("glyf") and tables.has("loca") and tables.has("head"), "the outlines are there: %s" % [tables])
	for dropped in ["fpgm", "prep", "cvt ", "SVG "]:
		expect(not tables.has(dropped), "table `%s` is left out: %s" % [dropped, tables])
	var size := font.get_string_size("ABC", HORIZONTAL_ALIGNMENT_LEFT, -1, 32)
	expect(size.x > 0.0 and size.y > 0.0, "the glyphs still measure: %s" % size)
	await frames(2)
	expect_eq(probe.node.get_status(), WasmScript.STATUS_RUNNING, "the mod still runs")


func test_assets_over_the_size_cap_are_refused() -> void:
	set_setting(ASSET_KB, 1)
	var probe: ModProbe = await _started()
	if probe == null:
		return
	expect_eq(_call(probe, "sound", [0]), INVALID_ARGUMENT, "a 4 KiB WAV over a 1 KiB cap")
	expect(probe.has_output("over the game's limit of 1 KiB (`wasgo/limits/asset_kb`)"), "message: %s" % [probe.outputs])


func test_assets_past_the_per_mod_memory_budget_are_refused() -> void:
	var probe: ModProbe = await _started()
	if probe == null:
		return
	expect_eq(_call(probe, "texture", [4]), 0, "a 600 x 600 SVG within the default budget: %s" % [probe.outputs])
	var sprite := probe.node.get_node_or_null("ModSprite") as Sprite2D
	expect(sprite != null and sprite.texture.get_size() == Vector2(600, 600), "the SVG rendered at its size")
	set_setting(ASSETS_MB, 1)
	expect_eq(_call(probe, "texture", [4]), BUSY, "a second one over a 1 MiB budget")
	expect(probe.has_output("this mod's images, sounds and fonts already take 1406 KiB and this one would take 1407 KiB more, over the game's 1 MiB (`wasgo/limits/assets_mb`)"), "message: %s" % [probe.outputs])
	# A resource loaded from a listed folder is a copy of its own: it counts against the same
	# budget (a texture loaded a thousand times was never counted).
	set_setting(RESOURCE_FOLDERS, PackedStringArray(["res://tests/mod_assets"]))
	expect_eq(_call(probe, "load", [0]), BUSY, "load_resource over a 1 MiB budget already spent")
	expect(probe.has_output("`wasgo.load_resource` refused"), "message: %s" % [probe.outputs])


func test_resources_load_only_from_the_listed_folders_and_never_scripts() -> void:
	var probe: ModProbe = await _started()
	if probe == null:
		return
	expect_eq(_call(probe, "load", [0]), NOT_FOUND, "with no folder listed (the default)")
	expect(probe.has_output("is not inside a folder the game lets mods read"), "message: %s" % [probe.outputs])
	set_setting(RESOURCE_FOLDERS, PackedStringArray(["res://tests/mod_assets"]))
	expect_eq(_call(probe, "load", [0]), 0, "an image in the folder: %s" % [probe.outputs])
	expect_eq(_call(probe, "load", [4]), 0, "a material in the folder: %s" % [probe.outputs])
	expect_eq(_call(probe, "load", [1]), INVALID_ARGUMENT, "a material with a script")
	expect(probe.has_output("mods may never load scripts"), "message: %s" % [probe.outputs])
	expect(not Engine.has_meta("wasgo_evil_script_ran"), "the script's static initialiser never ran")
	# Through a scene it depends on (only `.tres` dependencies were looked into).
	expect_eq(_call(probe, "load", [5]), INVALID_ARGUMENT, "a material depending on a scene with a script")
	expect(probe.has_output("`res://tests/mod_assets/holder.tscn` depends on the script"), "message: %s" % [probe.outputs])
	expect(not Engine.has_meta("wasgo_evil_script_ran"), "the scene's script's static initialiser never ran")
	expect_eq(_call(probe, "load", [2]), NOT_FOUND, "a script outside the folder")
	expect_eq(_call(probe, "load", [3]), NOT_FOUND, "a path climbing out of the folder")


## A running `svg_texture` mod whose `go()` turns `_svg` into a texture.
func _svg_mod() -> ModProbe:
	register_game_function("test", "svg", func() -> String: return _svg, [], ["string"], 1)
	var probe := new_mod("SvgMod", {"module": wat_module("svg_texture"), "safety_level": 1})
	if not expect_eq(start(probe), OK, "start(): %s" % probe.node.get_last_error()):
		return null
	return probe


## `<use>` elements that each draw the level below twice: 2^levels full-canvas rectangles.
func _nested_use(levels: int, size: int) -> String:
	var s := SVG_HEAD % [size, size]
	s += '<defs><g id="l0"><rect width="%d" height="%d" fill="red" fill-opacity="0.5"/></g>' % [size, size]
	for i in range(1, levels):
		s += '<g id="l%d"><use xlink:href="#l%d"/><use xlink:href="#l%d"/></g>' % [i, i - 1, i - 1]
	return s + '</defs><use xlink:href="#l%d"/></svg>' % (levels - 1)


func test_an_svg_that_would_take_seconds_to_draw_is_refused_before_drawing() -> void:
	var probe := _svg_mod()
	if probe == null:
		return
	var objects := _objects()
	_svg = _nested_use(8, 4096)
	expect(_svg.length() < 1000, "the attack is under 1 KB (%d bytes)" % _svg.length())
	expect_eq(_call(probe, "go"), INVALID_ARGUMENT, "nested <use>: 256 full 4096 x 4096 rectangles")
	expect(probe.has_output("`wasgo.texture_from_bytes`: drawing the SVG would take more than the game's limit of 512 million pixels painted (`wasgo/limits/svg_draw_mpx`), reached at"), "message: %s" % [probe.outputs])
	# Deeper still: the estimate stops at the budget, it never expands 2^40 elements.
	_svg = _nested_use(40, 4096)
	expect_eq(_call(probe, "go"), INVALID_ARGUMENT, "nested <use>, 40 levels")
	# A cycle of references.
	_svg = SVG_HEAD % [64, 64] + '<g id="a"><use href="#b"/></g><g id="b"><use href="#a"/><rect width="9" height="9"/></g></svg>'
	expect_eq(_call(probe, "go"), INVALID_ARGUMENT, "<use> elements naming each other")
	# Many full-canvas rectangles, a wide stroke along a long path, tiny dashes.
	_svg = SVG_HEAD % [4096, 4096] + '<rect width="4096" height="4096" fill-opacity="0.5"/>'.repeat(50) + "</svg>"
	expect_eq(_call(probe, "go"), INVALID_ARGUMENT, "50 full-canvas rectangles at 4096 x 4096")
	var d := "M0 0"
	for i in 5000:
		d += " L%d %d" % [(i * 7919) % 4096, (i * 104729) % 4096]
	_svg = SVG_HEAD % [4096, 4096] + '<path stroke="black" stroke-width="4000" fill="none" d="%s"/></svg>' % d
	expect_eq(_call(probe, "go"), INVALID_ARGUMENT, "a 4000-pixel stroke along 5000 segments")
	_svg = SVG_HEAD % [1024, 1024] + '<line x2="1000" y2="1000" stroke="red" stroke-dasharray="0.0001"/></svg>'
	expect_eq(_call(probe, "go"), INVALID_ARGUMENT, "a dash of 0.0001 along a 1400-pixel line")
	expect_eq(_objects(), objects, "nothing was made for the refused SVGs")
	expect_eq(probe.node.get_status(), WasmScript.STATUS_RUNNING, "the mod still runs")
	await expect_frames_go_on("refused SVGs")


func test_an_ordinary_svg_is_drawn_and_the_limit_is_the_game_s_to_set() -> void:
	var probe := _svg_mod()
	if probe == null:
		return
	# An icon as editors write them: a gradient, groups with transforms, curves, a stroke.
	_svg = SVG_HEAD % [64, 32] + """
		<defs><linearGradient id="g"><stop offset="0" stop-color="#00f"/><stop offset="1" stop-color="#00f"/></linearGradient></defs>
		<rect width="32" height="32" fill="#ff0000"/>
		<g transform="translate(32 0)"><rect width="32" height="32" fill="url(#g)"/></g>
		<path d="M2 2 Q16 0 30 2 C31 10 31 20 30 30 Z" fill="none" stroke="#ff0000" stroke-width="1"/>
		</svg>"""
	var handle: int = _call(probe, "go")
	if not expect(handle > 0, "the icon is drawn: %s %s" % [handle, probe.outputs]):
		return
	var texture: Texture2D = probe.node.get_owned_objects().back()
	expect_eq(texture.get_size(), Vector2(64, 32), "the icon's size")
	var image := texture.get_image()
	expect(image.get_pixel(16, 16).is_equal_approx(Color(1, 0, 0)), "the left half is red: %s" % image.get_pixel(16, 16))
	expect(image.get_pixel(48, 16).is_equal_approx(Color(0, 0, 1)), "the right half is blue: %s" % image.get_pixel(48, 16))
	# A 1024 x 1024 canvas with one rectangle is a few million pixels' work: over a limit of 1,
	# within the default.
	_svg = SVG_HEAD % [1024, 1024] + '<rect width="1024" height="1024"/></svg>'
	set_setting(SVG_DRAW_MPX, 1)
	expect_eq(_call(probe, "go"), INVALID_ARGUMENT, "a 1024 x 1024 rectangle over a limit of 1 Mpx")
	expect(probe.has_output("the game's limit of 1 million pixels painted (`wasgo/limits/svg_draw_mpx`)"), "message: %s" % [probe.outputs])
	set_setting(SVG_DRAW_MPX, 512)
	expect(_call(probe, "go") > 0, "the same rectangle within 512 Mpx: %s" % [probe.outputs])


func test_an_svg_with_an_embedded_picture_or_entities_is_refused() -> void:
	var probe := _svg_mod()
	if probe == null:
		return
	# A picture inside the SVG would bypass the PNG header check (a decompression bomb).
	_svg = SVG_HEAD % [16, 16] + '<image width="16" height="16" href="data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAA6mAAAOpgCAYAAAA="/></svg>'
	expect_eq(_call(probe, "go"), INVALID_ARGUMENT, "an <image> element")
	expect(probe.has_output("the SVG contains an `<image>` element"), "message: %s" % [probe.outputs])
	_svg = '<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]>' + SVG_HEAD % [16, 16] + "<text>&b;</text></svg>"
	expect_eq(_call(probe, "go"), INVALID_ARGUMENT, "entity declarations")
	expect(probe.has_output("the SVG contains an entity declaration (`<!ENTITY`)"), "message: %s" % [probe.outputs])
