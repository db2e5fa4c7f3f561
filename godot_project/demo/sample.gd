## WasGo's sample (the project's main scene; `cargo xtask run` runs it headless): runs two mods
## side by side, prints each `output` line as `[mod name] text`, waits for both to finish and
## quits (exit code 0 only if both finished with 0). With a window it also shows the lines.
extends Node

const MODS := [
	{"name": "hello", "path": "res://tests/mods/hello.wasm", "args": ["from", "the sample"]},
	{"name": "levels", "path": "res://tests/mods/levels.wasm", "args": []},
]
const TIMEOUT_S := 30.0
## With a window, how long the lines stay on screen before the sample quits.
const LINGER_S := 5.0

var _pending := 0
var _failed := false
var _label: Label


func _ready() -> void:
	if DisplayServer.get_name() != "headless":
		_label = Label.new()
		_label.position = Vector2(16, 16)
		add_child(_label)
	for mod: Dictionary in MODS:
		var script := WasmScript.new()
		script.name = mod["name"]
		script.wasm_file = mod["path"]
		script.args = PackedStringArray(mod["args"])
		script.output.connect(_show.bind(mod["name"]))
		script.finished.connect(_on_finished.bind(mod["name"]))
		script.trapped.connect(_on_trapped.bind(mod["name"]))
		_pending += 1
		add_child(script)  # autostart: `main` starts on a worker thread now
	get_tree().create_timer(TIMEOUT_S).timeout.connect(_on_timeout)


func _show(text: String, mod_name: String) -> void:
	var line := "[%s] %s" % [mod_name, text]
	print(line)
	if _label:
		_label.text += line + "\n"


func _on_finished(exit_code: int, mod_name: String) -> void:
	_show("finished with exit code %d" % exit_code, mod_name)
	_failed = _failed or exit_code != 0
	_one_done()


func _on_trapped(message: String, mod_name: String) -> void:
	_show("trapped: %s" % message, mod_name)
	_failed = true
	_one_done()


func _on_timeout() -> void:
	if _pending > 0:
		print("sample: %d mod(s) still running after %d s" % [_pending, TIMEOUT_S])
		get_tree().quit(1)


func _one_done() -> void:
	_pending -= 1
	if _pending > 0:
		return
	if _label:
		await get_tree().create_timer(LINGER_S).timeout
	get_tree().quit(1 if _failed else 0)
