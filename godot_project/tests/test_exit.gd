## What a game leaves behind when it quits never crashes it at exit: started mods on nodes it
## leaked (never in the tree, never freed: the epoch ticker's thread outlived the library and
## crashed; also with `killed` handlers connected), and GDScript lambdas it registered as game functions or waPC handlers and never
## unregistered (dropped after GDScript shut down, they were freed twice). Each case runs in its
## own Godot process (`tests/exit/exit_after.gd`), which must exit with code 0.
extends "res://tests/lib/wasgo_test.gd"


func _run_exit(mode: String, verbose := false) -> String:
	var output: Array = []
	var args := PackedStringArray(["--headless", "--path", ProjectSettings.globalize_path("res://"),
		"-s", "res://tests/exit/exit_after.gd", "--", mode])
	if verbose:
		# Godot names unclaimed StringNames at exit only when verbose.
		args.insert(0, "--verbose")
	var code := OS.execute(OS.get_executable_path(), args, output, true)
	var text := "\n".join(PackedStringArray(output))
	expect_contains(text, "quitting", "the `%s` process ran to its quit()" % mode)
	expect_eq(code, 0, "exit code of a game quitting with %s left behind (output:\n%s)" % [mode, text])
	return text


func test_a_game_that_leaked_started_mods_exits_cleanly() -> void:
	_run_exit("orphan")


func test_a_game_that_leaked_started_mods_with_killed_handlers_exits_cleanly() -> void:
	# Their `killed` handlers are GDScript lambdas: WasGo's kill at shutdown must not call into
	# GDScript after it shut down.
	_run_exit("orphan_handlers")


func test_a_game_that_left_lambdas_registered_exits_cleanly() -> void:
	_run_exit("lambdas")


## A game quitting while a large mod compiles in the background does not wait for the compile
## (it waited up to `wasgo/limits/compile_timeout_ms`, 30 s by default): the library stays mapped
## until the process ends, so the compile is left to end with it. Seen from outside: the compile
## never finished, as its disk cache file was never written.
func test_a_game_quitting_during_a_compile_does_not_wait_for_it() -> void:
	var text := _run_exit("compiling")
	expect_contains(text, "compile done at quit: false", "the compile was still running at quit")
	var sha := ""
	for line in text.split("\n"):
		if line.begins_with("sha256 "):
			sha = line.trim_prefix("sha256 ").strip_edges()
	if not expect_eq(sha.length(), 64, "the module's SHA-256 in the output"):
		return
	var dir := str(ProjectSettings.get_setting("wasgo/runtime/cache_dir", "user://wasgo_cache"))
	var written := PackedStringArray()
	for file in DirAccess.get_files_at(dir):
		if file.begins_with(sha):
			written.append(file)
	expect_eq(written, PackedStringArray(), "disk cache files of the module compiling at quit")
	expect(not text.contains("still running at shutdown"), "no shutdown error: %s" % text)


## A module's `config` read on another thread leaves no names of WasGo's behind at exit (the
## names of the settings it read were kept for that thread, past Godot's check).
func test_a_config_read_on_another_thread_leaves_nothing_at_exit() -> void:
	var text := _run_exit("config_thread", true)
	expect_contains(text, "config {", "the config was read")
	expect(not text.contains("unclaimed string names"), "no unclaimed names at exit:\n%s" % text)
