## Wraps one `WasmScript` node and records everything it emits, for assertions.
extends RefCounted

var node: Node
var started := 0
var outputs: PackedStringArray = []
var finished: Array = []     # exit codes
var traps: PackedStringArray = []
var kills: PackedStringArray = []
var unexposed: Array = []    # [function, level] pairs


func _init(script_node: Node) -> void:
	node = script_node
	node.started.connect(_on_started)
	node.output.connect(_on_output)
	node.finished.connect(_on_finished)
	node.trapped.connect(_on_trapped)
	node.killed.connect(_on_killed)
	node.unexposed_call.connect(_on_unexposed_call)


## Whether `main` finished, the instance trapped or it was killed.
func ended() -> bool:
	return not (finished.is_empty() and traps.is_empty() and kills.is_empty())


## Whether any output line contains `text`.
func has_output(text: String) -> bool:
	for line in outputs:
		if line.contains(text):
			return true
	return false


## Output lines that start with `prefix`.
func outputs_starting_with(prefix: String) -> PackedStringArray:
	var found: PackedStringArray = []
	for line in outputs:
		if line.begins_with(prefix):
			found.append(line)
	return found


## Everything recorded, on one line, for failure messages.
func describe() -> String:
	var status: Variant = node.get_status() if is_instance_valid(node) else "freed"
	return "[%s: status=%s started=%d finished=%s traps=%s killed=%s unexposed=%s output=%s]" % [
		node.name if is_instance_valid(node) else "?", status, started, finished, traps, kills,
		unexposed, outputs]


func _on_started() -> void:
	started += 1


func _on_output(text: String) -> void:
	outputs.append(text)


func _on_finished(exit_code: int) -> void:
	finished.append(exit_code)


func _on_trapped(message: String) -> void:
	traps.append(message)


func _on_killed(reason: String) -> void:
	kills.append(reason)


func _on_unexposed_call(function: String, level: int) -> void:
	unexposed.append([function, level])
