## A Rust mod built by the harness (wasm32-wasip1) runs end to end: WASI stdout and `wasgo.log`
## lines both arrive through `output`, `args` reach `main`, `finished(0)` fires.
extends "res://tests/lib/wasgo_test.gd"


func test_hello_mod_output_args_and_finished() -> void:
	var probe := new_mod("hello", {"wasm_file": MODS + "hello.wasm", "args": PackedStringArray(["one", "two wörds ✓ 🎮"])})
	expect_eq(start(probe), OK, "start()")
	expect_eq(probe.started, 1, "`started` emissions when start() returned")
	if not expect(await wait_for_end(probe), "hello did not end within 10 s: %s" % probe.describe()):
		return
	expect(probe.has_output("hello from wasi"), "no `hello from wasi` (WASI stdout) line: %s" % probe.describe())
	expect(probe.has_output("hello from wasgo.log"), "no `hello from wasgo.log` (wasgo.log) line: %s" % probe.describe())
	# WASI args: the program name first, then `args` in order.
	var arg_lines := probe.outputs_starting_with("arg: ")
	if expect_eq(arg_lines.size(), 3, "number of `arg:` lines (program name + 2 args) in %s" % [arg_lines]):
		expect_eq(arg_lines[1], "arg: one", "first argument line")
		expect_eq(arg_lines[2], "arg: two wörds ✓ 🎮", "second argument line (two-, three- and four-byte UTF-8)")
	for line in probe.outputs:
		expect(not line.ends_with("\n"), "an output line ends with a newline: %s" % var_to_str(line))
	expect_eq(probe.finished, [0], "exit codes from `finished`")
	expect_eq(probe.traps.size(), 0, "traps")
	expect_eq(probe.node.get_status(), WasmScript.STATUS_FINISHED, "status after main returned")
	expect_eq(probe.node.is_running(), false, "is_running() after main returned")


func test_autostart_runs_main_when_the_node_enters_the_tree() -> void:
	var probe := new_mod("hello_autostart", {"wasm_file": MODS + "hello.wasm", "autostart": true})
	tree.root.add_child(probe.node)
	expect_eq(probe.started, 1, "`started` emissions right after entering the tree")
	if expect(await wait_for_end(probe), "autostarted hello did not end within 10 s: %s" % probe.describe()):
		expect_eq(probe.finished, [0], "exit codes from `finished`")
		expect(probe.has_output("hello from wasi"), "no `hello from wasi` line: %s" % probe.describe())



func test_has_export_answers_for_a_node_with_only_wasm_file_before_it_starts() -> void:
	var probe := new_mod("hello_exports", {"wasm_file": MODS + "hello.wasm", "autostart": false}, false)
	expect(probe.node.module == null, "the node has no module resource")
	expect(probe.node.has_export("_start") or probe.node.has_export("main"), "has_export of hello's entry point before start()")
	expect(not probe.node.has_export("no_such_export"), "has_export of a name it does not export")
	probe.node.wasm_file = MODS + "no_such_mod.wasm"
	expect(not probe.node.has_export("main"), "has_export of a missing file")


func _count(probe: ModProbe, line: String) -> int:
	return Array(probe.outputs).filter(func(l: String) -> bool: return l == line).size()


## `start()` on a node that is not in the tree yet, then `add_child` with `autostart` on (the
## default): the node's first ready runs the mod's `ready` export and does not start it again,
## whether the mod lives on callbacks, its `main` has returned, or its `main` still runs.
func test_a_mod_started_before_its_node_enters_the_tree_gets_ready_once_and_starts_once() -> void:
	for case in ["callbacks", "main_done", "main_running"]:
		var file := "ready_before_tree_callbacks" if case == "callbacks" else "ready_before_tree_main"
		var probe := new_mod("early_" + case, {"module": wat_module(file), "autostart": true})
		if not expect_eq(probe.node.start(), OK, "%s: start() outside the tree" % case):
			continue
		if case == "main_done":
			expect(await wait_for_end(probe), "%s: main did not end: %s" % [case, probe.describe()])
		tree.root.add_child(probe.node)
		var readied: bool = await wait_until(func() -> bool: return probe.has_output("ready"), 5000)
		expect(readied, "%s: `ready` never ran: %s" % [case, probe.describe()])
		if case != "callbacks":
			expect(await wait_for_end(probe), "%s: main did not end: %s" % [case, probe.describe()])
			expect_eq(_count(probe, "main"), 1, "%s: runs of main (%s)" % [case, probe.describe()])
			expect_eq(probe.finished, [0], "%s: `finished`" % case)
		await frames(2)
		expect_eq(_count(probe, "init"), 1, "%s: runs of init (%s)" % [case, probe.describe()])
		expect_eq(_count(probe, "ready"), 1, "%s: runs of ready (%s)" % [case, probe.describe()])
		expect_eq(probe.started, 1, "%s: `started` emissions" % case)
		expect(probe.traps.is_empty(), "%s: traps: %s" % [case, probe.describe()])
		probe.node.queue_free()


## The node's `ready` hook is connected when the node is made (no `enter_tree` override), so a
## node made on another thread, as a game building a level in the background does, must still
## autostart when the main thread adds it to the tree.
func test_a_node_made_on_another_thread_autostarts_when_added_on_the_main_one() -> void:
	var thread := Thread.new()
	thread.start(func() -> WasmScript:
		var made := WasmScript.new()
		made.name = "hello_from_thread"
		made.wasm_file = MODS + "hello.wasm"
		return made)
	var node: WasmScript = thread.wait_to_finish()
	_nodes.append(node)
	var probe := ModProbe.new(node)
	tree.root.add_child(node)
	expect_eq(probe.started, 1, "`started` emissions right after entering the tree")
	if expect(await wait_for_end(probe), "hello made on a thread did not end within 10 s: %s" % probe.describe()):
		expect_eq(probe.finished, [0], "exit codes from `finished`")
	# Entering the tree again does not start it again (the hook runs at `ready`, once).
	tree.root.remove_child(node)
	tree.root.add_child(node)
	await frames(2)
	expect_eq(probe.started, 1, "`started` emissions after the node entered the tree again")


## `start()` reads the node's properties once, then delivers the old instance's last events
## before it looks for the module: a handler that points the node at another module there is
## obeyed (the module read with the properties is not used once `module` changed).
func test_a_module_set_by_a_handler_of_the_old_instance_s_events_is_the_one_started() -> void:
	var probe := new_mod("hello_then_mover", {"wasm_file": MODS + "hello.wasm"})
	var mover := WasmEngine.load_module(MODS + "bench_mover.wasm")
	if not expect(mover != null, "bench_mover.wasm loads"):
		return
	expect_eq(start(probe), OK, "first start()")
	# Wait for `main` to return without letting a frame pass: its output stays queued.
	var deadline := Time.get_ticks_msec() + 10000
	while probe.node.get_status() != WasmScript.STATUS_FINISHED and Time.get_ticks_msec() < deadline:
		OS.delay_msec(1)
	if not expect_eq(probe.node.get_status(), WasmScript.STATUS_FINISHED, "hello finished"):
		return
	expect(not probe.has_output("hello from wasi"), "the output was still queued: %s" % probe.describe())
	var switch := func(_line: String) -> void:
		probe.node.module = mover
	probe.node.output.connect(switch)
	expect_eq(probe.node.start(), OK, "second start()")
	probe.node.output.disconnect(switch)
	expect(probe.has_output("hello from wasi"), "the old instance's output was delivered by start(): %s" % probe.describe())
	expect_eq(probe.node.module, mover, "module after the handler")
	# bench_mover has no `main`: alive on its callbacks, with the `process` export hello lacks.
	expect_eq(probe.node.get_status(), WasmScript.STATUS_RUNNING, "status of the new instance")
	probe.node.call_export("process", [0.016])
	expect_eq(probe.node.get_last_error(), "", "last error after calling bench_mover's `process`")


## The exported properties `start()` reads (kept in the node's working state, not in its
## fields, so that `start()` reads them without binding the node) keep their defaults, read
## back what was set, are saved with a scene and copied by `duplicate()`, and reach the mod:
## the copy's `args` are `main`'s, and a memory cap set just before `start()` is the one used.
func test_exported_properties_save_with_the_scene_and_reach_the_mod() -> void:
	var defaults := {"wasm_file": "", "module": null, "safety_level": 0, "autostart": true,
		"args": PackedStringArray(), "memory_limit_mb": 0, "main_timeout_ms": 0}
	var fresh := WasmScript.new()
	for key: String in defaults:
		expect_eq(ClassDB.class_get_property_default_value(&"WasmScript", key), defaults[key], "default of `%s`" % key)
		expect_eq(fresh.get(key), defaults[key], "`%s` of a new node" % key)
	fresh.free()
	var module := WasmEngine.load_module(MODS + "hello.wasm")
	if not expect(module != null, "load_module(hello.wasm): %s" % WasmEngine.get_last_error()):
		return
	var holder := Node.new()
	holder.name = "saved_holder"
	var node := WasmScript.new()
	node.name = "hello_saved"
	node.autostart = false
	node.wasm_file = MODS + "hello.wasm"
	node.module = module
	node.safety_level = 1
	node.args = PackedStringArray(["saved", "args"])
	node.memory_limit_mb = 48
	node.main_timeout_ms = 5000
	holder.add_child(node)
	node.owner = holder
	var scene := PackedScene.new()
	expect_eq(scene.pack(holder), OK, "pack()")
	holder.free()
	var copy_holder: Node = scene.instantiate()
	var copy: WasmScript = copy_holder.get_node("hello_saved")
	var dup: WasmScript = copy.duplicate()
	var want := {"wasm_file": MODS + "hello.wasm", "module": module, "safety_level": 1, "autostart": false,
		"args": PackedStringArray(["saved", "args"]), "memory_limit_mb": 48, "main_timeout_ms": 5000}
	for key: String in want:
		expect_eq(copy.get(key), want[key], "`%s` of the node instantiated from the scene" % key)
		expect_eq(dup.get(key), want[key], "`%s` of its duplicate" % key)
	copy_holder.remove_child(copy)
	copy_holder.free()
	var probe := ModProbe.new(copy)
	_nodes.append(copy)
	if await run_to_end(probe):
		var arg_lines := probe.outputs_starting_with("arg: ")
		expect_eq(arg_lines.slice(1), PackedStringArray(["arg: saved", "arg: args"]), "`main`'s arguments after the program name")
	# A cap below what the mod's memory starts with, set just before start(): refused.
	dup.memory_limit_mb = 1
	var small := ModProbe.new(dup)
	_nodes.append(dup)
	expect(start(small) != OK, "start() with a 1 MiB cap of a mod whose memory starts larger")
	expect_contains(dup.get_last_error(), "memory", "the refusal names the memory")
