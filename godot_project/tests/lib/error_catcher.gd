## Records script errors (`SCRIPT ERROR:`) raised while a test runs, so the runner can fail that
## test instead of only the whole run. Godot may call it from any thread, hence the mutex.
extends Logger

var _mutex := Mutex.new()
var _errors: PackedStringArray = []


## Starts a new recording.
func begin() -> void:
	_mutex.lock()
	_errors.clear()
	_mutex.unlock()


## Ends the recording and returns the script errors seen since `begin()`.
func end() -> PackedStringArray:
	_mutex.lock()
	var seen := _errors.duplicate()
	_errors.clear()
	_mutex.unlock()
	return seen


func _log_error(function: String, file: String, line: int, code: String, rationale: String,
		_editor_notify: bool, error_type: int, _script_backtraces: Array[ScriptBacktrace]) -> void:
	if error_type != ERROR_TYPE_SCRIPT:
		return
	var text := rationale if rationale != "" else code
	_mutex.lock()
	_errors.append("script error: %s (%s:%d in %s)" % [text, file, line, function])
	_mutex.unlock()
