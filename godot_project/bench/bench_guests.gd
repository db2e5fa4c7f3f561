## `cargo xtask bench`: one entry into a mod of each guest kind, from GDScript, in one run
## (release build of the extension, headless). Prints ns per call and the ratios.
##
##   GDScript method      _add(a, b) on a GDScript object (the baseline)
##   wasgo call_export    call_export("add", [a, b]) on a WAT mod (an i32 add)
##   Go-js call_export    call_export("add", [a, b]) on gojs_callback: a `js.FuncOf` function
##   waPC invoke 64 B     invoke("echo", 64 bytes) on wapc_echo (the published wapc-guest crate)
extends SceneTree

const N := 20_000
const ADD_WAT := '(module (func (export "add") (param i32 i32) (result i32) local.get 0 local.get 1 i32.add))'

var _ok := true


func _initialize() -> void:
	_run.call_deferred()


func _add(a: int, b: int) -> int:
	return a + b


func _time(label: String, body: Callable) -> float:
	var t0 := Time.get_ticks_usec()
	var failed: int = body.call()
	var ns := float(Time.get_ticks_usec() - t0) * 1000.0 / N
	print("%-22s %10.1f ns/call" % [label, ns])
	if failed != 0:
		push_error("%s: %d calls gave a wrong result" % [label, failed])
		_ok = false
	return ns


func _start(stage: Node, node_name: String, module: WasmModule) -> WasmScript:
	if module == null:
		push_error("cannot load %s: %s" % [node_name, WasmEngine.get_last_error()])
		_ok = false
		return null
	var mod := WasmScript.new()
	mod.name = node_name
	mod.autostart = false
	mod.module = module
	stage.add_child(mod)
	if mod.start() != OK:
		push_error("cannot start %s: %s" % [node_name, mod.get_last_error()])
		_ok = false
		return null
	return mod


func _run() -> void:
	ProjectSettings.set_setting("wasgo/limits/callback_budget_ms", 600000)
	ProjectSettings.set_setting("wasgo/limits/frame_budget_ms", 600000)
	var stage := Node.new()
	root.add_child(stage)
	# Compiled here, before starting, so no background load is in flight.
	ProjectSettings.set_setting("wasgo/limits/compile_timeout_ms", 600000)
	var wat := _start(stage, "WatAdd", WasmEngine.compile_module(ADD_WAT.to_utf8_buffer(), "wat_add"))
	var gojs := _start(stage, "GoJs", WasmEngine.load_module("res://tests/mods/gojs_callback.wasm"))
	var wapc := _start(stage, "Wapc", WasmEngine.load_module("res://tests/mods/wapc_echo.wasm"))
	if wat == null or gojs == null or wapc == null:
		quit(1)
		return
	# The Go program has set its functions and waits in `select {}` once main has returned.
	for i in 600:
		if gojs.get_status() == WasmScript.STATUS_FINISHED:
			break
		await process_frame
	var payload := PackedByteArray()
	for i in 64:
		payload.append(i)

	print("one call into a mod from GDScript, %d calls each (release build, headless)" % N)
	var method := _time("GDScript method", func() -> int:
		var wrong := 0
		for i in N:
			if _add(i, 1) != i + 1:
				wrong += 1
		return wrong)
	var wasgo := _time("wasgo call_export", func() -> int:
		var wrong := 0
		for i in N:
			if wat.call_export("add", [i, 1]) != i + 1:
				wrong += 1
		return wrong)
	var go := _time("Go-js call_export", func() -> int:
		var wrong := 0
		for i in N:
			if gojs.call_export("add", [i, 1]) != i + 1:
				wrong += 1
		return wrong)
	var invoke := _time("waPC invoke 64 B", func() -> int:
		var wrong := 0
		for i in N:
			if wapc.invoke("echo", payload) != payload:
				wrong += 1
		return wrong)
	print("ratio wasgo call_export / GDScript method : %.2f" % (wasgo / method))
	print("ratio Go-js call_export / wasgo call_export: %.2f" % (go / wasgo))
	print("ratio waPC invoke 64 B / wasgo call_export : %.2f" % (invoke / wasgo))
	for mod: WasmScript in [wat, gojs, wapc]:
		mod.kill()
	stage.queue_free()
	await process_frame
	quit(0 if _ok else 1)
