## Prints the running Godot's own executable path, `OS.get_executable_path()`: the program the
## editor's Play, the project manager and `OS.execute` relaunch. `cargo xtask test` starts the
## demo with it (`godot --headless --path godot_project -s res://tests/editor/executable_path.gd`).
extends SceneTree


func _initialize() -> void:
	print("executable_path=", OS.get_executable_path())
	quit(0)
