## Work a mod makes the engine do later, outside every mod budget, stays bounded (README,
## "Ranges" and "Tweens"): members whose value sizes that work carry a range in the allowlist
## (a value outside it is refused with -3 and changes nothing; such a property cannot be tweened),
## and a tween that loops must take time per loop. Before, a level-1 mod crashed Godot with
## `amount = 2147483647` on its own CPUParticles2D (inside `set_amount`), and froze it with
## `preprocess = 1e9` or a tween looping two billion times over a zero-length interval. The mod is
## `mods/tests/create` (Rust, SDK).
extends "res://tests/lib/wasgo_test.gd"

const CREATE := MODS + "create.wasm"
const INVALID_ARGUMENT := -3


func _started(node_name: String) -> ModProbe:
	var probe := new_mod(node_name, {"wasm_file": CREATE, "safety_level": 1})
	expect_eq(start(probe), OK, "start(): %s" % probe.node.get_last_error())
	return probe


func _call(probe: ModProbe, export: String, args := []) -> Variant:
	return probe.node.call_export(export, args)


func _last_fail(probe: ModProbe) -> String:
	for i in range(probe.outputs.size() - 1, -1, -1):
		if probe.outputs[i].begins_with("FAIL"):
			return probe.outputs[i]
	return ""


## The game's MeshInstance3D `Model` under the mod's node, showing a detailed sphere (256 x 128,
## 66,048 triangles).
func _add_model(probe: ModProbe) -> MeshInstance3D:
	var model := MeshInstance3D.new()
	model.name = "Model"
	var detailed := SphereMesh.new()
	detailed.radial_segments = 256
	detailed.rings = 128
	model.mesh = detailed
	probe.node.add_child(model)
	return model


func test_a_particle_amount_outside_its_range_is_refused_and_changes_nothing() -> void:
	var probe := _started("RangeParticles")
	expect_eq(_call(probe, "particles_amount", [500]), 0, "amount 500: %s" % _last_fail(probe))
	var particles := probe.node.get_node("Particles") as CPUParticles2D
	expect_eq(particles.amount, 500, "the amount in range was set")
	for bad in [2147483647, 200000000, 2001, 0, -5]:
		expect_eq(_call(probe, "particles_amount", [bad]), INVALID_ARGUMENT, "amount %d" % bad)
		expect_contains(_last_fail(probe), "`CPUParticles2D.amount` takes a number from 1 to 2000", "the refusal")
		expect_eq(particles.amount, 500, "amount after refusing %d" % bad)
	expect_eq(_call(probe, "particles_amount", [2000]), 0, "amount 2000 (the range's end)")
	# A text Godot would read the number from is refused too (it crashed Godot the same way).
	expect_eq(_call(probe, "particles_amount_as_text", [2147483647]), INVALID_ARGUMENT, "amount \"2147483647\"")
	expect_contains(_last_fail(probe), "takes a number from 1 to 2000 at this safety level (an int or a float, not a text", "the refusal")
	expect_eq(particles.amount, 2000, "amount after refusing the text")
	expect_eq(probe.node.get_status(), WasmScript.STATUS_RUNNING, "the mod runs on")
	await expect_frames_go_on("after the refused amounts")


## A CPUParticles3D draws its mesh once per particle every frame: a mod's 256 x 128 sphere on
## 2000 particles was 130 million triangles a frame. A mod may give particles a mesh of at most
## Godot's default sphere (4224 triangles); a sphere's segments stop at that default, and a
## game's detailed mesh the mod can reach is refused on particles (it stays usable elsewhere).
func test_a_particle_node_takes_only_a_light_mesh() -> void:
	var probe := _started("ParticleMesh")
	var model := _add_model(probe)
	var detailed: SphereMesh = model.mesh
	expect_eq(SphereMesh.new().get_faces().size() / 3, 4224, "Godot's default sphere, as WasGo counts it")
	expect_eq(_call(probe, "particles_mesh", [0, 0]), 0, "the default sphere: %s" % _last_fail(probe))
	var particles := probe.node.get_node("Particles3D") as CPUParticles3D
	var light: Mesh = particles.mesh
	expect(light is SphereMesh, "the default sphere is on the particles")
	expect_eq(_call(probe, "particles_mesh", [0, 64]), 0, "a sphere of 64 segments and 32 rings: %s" % _last_fail(probe))
	light = particles.mesh
	expect_eq(_call(probe, "particles_mesh", [0, 256]), INVALID_ARGUMENT, "a sphere of 256 segments")
	expect_contains(_last_fail(probe), "`SphereMesh.radial_segments` takes a number from 4 to 64", "the refusal")
	expect_eq(_call(probe, "particles_mesh", [1, 0]), INVALID_ARGUMENT, "the game's detailed sphere on the particles")
	expect_contains(_last_fail(probe), "the SphereMesh has 66048 triangles", "the refusal")
	expect_eq(particles.mesh, light, "the particles' mesh after the refusals")
	# Nor does a tween (it would set the object at some point of its time).
	expect_eq(_call(probe, "particles_mesh_tween"), INVALID_ARGUMENT, "tween_property of the mesh to the game's detailed sphere")
	expect_contains(_last_fail(probe), "a tween cannot animate `CPUParticles3D.mesh` to or from an object", "the refusal")
	await frames(6)
	expect_eq(particles.mesh, light, "the particles' mesh after the refused tween")
	# An ArrayMesh is counted by its surfaces.
	var heavy_arrays := ArrayMesh.new()
	heavy_arrays.add_surface_from_arrays(Mesh.PRIMITIVE_TRIANGLES, detailed.get_mesh_arrays())
	model.mesh = heavy_arrays
	expect_eq(_call(probe, "particles_mesh", [1, 0]), INVALID_ARGUMENT, "the game's detailed ArrayMesh")
	expect_contains(_last_fail(probe), "the ArrayMesh has 66048 triangles", "the refusal")
	var light_arrays := ArrayMesh.new()
	light_arrays.add_surface_from_arrays(Mesh.PRIMITIVE_TRIANGLES, BoxMesh.new().get_mesh_arrays())
	model.mesh = light_arrays
	expect_eq(_call(probe, "particles_mesh", [1, 0]), 0, "the game's light ArrayMesh: %s" % _last_fail(probe))
	expect_eq(particles.mesh, light_arrays, "the light ArrayMesh is on the particles")
	# A light primitive mesh of the game's is fine.
	model.mesh = BoxMesh.new()
	expect_eq(_call(probe, "particles_mesh", [1, 0]), 0, "the game's box: %s" % _last_fail(probe))
	expect(particles.mesh is BoxMesh, "the box is on the particles")
	expect_eq(probe.node.get_status(), WasmScript.STATUS_RUNNING, "the mod runs on")
	await expect_frames_go_on("after the refused meshes")


## Over all the mesh nodes and particle nodes a mod gave a mesh, Godot draws at most ten
## million triangles a frame for it (a particle node counts its `amount` times its mesh's): a mod
## that put a game's detailed model on a thousand mesh nodes of its own had it drawn a thousand
## times a frame. Nodes freed count no more.
func test_a_mods_meshes_draw_at_most_ten_million_triangles_a_frame() -> void:
	var probe := _started("TriangleBudget")
	var model := _add_model(probe)
	# 66,048 triangles each: 151 fit in ten million.
	expect_eq(_call(probe, "mesh_nodes", [200, 0]), 151, "mesh nodes showing the game's model: %s" % _last_fail(probe))
	expect_contains(_last_fail(probe), "`MeshInstance3D.mesh` refused: this mod's meshes would have Godot draw 10039296 triangles a frame", "the refusal")
	expect_eq((probe.node.get_node("Shown151") as MeshInstance3D).mesh, null, "the refused node's mesh")
	# The default sphere on the mod's particles (8 particles, 4224 triangles each) is over too.
	expect_eq(_call(probe, "particles_mesh", [0, 0]), INVALID_ARGUMENT, "a mesh on particles past the budget")
	expect_contains(_last_fail(probe), "`CPUParticles3D.mesh` refused: this mod's meshes would have Godot draw 10007040 triangles", "the refusal")
	for i in 10:
		probe.node.get_node("Shown%d" % i).free()
	expect_eq(_call(probe, "particles_mesh", [0, 0]), 0, "the same once ten mesh nodes are gone: %s" % _last_fail(probe))
	var particles := probe.node.get_node("Particles3D") as CPUParticles3D
	expect_eq(_call(probe, "particles3d_amount", [200]), INVALID_ARGUMENT, "200 particles of the sphere")
	expect_contains(_last_fail(probe), "`CPUParticles3D.amount` refused: this mod's meshes would have Godot draw 10157568 triangles", "the refusal")
	expect_eq(particles.amount, 8, "the amount after the refusal")
	expect_eq(_call(probe, "particles3d_amount", [100]), 0, "100 particles: %s" % _last_fail(probe))
	expect_eq(particles.amount, 100, "the amount set")
	# A kind of mesh WasGo does not count is not shown by a mod.
	model.mesh = ImmediateMesh.new()
	expect_eq(_call(probe, "mesh_nodes", [1, 500]), 0, "a mesh node showing the game's ImmediateMesh")
	expect_contains(_last_fail(probe), "`MeshInstance3D.mesh` refused: a mod may show a PrimitiveMesh or an ArrayMesh", "the refusal")
	expect_eq(probe.node.get_status(), WasmScript.STATUS_RUNNING, "the mod runs on")
	await expect_frames_go_on("after the refused meshes")


func test_a_ranged_property_cannot_be_tweened_and_preprocess_is_not_open() -> void:
	var probe := _started("RangeTween")
	expect_eq(_call(probe, "particles_amount", [10]), 0, "amount 10")
	expect_eq(_call(probe, "particles_tween", [2147483647]), INVALID_ARGUMENT, "tween_property of `amount`")
	expect_contains(_last_fail(probe), "cannot animate `CPUParticles2D.amount`", "the refusal")
	await frames(3)
	expect_eq((probe.node.get_node("Particles") as CPUParticles2D).amount, 10, "amount after the refused tween")
	_call(probe, "particles_preprocess")
	expect_eq(probe.node.get_status(), WasmScript.STATUS_TRAPPED, "setting `preprocess` traps (not in the allowlist)")
	await expect_frames_go_on("after the refused tween and preprocess")


func test_a_polygon_or_a_text_past_its_size_is_refused() -> void:
	var probe := _started("RangeSizes")
	expect_eq(_call(probe, "polygon_points", [200]), 0, "a polygon of 200 points: %s" % _last_fail(probe))
	var shape := probe.node.get_node("Shape") as Polygon2D
	expect_eq(shape.polygon.size(), 200, "the polygon in range was set")
	# 20,000 points took Godot 1.5 s to triangulate in one frame.
	expect_eq(_call(probe, "polygon_points", [20000]), INVALID_ARGUMENT, "a polygon of 20,000 points")
	expect_contains(_last_fail(probe), "`Polygon2D.polygon` takes a text or an array of 0 to 256", "the refusal")
	expect_eq(shape.polygon.size(), 200, "the polygon after the refusal")
	expect_eq(_call(probe, "label_text", [1024]), 0, "a text of 1024 characters: %s" % _last_fail(probe))
	expect_eq(_call(probe, "label_text", [100000]), INVALID_ARGUMENT, "a text of 100,000 characters")
	expect_contains(_last_fail(probe), "`Label.text` takes a text or an array of 0 to 1024", "the refusal")
	expect_eq((probe.node.get_node("Text") as Label).text.length(), 1024, "the text after the refusal")
	await expect_frames_go_on("after the refused sizes")


## What Godot keeps for a mod's calls stays small: theme overrides only of items the control's
## themes have (every new name was kept: gigabytes on a game's Label, after the mod ended),
## at most 64 tweeners per tween (two million intervals held a gigabyte), a tweened value of at
## most 256 characters, `autoplay` names of at most 256, and texts of at most 4096 characters
## for members without a range (`animation`: a megabyte name was kept per sprite).
func test_what_godot_keeps_for_a_mods_calls_is_bounded() -> void:
	var probe := _started("Kept")
	expect_eq(_call(probe, "theme_override", [0]), 0, "font_color override: %s" % _last_fail(probe))
	expect_eq(_call(probe, "theme_override", [1]), -1, "an item no Label has")
	expect_contains(_last_fail(probe), "has no theme item `no_such_item`", "the refusal")
	expect_eq(_call(probe, "tweeners", [64]), 64, "64 tweeners: %s" % _last_fail(probe))
	expect_eq(_call(probe, "tweeners", [65]), -1064, "the 65th tweener")
	expect_contains(_last_fail(probe), "at most 64 tweeners", "the refusal")
	# A name is not tweened at all (Godot cannot interpolate it, and refused most of the names
	# a tween stepped through); the size rule is checked first.
	expect_eq(_call(probe, "tween_long_value", [256]), INVALID_ARGUMENT, "a tweened name of 256 characters")
	expect_contains(_last_fail(probe), "cannot animate `AnimatedSprite2D.animation`", "the refusal")
	expect_eq(_call(probe, "tween_long_value", [100000]), INVALID_ARGUMENT, "a tweened value of 100,000 characters")
	expect_contains(_last_fail(probe), "at most 256", "the refusal")
	expect_eq(_call(probe, "autoplay", [256]), 0, "autoplay of 256 characters: %s" % _last_fail(probe))
	expect_eq(_call(probe, "autoplay", [1000000]), INVALID_ARGUMENT, "autoplay of 1,000,000 characters")
	# A member the allowlist gives no `len` range takes texts of at most 4096 characters.
	expect_eq(_call(probe, "animation", [4096]), 0, "animation of 4096 characters: %s" % _last_fail(probe))
	expect_eq(_call(probe, "animation", [1000000]), INVALID_ARGUMENT, "animation of 1,000,000 characters")
	expect_contains(_last_fail(probe), "AnimatedSprite2D.animation", "the refusal names the member")
	expect_eq(probe.node.get_status(), WasmScript.STATUS_RUNNING, "the mod runs on: %s" % probe.describe())
	await expect_frames_go_on("after the refusals")


## A mod owns at most 64 collision objects and 64 collision shapes below level 3: Godot's
## physics pairs every overlapping shape at every step, outside the mod's budget (510 areas on
## one spot held the game at 2 to 7 fps). Other nodes count only against the object cap.
func test_collision_nodes_a_mod_owns_are_bounded() -> void:
	var probe := new_mod("Collisions", {"module": wat_module("collision_flood"), "safety_level": 1})
	if not expect_eq(start(probe), OK, "start()"):
		return
	expect_eq(_call(probe, "make", [0, 64]), 64, "64 areas")
	expect_eq(_call(probe, "make", [0, 1]), -1000, "the 65th area")
	expect_eq(_call(probe, "last_code", []), -7, "its code")
	expect_eq(_call(probe, "make", [1, 64]), 64, "64 collision shapes")
	expect_eq(_call(probe, "make", [1, 1]), -1000, "the 65th collision shape")
	expect_eq(_call(probe, "make", [2, 100]), 100, "100 Node2D")
	expect_eq(probe.node.get_status(), WasmScript.STATUS_RUNNING, "the mod runs on: %s" % probe.describe())


## All mods together have at most 256 collision objects alive below level 3: the bound above is
## each instance's, and eight nodes of one mod made the 512 areas that held the game at a few
## frames a second.
func test_collision_nodes_all_mods_make_are_bounded_together() -> void:
	# What earlier tests' mods made is freed with their instances by the end of a frame.
	await frames(2)
	var probes: Array[ModProbe] = []
	for i in 5:
		var probe := new_mod("Collisions%d" % i, {"module": wat_module("collision_flood"), "safety_level": 1})
		if not expect_eq(start(probe), OK, "start() of node %d" % i):
			return
		probes.append(probe)
	for i in 4:
		expect_eq(_call(probes[i], "make", [0, 64]), 64, "node %d: 64 areas" % i)
	expect_eq(_call(probes[4], "make", [0, 1]), -1000, "an area past 256 in all")
	expect_eq(_call(probes[4], "last_code", []), -7, "its code")
	# Freed ones are let go: a node's areas end with its instance.
	probes[0].node.kill()
	await frames(2)
	expect_eq(_call(probes[4], "make", [0, 64]), 64, "64 areas once another mod's were freed")
	for probe in probes:
		probe.node.kill()


## Collision nodes the game adopted are the game's: they no longer count against the bound of
## all mods (256 adopted areas had every mod's next area refused for good).
func test_collision_nodes_the_game_adopted_leave_the_bound_of_all_mods() -> void:
	await frames(2)
	var adopted: Array[Node] = []
	for i in 4:
		var probe := new_mod("Adopting%d" % i, {"module": wat_module("collision_flood"), "safety_level": 1})
		if not expect_eq(start(probe), OK, "start() of node %d" % i):
			return
		expect_eq(_call(probe, "make", [0, 64]), 64, "node %d: 64 areas" % i)
		for owned: Object in probe.node.get_owned_objects():
			if owned is Area2D and probe.node.adopt(owned):
				adopted.append(owned)
		probe.node.kill()
	expect_eq(adopted.size(), 256, "areas the game adopted")
	await frames(2)
	var later := new_mod("AfterAdoption", {"module": wat_module("collision_flood"), "safety_level": 1})
	if expect_eq(start(later), OK, "start() of a later mod"):
		expect_eq(_call(later, "make", [0, 64]), 64, "a later mod's 64 areas")
		later.node.kill()
	for node in adopted:
		node.free()


## An array given to a text property is refused: its range would measure its elements, and
## Godot turns it into the text of all of them (one element of 900,000 characters froze the
## next frame for over a minute).
func test_a_text_given_as_an_array_is_refused() -> void:
	var probe := new_mod("TextAsArray", {"module": wat_module("text_as_array"), "safety_level": 1})
	var label := Label.new()
	label.name = "Text"
	probe.node.add_child(label)
	if not expect_eq(start(probe), OK, "start()"):
		return
	expect_eq(_call(probe, "set_text", [0, 100]), 0, "a String of 100 characters")
	expect_eq(label.text.length(), 100, "the text was set")
	expect_eq(_call(probe, "set_text", [1, 5000]), INVALID_ARGUMENT, "an Array holding 5,000 characters")
	expect_eq(_call(probe, "set_text", [2, 5000]), INVALID_ARGUMENT, "a PackedStringArray holding 5,000 characters")
	expect_eq(_call(probe, "set_text", [1, 5]), INVALID_ARGUMENT, "an Array holding 5 characters")
	expect_eq(label.text.length(), 100, "the text after the refusals")
	expect_eq(probe.node.get_status(), WasmScript.STATUS_RUNNING, "the mod runs on: %s" % probe.describe())


## BBCode in a RichTextLabel's text reaches past every limit (`[font_size]` made a glyph cache
## per size outside the font-size pool): a mod may set the text only while BBCode is off.
func test_the_text_of_a_rich_text_label_with_bbcode_on_is_refused() -> void:
	var probe := _started("RangeBBCode")
	var rich := RichTextLabel.new()
	rich.name = "Text"
	rich.bbcode_enabled = true
	probe.node.add_child(rich)
	expect_eq(_call(probe, "label_text", [10]), INVALID_ARGUMENT, "text of a BBCode label")
	expect_contains(_last_fail(probe), "`bbcode_enabled` is on", "the refusal")
	expect_eq(rich.text, "", "the text after the refusal")
	rich.bbcode_enabled = false
	expect_eq(_call(probe, "label_text", [10]), 0, "text of a plain label: %s" % _last_fail(probe))
	expect_eq(rich.text.length(), 10, "the text set")


func test_a_method_argument_outside_its_range_is_refused() -> void:
	var probe := _started("RangeFont")
	expect_eq(_call(probe, "font_size", [1000000]), INVALID_ARGUMENT, "add_theme_font_size_override(1000000)")
	expect_contains(_last_fail(probe), "add_theme_font_size_override[1]` takes a number from 1 to 512", "the refusal")
	var label := probe.node.get_node("Sized") as Label
	expect(not label.has_theme_font_size_override("font_size"), "no override was set")
	label.free()
	expect_eq(_call(probe, "font_size", [48]), 0, "add_theme_font_size_override(48)")
	expect_eq((probe.node.get_node("Sized") as Label).get_theme_font_size("font_size"), 48, "the size in range was set")


func test_a_looping_tween_without_time_per_loop_is_refused_and_killed_in_either_order() -> void:
	var probe := _started("LoopTween")
	for case in [[2147483647, 1], [2147483647, 0], [-1, 1], [-1, 0]]:
		var frame := Engine.get_process_frames()
		var code: Variant = _call(probe, "looping_tween", [case[0], 0.0, case[1], 1.0])
		expect_eq(code, INVALID_ARGUMENT, "looping_tween%s over a zero-length interval" % [case])
		expect_contains(_last_fail(probe), "must take at least 0.001 s of game time per loop", "the refusal")
		expect_eq(_call(probe, "looping_tween_valid"), 0, "the refused tween was killed")
		await frames(2)
		expect(Engine.get_process_frames() >= frame + 2, "frames go on after %s" % [case])
	# The speed scale shortens a loop: refused past the rule, the tween killed.
	expect_eq(_call(probe, "looping_tween", [-1, 0.5, 1, 1000.0]), INVALID_ARGUMENT, "0.5 s per loop at speed 1000")
	expect_eq(_call(probe, "looping_tween_valid"), 0, "the refused tween was killed")
	expect_eq(_call(probe, "looping_tween", [1, -1.0, 1, 1.0]), INVALID_ARGUMENT, "a negative interval")
	expect_eq(probe.node.get_status(), WasmScript.STATUS_RUNNING, "the mod runs on")
	await expect_frames_go_on("after the refused tweens")


func test_looping_tweens_that_take_time_run() -> void:
	var probe := _started("LoopTweenOk")
	expect_eq(_call(probe, "looping_tween", [-1, 0.01, 1, 1.0]), 0, "forever over 10 ms: %s" % _last_fail(probe))
	expect_eq(_call(probe, "looping_tween_valid"), 1, "the tween is valid")
	expect_eq(_call(probe, "looping_tween", [3, 0.0, 0, 1.0]), INVALID_ARGUMENT, "three loops of nothing are looping too")
	expect_eq(_call(probe, "looping_tween", [1, 0.0, 0, 1000.0]), 0, "one loop may take no time")
	expect_eq(_call(probe, "looping_tween", [5, 0.02, 1, 4.0]), 0, "5 ms per loop")
	expect_eq(_call(probe, "looping_tween_valid"), 1, "the tween is valid")
	await frames(3)
	expect_eq(probe.node.get_status(), WasmScript.STATUS_RUNNING, "the mod runs on")


## Godot ends the tweener of a freed object at once, leaving the frame's time to the next loop:
## a tween of a node for a second a loop, set to loop two million times, ran every loop in one
## frame once the node was freed. A looping tween's time now counts only tweeners whose target
## lives as long as the tween (the node it is bound to, a resource) and intervals.
func test_a_looping_tween_counts_only_tweeners_whose_target_cannot_vanish() -> void:
	var probe := _started("LoopTweenTarget")
	expect_eq(_call(probe, "looping_node_tween", [0, 2000000]), INVALID_ARGUMENT,
		"a tween of another node alone cannot loop")
	expect_contains(_last_fail(probe), "can be freed while the tween runs", "the refusal says why")
	expect_eq(_call(probe, "looping_tween_valid"), 0, "the refused tween was killed")
	expect_eq(_call(probe, "looping_node_tween", [0, 1]), 0, "nor loop once: %s" % _last_fail(probe))
	expect_eq(_call(probe, "looping_node_tween", [2, 2000000]), 0,
		"beside an interval it may: %s" % _last_fail(probe))
	expect_eq(_call(probe, "looping_node_tween", [1, 2000000]), 0,
		"a tween bound to the node it animates may: %s" % _last_fail(probe))
	expect_eq(_call(probe, "looping_tween_valid"), 1, "the bound tween runs")
	await frames(2)
	expect_eq(_call(probe, "free_loop_target"), 0, "the mod frees the animated node")
	await frames(3)
	expect_eq(_call(probe, "looping_tween_valid"), 0, "freeing the node killed its tween")
	expect_eq(probe.node.get_status(), WasmScript.STATUS_RUNNING, "the mod runs on")
	await expect_frames_go_on("after the node of a looping tween was freed")


## A tween of a resource the game made would change it for every node using it, as a `set`
## would (a label's `LabelSettings.font_color` hid the text of labels outside reach).
func test_a_tween_may_not_animate_a_resource_the_game_made() -> void:
	var probe := _started("TweenShared")
	var label := Label.new()
	label.name = "GameLabel"
	label.label_settings = LabelSettings.new()
	label.label_settings.font_color = Color.WHITE
	probe.node.add_child(label)
	expect_eq(_call(probe, "tween_label_settings", [0]), INVALID_ARGUMENT, "the game's LabelSettings")
	expect_contains(_last_fail(probe), "the game's `LabelSettings`", "the refusal names the resource")
	expect_eq(_call(probe, "tween_label_settings", [1]), 0, "its own: %s" % _last_fail(probe))
	await frames(6)
	expect_eq(label.label_settings.font_color, Color.WHITE, "the game's settings are unchanged")


func test_a_mods_values_of_a_property_add_up_to_its_total() -> void:
	var probe := _started("RangeTotal")
	# amount 1..2000 total 10000: five nodes at 2000 fill it (a thousand nodes at 2000 were
	# 250 ms a frame).
	expect_eq(_call(probe, "more_particles", [5, 2000]), 5, "particle nodes that took amount 2000")
	# A sixth node would bring its own amount (Godot's default, 8): not even made.
	expect_eq(_call(probe, "more_particles", [1, 1]), -3, "a new node in a full total")
	expect_contains(_last_fail(probe), "its `amount` of 8 would take this mod's values of `amount` to 10008", "the refusal")
	expect_eq(probe.node.get_node_or_null("More5"), null, "the refused node was not made")
	# A freed node counts no more.
	probe.node.get_node("More0").free()
	expect_eq(_call(probe, "particles_amount", [1000]), 0, "after a node was freed, its share is free again: %s" % _last_fail(probe))
	# 8000 + 1000, and a new node at 8 taking 2000: over.
	expect_eq(_call(probe, "more_particles", [1, 2000]), 0, "a node that took more than the room left")
	expect_contains(_last_fail(probe), "would add up to 11000, over the 10000 one mod may give it", "the refusal of the set")


func test_font_sizes_share_one_game_wide_pool_of_16_different_values() -> void:
	var output: Array = []
	var args := PackedStringArray(["--headless", "--path", ProjectSettings.globalize_path("res://"),
		"-s", "res://tests/font_pool/font_pool.gd"])
	var code := OS.execute(OS.get_executable_path(), args, output, true)
	var text := "\n".join(PackedStringArray(output))
	if not expect_contains(text, "done", "the font-pool process ran to its end"):
		return
	expect_eq(code, 0, "exit code (output:\n%s)" % text)
	for size in range(10, 26):
		expect_contains(text, "size %d -> 0" % size, "one of the first 16 sizes")
	expect_contains(text, "size 99 -> -3", "a 17th size")
	expect_contains(text, "mods have already used 16 different `font_size` values in this game", "the refusal")
	expect_contains(text, "size 12 -> 0", "a size already used")
	# The pool outlives the mod (the engine keeps the caches): a new instance gets the same.
	expect_eq(text.count("size 99 -> -3"), 2, "the new size, from a second instance after the first is gone")
	expect_contains(text, "size 20 -> 0", "an old size, from the second instance")


func test_a_method_that_adds_an_element_stops_at_the_allowlists_growth_limit() -> void:
	var probe := _started("Grower")
	await frames(2)
	# A Curve takes at most 1024 points from a mod (`grows = add_point get_point_count 1024`).
	expect_eq(_call(probe, "curve_points", [1100]), 1024, "points added: %s" % _last_fail(probe))
	expect_contains(_last_fail(probe), "`Curve.add_point` refused: the object already has 1024 elements (`get_point_count`)", "the refusal")
	expect_eq(_call(probe, "curve_points", [10]), 10, "another Curve has its own 1024")
