## A game's logger that kills a mod when Godot logs an error containing a text (a game that
## stops a mod whose calls fail). Godot runs loggers inside the call that logs, on its thread.
extends Logger

var target: Node
var part: String
var kills := 0


func _log_error(_function: String, _file: String, _line: int, code: String, rationale: String,
		_editor_notify: bool, _error_type: int, _script_backtraces: Array[ScriptBacktrace]) -> void:
	if OS.get_thread_caller_id() != OS.get_main_thread_id():
		return
	if is_instance_valid(target) and (code + " " + rationale).contains(part) and kills == 0:
		kills += 1
		target.kill()
