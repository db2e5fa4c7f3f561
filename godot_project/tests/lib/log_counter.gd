## Counts the messages Godot logs (errors and warnings) whose text contains a part (every
## message for an empty part), optionally
## only those of one type (`Logger.ERROR_TYPE_*`), and with `lines` the plain lines printed too
## (of any type). Add it with `OS.add_logger()`, remove it with `OS.remove_logger()`. Godot may
## log from any thread, hence the mutex.
extends Logger

## Any type of message.
const ANY_TYPE := -1

var _part: String
var _error_type: int
var _lines: bool
var _mutex := Mutex.new()
var _seen: PackedStringArray = []


func _init(part: String, error_type := ANY_TYPE, lines := false) -> void:
	_part = part
	_error_type = error_type
	_lines = lines


## How many messages matched.
func count() -> int:
	_mutex.lock()
	var n := _seen.size()
	_mutex.unlock()
	return n


## How many matching messages also contain `text`.
func count_containing(text: String) -> int:
	_mutex.lock()
	var n := 0
	for seen in _seen:
		if seen.contains(text):
			n += 1
	_mutex.unlock()
	return n


func _log_message(message: String, _error: bool) -> void:
	if _lines and (_part.is_empty() or message.contains(_part)):
		_mutex.lock()
		_seen.append(message)
		_mutex.unlock()


func _log_error(_function: String, _file: String, _line: int, code: String, rationale: String,
		_editor_notify: bool, error_type: int, _script_backtraces: Array[ScriptBacktrace]) -> void:
	var text := code + " " + rationale
	# An empty part matches every message (Godot's `contains("")` is false).
	if (_error_type == ANY_TYPE or error_type == _error_type) and (_part.is_empty() or text.contains(_part)):
		_mutex.lock()
		_seen.append(text)
		_mutex.unlock()
