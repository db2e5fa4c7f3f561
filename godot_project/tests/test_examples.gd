## The example mods of `mods/examples/` (built into `res://demo/mods/` by `cargo xtask mods`), one
## test each: every mod runs against a small stand-in for the demo's game and the test checks
## what it did to the game (moved nodes, awards, events, a saved file, traps).
extends "res://tests/lib/wasgo_test.gd"

const EXAMPLES := "res://demo/mods/"
const RECORD_FILE := "user://mods/archivist/highscore.txt"

## The stand-in game: players with a name, a score and a node, and the calls mods made.
var players: Array[Dictionary] = []
var awards: Array = []
var events: Array = []
var _scene: Node2D


func cleanup() -> void:
	super.cleanup()
	if _scene != null and is_instance_valid(_scene):
		if tree.current_scene == _scene:
			tree.current_scene = null
		_scene.free()
	_scene = null


## The arena the demo's mods expect: Arena (with signal `player_joined(name, index)`)
## / {Players/<one Node2D per player>, Mods}; and the `game.*` functions of the demo.
func arena(names: Array, scores: Array, positions: Array) -> void:
	_scene = Node2D.new()
	_scene.name = "Arena"
	_scene.add_user_signal("player_joined", [{"name": "player_name", "type": TYPE_STRING}, {"name": "index", "type": TYPE_INT}])
	var holder := Node2D.new()
	holder.name = "Players"
	_scene.add_child(holder)
	var mods := Node.new()
	mods.name = "Mods"
	_scene.add_child(mods)
	tree.root.add_child(_scene)
	# As in the demo, where Arena is the main scene: the mods' default reach.
	tree.current_scene = _scene
	for i in names.size():
		add_player(names[i], scores[i], positions[i])
	var functions := [
		["player_count", func() -> int: return players.size(), [], ["i32"]],
		["player_name", func(i: int) -> String: return players[i]["name"], ["i32"], ["string"]],
		["player_score", func(i: int) -> int: return players[i]["score"], ["i32"], ["i32"]],
		["player_x", func(i: int) -> float: return players[i]["node"].position.x, ["i32"], ["f32"]],
		["player_y", func(i: int) -> float: return players[i]["node"].position.y, ["i32"], ["f32"]],
		["award", _award, ["i32", "i32"], ["i32"]],
		["move_player", _move_player, ["i32", "f32", "f32"], ["i32"]],
	]
	for f: Array in functions:
		expect_eq(register_game_function("game", f[0], f[1], PackedStringArray(f[2]), PackedStringArray(f[3]), 1), OK, "register game.%s" % f[0])


func add_player(player_name: String, score: int, position: Vector2) -> void:
	var node := Node2D.new()
	node.name = player_name
	node.position = position
	_scene.get_node("Players").add_child(node)
	players.append({"name": player_name, "score": score, "node": node})


func _move_player(index: int, x: float, y: float) -> int:
	players[index]["node"].position = Vector2(x, y)
	return 0


func _award(index: int, points: int) -> int:
	awards.append([players[index]["name"], points])
	players[index]["score"] += points
	return players[index]["score"]


## The example `file` as a mod under Arena/Mods, started (it lives on its callbacks).
func example(file: String, properties := {}) -> ModProbe:
	var props := {"wasm_file": EXAMPLES + file + ".wasm"}
	props.merge(properties, true)
	var probe := new_mod(file, props)
	probe.node.mod_event.connect(func(event: String, payload: Variant) -> void: events.append([event, payload]))
	_scene.get_node("Mods").add_child(probe.node)
	expect_eq(probe.node.start(), OK, "start() of %s: %s" % [file, probe.node.get_last_error()])
	return probe


func no_traps(probe: ModProbe) -> void:
	expect_eq(probe.traps, PackedStringArray(), "traps of %s" % probe.node.name)

## The line starting with `prefix` that the `long_line` export logged: 1022 bytes, the 3-byte
## character at bytes 1022..1024 left out whole.
func expect_whole_characters_cut(probe: ModProbe, prefix: String) -> void:
	var lines := probe.outputs_starting_with(prefix + "xxxxxxxx")
	if expect_eq(lines.size(), 1, "long lines: %s" % probe.describe()):
		expect_eq(lines[0].to_utf8_buffer().size(), 1022, "bytes of the cut line")
		expect_eq(lines[0], prefix + "x".repeat(1022 - prefix.length()), "the cut line")



func test_rust_mover_moves_nodes_reads_positions_and_handles_a_signal() -> void:
	arena(["Ada", "Bo"], [0, 0], [Vector2(10, 10), Vector2(600, 300)])
	var probe := example("mover")
	await frames(40)
	for p: Dictionary in players:
		var distance: float = p["node"].position.distance_to(Vector2(320, 180))
		expect(absf(distance - 120.0) < 2.0, "%s is %.1f px from the circle's center, not 120: %s" % [p["name"], distance, probe.describe()])
	_scene.emit_signal("player_joined", "Zed", 2)
	await frames(2)
	expect(probe.has_output("mover: Zed joined, into the circle you go"), "the signal's closure did not run: %s" % probe.describe())
	no_traps(probe)


func test_c_scorekeeper_awards_the_player_nearest_the_star_and_emits_a_dictionary() -> void:
	arena(["Far", "Near"], [0, 0], [Vector2(0, 360), Vector2(320, 50)])
	var probe := example("scorekeeper")
	expect(await wait_until(func() -> bool: return not awards.is_empty(), 3000), "no award within 3 s: %s" % probe.describe())
	expect_eq(awards.slice(0, 1), [["Near", 10]], "first award")
	expect(probe.has_output("scorekeeper: +10 to Near"), "no award line: %s" % probe.describe())
	await frames(2)
	expect_eq(events.slice(0, 1), [["award", {"player": "Near", "points": 10, "total": 10}]], "mod_event from the C Variant writer")
	no_traps(probe)

## The line passes 1 KiB with a three-byte character across wasgo_logf's cut: the SDK cuts before
## it (the host traps on text that is not UTF-8).
func test_c_scorekeeper_cuts_a_long_line_before_a_split_character() -> void:
	arena(["Ada"], [0], [Vector2.ZERO])
	var probe := example("scorekeeper")
	probe.node.call_export("long_line", [])
	await frames(2)
	expect_whole_characters_cut(probe, "scorekeeper: ")
	no_traps(probe)



func test_zig_greeter_runs_main_then_welcomes_each_player_once() -> void:
	arena(["Ada", "Bo"], [0, 0], [Vector2.ZERO, Vector2.ZERO])
	var probe := example("greeter")
	expect(await wait_until(func() -> bool: return not probe.finished.is_empty(), 3000), "main did not finish: %s" % probe.describe())
	expect_eq(probe.finished, [0], "exit codes of main")
	await frames(5)
	add_player("Cy", 0, Vector2.ZERO)
	await frames(5)
	var greetings := probe.outputs_starting_with("greeter: welcome to the arena")
	expect_eq(greetings, PackedStringArray([
		"greeter: welcome to the arena, Ada! you are player #1",
		"greeter: welcome to the arena, Bo! you are player #2",
		"greeter: welcome to the arena, Cy! you are player #3"]), "greetings")
	no_traps(probe)

## As the C one: `wasgo.logf` cuts before a character its 1 KiB buffer splits.
func test_zig_greeter_cuts_a_long_line_before_a_split_character() -> void:
	arena(["Ada"], [0], [Vector2.ZERO])
	var probe := example("greeter")
	expect(await wait_until(func() -> bool: return not probe.finished.is_empty(), 3000), "main did not finish: %s" % probe.describe())
	probe.node.call_export("long_line", [])
	await frames(2)
	expect_whole_characters_cut(probe, "greeter: ")
	no_traps(probe)



func test_assemblyscript_leaderboard_posts_the_standings_as_a_mod_event() -> void:
	arena(["Ada", "Bo", "Cy"], [5, 30, 12], [Vector2.ZERO, Vector2.ZERO, Vector2.ZERO])
	var probe := example("leaderboard")
	expect(await wait_until(func() -> bool: return not events.is_empty(), 4000), "no mod_event within 4 s: %s" % probe.describe())
	expect_eq(events.slice(0, 1), [["leaderboard", [
		{"name": "Bo", "score": 30}, {"name": "Cy", "score": 12}, {"name": "Ada", "score": 5}]]], "the leaderboard event")
	expect(probe.has_output("leaderboard #1 posted: 1. Bo 30, 2. Cy 12, 3. Ada 5"), "no leaderboard line: %s" % probe.describe())
	no_traps(probe)

## A lone surrogate (half an emoji) in a log line, a function name, an event's name and a String
## it carries reaches the host as U+FFFD, not as bytes that are not UTF-8 (which trap).
func test_assemblyscript_leaderboard_sends_a_lone_surrogate_as_the_replacement_character() -> void:
	arena(["Ada"], [0], [Vector2.ZERO])
	var probe := example("leaderboard")
	probe.node.call_export("half_emoji", [])
	await frames(2)
	expect(probe.has_output("leaderboard: half an emoji \uFFFD"), "no half-emoji line: %s" % probe.describe())
	expect(not probe.has_output("half-emoji function?"), "has_function found a half-emoji name")
	expect_eq(events, [["half\uFFFD", "emoji \uFFFD"]], "the half-emoji mod_event")
	no_traps(probe)



func test_go_archivist_saves_the_record_at_level_two() -> void:
	if FileAccess.file_exists(RECORD_FILE):
		DirAccess.remove_absolute(RECORD_FILE)
	set_setting(SAFETY_LEVEL, 2)
	arena(["Ada", "Bo"], [7, 42], [Vector2.ZERO, Vector2.ZERO])
	var probe := new_mod("archivist", {"wasm_file": EXAMPLES + "archivist.wasm", "safety_level": 2})
	probe.node.grant_permission("files")
	_scene.get_node("Mods").add_child(probe.node)
	expect_eq(probe.node.start(), OK, "start()")
	var saved: bool = await wait_until(func() -> bool: return FileAccess.file_exists(RECORD_FILE), 3000)
	if expect(saved, "no %s within 3 s: %s" % [RECORD_FILE, probe.describe()]):
		expect_eq(FileAccess.get_file_as_string(RECORD_FILE), "Bo 42\n", "the record file")
	probe.node.call_export("report", [])
	await frames(2)
	expect(probe.has_output("archivist: round over, highscore.txt holds: Bo 42"), "report: %s" % probe.describe())
	probe.node.call_export("files", [])
	await frames(2)
	expect(probe.has_output("archivist: the sandbox holds highscore.txt"), "files (the Go SDK's FileList): %s" % probe.describe())
	# A record file a player edited into bytes that are not UTF-8: the Go SDK's Log passes
	# U+FFFD (the host stops a mod that logs such bytes).
	var f := FileAccess.open(RECORD_FILE, FileAccess.WRITE)
	f.store_buffer(PackedByteArray([90, 0xE9, 32, 52, 48, 10]))
	f.close()
	probe.node.call_export("report", [])
	await frames(2)
	expect(probe.has_output("highscore.txt holds: Z\uFFFD 40"), "report of bytes that are not UTF-8: %s" % probe.describe())
	no_traps(probe)


func test_wat_bonus_gives_the_newest_player_five_points() -> void:
	arena(["Ada", "Bo", "Cy"], [0, 0, 0], [Vector2.ZERO, Vector2.ZERO, Vector2.ZERO])
	var probe := example("bonus")
	expect(await wait_until(func() -> bool: return not awards.is_empty(), 3000), "no award within 3 s: %s" % probe.describe())
	expect_eq(awards.slice(0, 1), [["Cy", 5]], "first award")
	expect(probe.has_output("bonus: +5 for the newest player"), "no bonus line: %s" % probe.describe())
	no_traps(probe)


func test_hostile_mod_is_contained_three_ways_while_a_neighbour_goes_on() -> void:
	arena(["Ada"], [0], [Vector2.ZERO])
	set_setting(SAFETY_LEVEL, 1)
	var neighbour := example("greeter")
	var tricks := {
		"steal_file": "call to `wasgo.file_read`, which is not exposed at safety level 1",
		"spin_forever": "overran its callback budget",
		"eat_memory": "memory limit exceeded",
	}
	for export_name: String in tricks:
		var probe := example("hostile", {"memory_limit_mb": 16})
		probe.node.call_export(export_name, [])
		await frames(2)
		if expect_eq(probe.traps.size(), 1, "traps after %s (%s)" % [export_name, probe.describe()]):
			expect_contains(probe.traps[0], tricks[export_name], "trap message of %s" % export_name)
		expect_eq(probe.node.get_status(), WasmScript.STATUS_TRAPPED, "status after %s" % export_name)
		if export_name == "steal_file":
			expect_eq(probe.unexposed, [["wasgo.file_read", 1]], "unexposed_call after steal_file")
		if export_name == "eat_memory" and not probe.traps.is_empty():
			# Built as the template builds it (name section kept), the backtrace names its frames,
			# Rust paths demangled.
			var trace: String = probe.traps[0]
			expect_contains(trace, "eat_memory", "backtrace of eat_memory")
			expect_contains(trace, "::", "backtrace of eat_memory (a demangled Rust path)")
			expect(not trace.contains("<function #"), "a frame without its name: %s" % trace)
			expect(not trace.contains("_ZN"), "a mangled frame: %s" % trace)
		await expect_frames_go_on(export_name)
	add_player("Bo", 0, Vector2.ZERO)
	await frames(3)
	expect(neighbour.has_output("welcome to the arena, Bo!"), "the neighbour stopped greeting: %s" % neighbour.describe())
	no_traps(neighbour)


func test_rust_decorator_shows_its_png_plays_its_sound_on_a_score_and_draws_a_minimap() -> void:
	arena(["Ada", "Bo"], [0, 0], [Vector2(10, 10), Vector2(600, 300)])
	var probe := example("decorator")
	await frames(2)
	var banner := probe.node.get_node_or_null("Banner") as Sprite2D
	if not expect(banner != null and banner.texture != null, "the decorator's sprite: %s" % probe.describe()):
		return
	var image := banner.texture.get_image()
	expect_eq(image.get_size(), Vector2i(16, 16), "its embedded PNG's size")
	expect_eq(image.get_pixel(8, 8).a, 1.0, "the diamond's centre is opaque")
	expect_eq(image.get_pixel(0, 0).a, 0.0, "the corner is transparent")
	var ding := probe.node.get_node_or_null("Ding") as AudioStreamPlayer
	if not expect(ding != null and ding.stream is AudioStreamWAV, "the decorator's player with its own WAV"):
		return
	expect(absf(ding.stream.get_length() - 0.2) < 0.001, "stream length %f s, want 0.2" % ding.stream.get_length())
	expect(not ding.playing, "no sound before anyone scores")
	players[1]["score"] += 10
	var played: bool = await wait_until(func() -> bool: return ding.playing, 2000)
	expect(played, "the sound plays when a player scores: %s" % probe.describe())
	var drawn: bool = await wait_until(func() -> bool: return probe.has_output("decorator: minimap drawn with 2 players"), 2000)
	expect(drawn, "the minimap's draw callback ran: %s" % probe.describe())
	no_traps(probe)
	probe.node.kill()
	await frames(2)
	expect_eq(probe.node.get_child_count(), 0, "its sprite, player and minimap went with it")
	expect(not is_instance_valid(banner) and not is_instance_valid(ding), "the nodes it created were freed")
