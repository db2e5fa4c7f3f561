## What a game leaves behind when it quits never crashes it at exit: started mods on nodes it
## leaked (never in the tree, never freed: the epoch ticker's thread outlived the library and
## crashed; also with `killed` handlers connected), and GDScript lambdas it registered as game functions or waPC handlers and never
## unregistered (dropped after GDScript shut down, they were freed twice). Each case runs in its
## own Godot process (`tests/exit/exit_after.gd`), which must exit with code 0.
extends "res://tests/lib/wasgo_test.gd"


func _run_exit(mode: String) -> void:
	var output: Array = []
	var args := PackedStringArray(["--headless", "--path", ProjectSettings.globalize_path("res://"),
		"-s", "res://tests/exit/exit_after.gd", "--", mode])
	var code := OS.execute(OS.get_executable_path(), args, output, true)
	var text := "\n".join(PackedStringArray(output))
	expect_contains(text, "quitting", "the `%s` process ran to its quit()" % mode)
	expect_eq(code, 0, "exit code of a game quitting with %s left behind (output:\n%s)" % [mode, text])


func test_a_game_that_leaked_started_mods_exits_cleanly() -> void:
	_run_exit("orphan")


func test_a_game_that_leaked_started_mods_with_killed_handlers_exits_cleanly() -> void:
	# Their `killed` handlers are GDScript lambdas: WasGo's kill at shutdown must not call into
	# GDScript after it shut down.
	_run_exit("orphan_handlers")


func test_a_game_that_left_lambdas_registered_exits_cleanly() -> void:
	_run_exit("lambdas")
