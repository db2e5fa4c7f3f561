## WasGo's demo game: an arena where players join over time, run by mods in six languages.
##
## The game exposes its own functions to mods (`WasmEngine.register_function`: `game.player_count`,
## `game.player_name`, `game.player_score`, `game.player_x/y`, `game.award`, `game.move_player`) and
## the signal `player_joined(name, index)`. Each example mod (`res://demo/mods/`, built by
## `cargo xtask mods`) does something you can see:
##
## | mod | language | does |
## |---|---|---|
## | mover | Rust | moves every player around a circle each frame; greets joiners via `player_joined` |
## | decorator | Rust | adds to the arena: a sprite from its own PNG, its own sound when a player scores, a minimap it draws |
## | scorekeeper | C | each second, +10 to the player nearest the star (`mod_event("award", ...)`) |
## | greeter | Zig | welcomes every player who joins, by name |
## | leaderboard | AssemblyScript | every 2 s posts the standings as `mod_event("leaderboard", ...)` |
## | archivist | Go | saves the record to `user://mods/archivist/highscore.txt` (level 2, `files`) |
## | bonus | WAT | every 1.5 s, +5 to the newest player |
## | announcer | Go (`GOOS=js`) | announces each joiner from a `js.FuncOf` signal handler; crowns the winner (`call_export("spotlight")`) |
## | ranker | Rust (waPC) | answers `invoke("rank", ...)` every 2 s; calls the game's waPC operation `arena/hud/banner` |
## | hostile | Rust | tries a file at level 1, an endless loop and unbounded memory, one node each |
##
## It prints a transcript (`[  1.20s] greeter (Zig): ...`). Headless (`cargo xtask run`), the round
## lasts ROUND_S, then the demo checks that every mod acted and the hostile mod was contained,
## prints its verdict and quits with 0 only if all held. With a window it stays open.
extends Node2D

signal player_joined(player_name: String, index: int)

const MODS_DIR := "res://demo/mods/"
const PLAYER_NAMES := ["Ada", "Bo", "Cy", "Dee", "Eve", "Fin"]
const PLAYER_COLORS := [Color.TOMATO, Color.GOLD, Color.MEDIUM_SEA_GREEN, Color.DODGER_BLUE, Color.ORCHID, Color.ORANGE]
const JOIN_EVERY_S := 0.6
const ROUND_S := 7.0
## When the hostile mod tries each trick (seconds into the round), and the export it calls.
const HOSTILE_TRICKS := [
	{"at": 1.5, "node": "files", "export": "steal_file"},
	{"at": 2.5, "node": "spin", "export": "spin_forever"},
	{"at": 3.5, "node": "memory", "export": "eat_memory"},
]
const RECORD_FILE := "user://mods/archivist/highscore.txt"
const RANK_EVERY_S := 2.0
## The circle the mover mod keeps the players on (see mods/examples/rust/src/lib.rs).
const CIRCLE_CENTER := Vector2(320, 180)
const CIRCLE_RADIUS := 120.0
const GAME_FUNCTIONS := [
	# name, method, params, results
	["player_count", "_player_count", [], ["i32"]],
	["player_name", "_player_name", ["i32"], ["string"]],
	["player_score", "_player_score", ["i32"], ["i32"]],
	["player_x", "_player_x", ["i32"], ["f32"]],
	["player_y", "_player_y", ["i32"], ["f32"]],
	["award", "_award", ["i32", "i32"], ["i32"]],
	["move_player", "_move_player", ["i32", "f32", "f32"], ["i32"]],
]

## Player records: {"name", "score", "node", "spawn"}.
var players: Array[Dictionary] = []
## Every transcript line, in order (also printed).
var transcript: PackedStringArray = []
## What each mod did, for the verdict: mod name → list of things seen.
var seen := {}

var _clock := 0.0
## The round starts once every mod is compiled (they compile in the background).
var _open := false
var _next_join := 0.3
var _next_rank := RANK_EVERY_S
## The leader the waPC ranker last put on the banner (through `arena/hud/banner`).
var _banner := ""
var _tricks_done := 0
var _round_over := false
var _frames_after_hostility := 0
var _mods := {}
## Mods heard from after the last hostile trick.
var _acted_after_hostility := {}
var _transcript_label: Label
var _board_label: Label
@onready var _players_node: Node2D = $Players
@onready var _mods_node: Node = $Mods


func _ready() -> void:
	_build_hud()
	_fresh_season()
	for f: Array in GAME_FUNCTIONS:
		var error := WasmEngine.register_function("game", f[0], Callable(self, f[1]),
			PackedStringArray(f[2]), PackedStringArray(f[3]), 1)
		if error != OK:
			_say("game", "cannot register game.%s: %s" % [f[0], WasmEngine.get_last_error()])
	var wapc_error := WasmEngine.register_wapc_handler("arena", "hud", "banner", _on_banner, 1)
	if wapc_error != OK:
		_say("game", "cannot register arena/hud/banner: %s" % WasmEngine.get_last_error())
	# Level 2 for the archivist's files; every other mod asks for level 1 on its node.
	ProjectSettings.set_setting("wasgo/safety/level", 2)
	# Two Go mods of about 2 MB each compile at once in the background: allow them two minutes
	# on a slow or busy machine (and in a debug build of the extension) instead of 30 s.
	ProjectSettings.set_setting("wasgo/limits/compile_timeout_ms", 120000)
	_list_mods()
	_add_mod("mover", "Rust", 1)
	_add_mod("decorator", "Rust", 1)
	_add_mod("scorekeeper", "C", 1)
	_add_mod("greeter", "Zig", 1)
	_add_mod("leaderboard", "AssemblyScript", 1)
	_add_mod("archivist", "Go", 2, ["files"])
	_add_mod("bonus", "WAT", 1)
	_add_mod("announcer", "Go-js", 1)
	_add_mod("ranker", "waPC Rust", 1)
	for trick: Dictionary in HOSTILE_TRICKS:
		_add_mod("hostile", "Rust", 1, [], trick["node"], {"memory_limit_mb": 16})
	# A mod's `wasm_file` compiles on a background thread (the frames keep coming); the round
	# waits for every mod to have started.
	for node: Node in _mods.values():
		while node.get_status() == WasmScript.STATUS_LOADING:
			await node.loaded
	_open = true
	_say("game", "the arena opens; mods loaded: %d (safety level 1, the archivist at 2)" % _mods.size())


## Lists the demo's mods the way a game lists a mods folder (`WasmEngine.scan_mods`): each
## one's manifest and any problem found, without running any of them. Compiling them here also
## makes starting them below instant (the engine caches compiled modules).
func _list_mods() -> void:
	var found := WasmEngine.scan_mods(MODS_DIR.trim_suffix("/"))
	for m: Dictionary in found:
		var manifest: Dictionary = m["manifest"]
		var problems: PackedStringArray = m["problems"]
		_say("game", "found mod %s: %s %s, %s, asks for level %d, %d bytes%s" % [m["id"],
			manifest.get("name", "?"), manifest.get("version", "?"), m["guest_kind"], m["level"],
			m["size"], "" if problems.is_empty() else " — " + "; ".join(problems)])
	_say("game", "scan_mods found %d mods in %s" % [found.size(), MODS_DIR])


func _exit_tree() -> void:
	for f: Array in GAME_FUNCTIONS:
		WasmEngine.unregister_function("game", f[0])
	WasmEngine.unregister_wapc_handler("arena", "hud", "banner")


func _process(delta: float) -> void:
	if not _open:
		return
	_clock += delta
	if _round_over:
		return
	if _clock >= _next_join and players.size() < PLAYER_NAMES.size():
		_next_join += JOIN_EVERY_S
		_join(players.size())
	if _clock >= _next_rank:
		_next_rank += RANK_EVERY_S
		_rank()
	if _tricks_done < HOSTILE_TRICKS.size() and _clock >= HOSTILE_TRICKS[_tricks_done]["at"]:
		_hostile_trick(HOSTILE_TRICKS[_tricks_done])
		_tricks_done += 1
	elif _tricks_done == HOSTILE_TRICKS.size():
		_frames_after_hostility += 1
	_update_board()
	if _clock >= ROUND_S:
		_end_round()


# --- the game's functions, as mods see them -----------------------------------------------

func _player_count() -> int:
	return players.size()


func _player_name(index: int) -> String:
	return players[index]["name"] if _valid(index) else ""


func _player_score(index: int) -> int:
	return players[index]["score"] if _valid(index) else -1


func _player_x(index: int) -> float:
	return players[index]["node"].position.x if _valid(index) else 0.0


func _player_y(index: int) -> float:
	return players[index]["node"].position.y if _valid(index) else 0.0


func _award(index: int, points: int) -> int:
	if not _valid(index) or points < 0 or points > 100:
		return -1
	players[index]["score"] += points
	return players[index]["score"]


func _move_player(index: int, x: float, y: float) -> int:
	if not _valid(index):
		return -1
	players[index]["node"].position = Vector2(clampf(x, 0, 640), clampf(y, 0, 360))
	return 0


func _valid(index: int) -> bool:
	return index >= 0 and index < players.size()


## The waPC operation `arena/hud/banner`: the ranker names the leader.
func _on_banner(payload: PackedByteArray) -> Variant:
	var text := payload.get_string_from_utf8()
	if text.length() > 80:
		return "a banner holds at most 80 characters"
	_banner = text
	_mod_said("ranker", "ranker (waPC Rust)", "banner: " + text)
	return PackedByteArray()


# --- the round ------------------------------------------------------------------------------

func _join(index: int) -> void:
	var player_name: String = PLAYER_NAMES[index]
	var node := Node2D.new()
	node.name = player_name
	var spawn := Vector2(60 + 100 * index, 320)
	node.position = spawn
	var body := Polygon2D.new()
	body.polygon = PackedVector2Array([Vector2(-12, -12), Vector2(12, -12), Vector2(12, 12), Vector2(-12, 12)])
	body.color = PLAYER_COLORS[index]
	node.add_child(body)
	var label := Label.new()
	label.text = player_name
	label.position = Vector2(-14, 14)
	node.add_child(label)
	_players_node.add_child(node)
	players.append({"name": player_name, "score": 0, "node": node, "spawn": spawn})
	_say("game", "%s joins the arena" % player_name)
	player_joined.emit(player_name, index)


func _hostile_trick(trick: Dictionary) -> void:
	var node: Node = _mods["hostile: " + trick["node"]]
	_say("game", "the hostile mod tries `%s`" % trick["export"])
	var result: Variant = node.call_export(trick["export"], [])
	if result == null and node.get_last_error() != "":
		_note("hostile: " + trick["node"], "call_export failed: " + node.get_last_error())


## Asks the waPC ranker for the standings (`invoke("rank", "name=score" lines)`).
func _rank() -> void:
	var ranker: Node = _mods.get("ranker")
	if ranker == null or players.is_empty():
		return
	var lines: PackedStringArray = []
	for p: Dictionary in players:
		lines.append("%s=%d" % [p["name"], p["score"]])
	var reply: PackedByteArray = ranker.invoke("rank", "\n".join(lines).to_utf8_buffer())
	if reply.is_empty():
		_note("ranker", "invoke failed: " + ranker.get_last_error())
		_say("ranker (waPC Rust)", "invoke(\"rank\") failed: " + ranker.get_last_error())
	else:
		_mod_said("ranker", "ranker (waPC Rust)", "rank: " + reply.get_string_from_utf8())


func _end_round() -> void:
	_round_over = true
	_say("game", "the round is over after %.1f s and %d frames of mods at work" % [_clock, Engine.get_process_frames()])
	var archivist: Node = _mods.get("archivist")
	if archivist and archivist.is_running():
		archivist.call_export("report", [])
	var ranking := players.duplicate()
	ranking.sort_custom(func(a: Dictionary, b: Dictionary) -> bool: return a["score"] > b["score"])
	var announcer: Node = _mods.get("announcer")
	if announcer and not ranking.is_empty():
		var crowned: Variant = announcer.call_export("spotlight", [ranking[0]["name"], ranking[0]["score"]])
		if crowned == null:
			_say("announcer (Go-js)", "spotlight failed: " + announcer.get_last_error())
	for i in ranking.size():
		_say("game", "final #%d: %s with %d points" % [i + 1, ranking[i]["name"], ranking[i]["score"]])
	var problems := _verdict()
	for problem in problems:
		_say("verdict", "MISSING: " + problem)
	if problems.is_empty():
		_say("verdict", "every mod acted and the hostile mod was contained; the game never stopped")
	if DisplayServer.get_name() == "headless":
		for node: Node in _mods.values():
			if node.is_running():
				node.kill()
		# What the mods created goes at the end of this frame. A sound one was playing is let go
		# only by the audio thread's next mix (a few ms): quitting before that makes Godot report
		# its playback as leaked, so the demo gives the mixer a quarter of a second.
		await get_tree().create_timer(0.25).timeout
		get_tree().quit(0 if problems.is_empty() else 1)
	# With a window the mods play on until it is closed.


## What should have happened; one line per thing that did not.
func _verdict() -> PackedStringArray:
	var problems: PackedStringArray = []
	var want := {
		"mover": "joined, into the circle",
		"decorator": "played its own sound",
		"scorekeeper": "scorekeeper: +10",
		"greeter": "welcome to the arena",
		"leaderboard": "leaderboard #",
		"archivist": "new record",
		"bonus": "bonus: +5",
		"announcer": "now entering the arena",
		"ranker": "rank: 1. ",
	}
	for mod_name: String in want:
		if not _saw(mod_name, want[mod_name]):
			problems.append("%s never showed `%s`" % [mod_name, want[mod_name]])
	for line: String in ["spawned a sprite from its own PNG", "minimap drawn with"]:
		if not _saw("decorator", line):
			problems.append("decorator never showed `%s`" % line)
	var banner := _mods["decorator"].get_node_or_null("Banner") as Sprite2D
	if banner == null or banner.texture == null or banner.texture.get_size() != Vector2(16, 16):
		problems.append("the decorator's sprite with its own 16x16 PNG is not in the arena")
	var ding := _mods["decorator"].get_node_or_null("Ding") as AudioStreamPlayer
	if ding == null or ding.stream == null or absf(ding.stream.get_length() - 0.2) > 0.001:
		problems.append("the decorator's player with its own 0.2 s sound is not in the arena")
	var greetings := 0
	for line in seen.get("greeter", []):
		if line.contains("welcome to the arena"):
			greetings += 1
	if greetings != players.size():
		problems.append("greeter welcomed %d of %d players" % [greetings, players.size()])
	var announced := 0
	for line in seen.get("announcer", []):
		if line.contains("now entering the arena"):
			announced += 1
	if announced != players.size():
		problems.append("announcer announced %d of %d players" % [announced, players.size()])
	if not _saw("announcer", "takes the crown"):
		problems.append("announcer crowned nobody (`spotlight`)")
	if _banner == "":
		problems.append("ranker never called arena/hud/banner")
	if not FileAccess.file_exists(RECORD_FILE):
		problems.append("archivist saved no %s" % RECORD_FILE)
	for trick: Dictionary in HOSTILE_TRICKS:
		var who: String = "hostile: " + trick["node"]
		if not _saw(who, "trapped"):
			problems.append("%s was not stopped" % who)
	if not _saw("hostile: files", "unexposed_call wasgo.file_read at level 1"):
		problems.append("the file read at level 1 did not emit unexposed_call")
	if _frames_after_hostility < 10:
		problems.append("the game ran only %d frames after the hostile tricks" % _frames_after_hostility)
	for mod_name in ["scorekeeper", "leaderboard", "bonus", "ranker"]:
		if not _acted_after_hostility.has(mod_name):
			problems.append("%s did not go on after the hostile tricks" % mod_name)
	var off_circle := 0
	for p: Dictionary in players:
		if absf(p["node"].position.distance_to(CIRCLE_CENTER) - CIRCLE_RADIUS) > 2.0:
			off_circle += 1
	if players.is_empty() or off_circle > 0:
		problems.append("mover left %d of %d players off its circle" % [off_circle, players.size()])
	return problems


func _saw(mod_name: String, text: String) -> bool:
	for line: String in seen.get(mod_name, []):
		if line.contains(text):
			return true
	return false


## Clears last run's record, so each run starts a season of its own.
func _fresh_season() -> void:
	if FileAccess.file_exists(RECORD_FILE):
		DirAccess.remove_absolute(RECORD_FILE)
		_say("game", "a fresh season: last run's %s is cleared" % RECORD_FILE)


# --- mods -----------------------------------------------------------------------------------

func _add_mod(file: String, language: String, level: int, permissions: Array = [], role := "",
		properties := {}) -> Node:
	var mod_name := file if role == "" else "%s: %s" % [file, role]
	var node := WasmScript.new()
	node.name = mod_name.replace(": ", "_")
	node.wasm_file = MODS_DIR + file + ".wasm"
	node.safety_level = level
	for key: String in properties:
		node.set(key, properties[key])
	for kind: String in permissions:
		node.grant_permission(kind)
	var label := "%s (%s)" % [mod_name, language]
	node.output.connect(func(text: String) -> void: _mod_said(mod_name, label, text))
	node.trapped.connect(func(message: String) -> void: _mod_said(mod_name, label, "trapped: " + message))
	node.killed.connect(func(reason: String) -> void: _mod_said(mod_name, label, "killed: " + reason))
	node.finished.connect(func(code: int) -> void: _mod_said(mod_name, label, "finished with exit code %d" % code))
	node.unexposed_call.connect(func(function: String, at_level: int) -> void: _mod_said(mod_name, label, "unexposed_call %s at level %d" % [function, at_level]))
	node.mod_event.connect(func(event: String, payload: Variant) -> void: _mod_event(mod_name, label, event, payload))
	_mods[mod_name] = node
	_mods_node.add_child(node)  # autostart: instantiated now; `ready` runs, then `process` every frame
	return node


func _mod_said(mod_name: String, label: String, text: String) -> void:
	_note(mod_name, text)
	# A trap message goes on with a wasm backtrace; its first line says what happened.
	_say(label, text.get_slice("\n", 0))


func _mod_event(mod_name: String, label: String, event: String, payload: Variant) -> void:
	_note(mod_name, "event " + event)
	if event == "leaderboard" and payload is Array:
		var parts: PackedStringArray = []
		for entry: Variant in payload:
			if entry is Dictionary:
				parts.append("%s %s" % [entry.get("name", "?"), entry.get("score", "?")])
		_board_label.text = "Leaderboard (from the AssemblyScript mod)\n" + "\n".join(parts)
		_say(label, "mod_event leaderboard: " + ", ".join(parts))
	elif event == "award" and payload is Dictionary:
		_say(label, "mod_event award: %s +%s = %s" % [payload.get("player"), payload.get("points"), payload.get("total")])
	else:
		_say(label, "mod_event %s: %s" % [event, var_to_str(payload)])


func _note(mod_name: String, text: String) -> void:
	if not seen.has(mod_name):
		seen[mod_name] = []
	seen[mod_name].append(text)
	if _tricks_done == HOSTILE_TRICKS.size():
		_acted_after_hostility[mod_name] = true


# --- display --------------------------------------------------------------------------------

func _say(who: String, text: String) -> void:
	var line := "[%6.2fs] %s: %s" % [_clock, who, text]
	transcript.append(line)
	print(line)
	if _transcript_label:
		var shown := transcript.slice(maxi(0, transcript.size() - 30))
		_transcript_label.text = "\n".join(shown)


func _build_hud() -> void:
	_transcript_label = Label.new()
	_transcript_label.position = Vector2(660, 10)
	_transcript_label.size = Vector2(480, 630)
	_transcript_label.clip_text = true
	_transcript_label.add_theme_font_size_override("font_size", 11)
	$Hud.add_child(_transcript_label)
	_board_label = Label.new()
	_board_label.position = Vector2(10, 10)
	_board_label.text = "Leaderboard"
	$Hud.add_child(_board_label)


func _update_board() -> void:
	if _board_label.text.begins_with("Leaderboard (from"):
		return
	var parts: PackedStringArray = []
	for p: Dictionary in players:
		parts.append("%s %d" % [p["name"], p["score"]])
	_board_label.text = "Scores\n" + "\n".join(parts)
