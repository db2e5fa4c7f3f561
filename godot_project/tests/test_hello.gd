## A Rust mod built by the harness (wasm32-wasip1) runs end to end: WASI stdout and `wasgo.log`
## lines both arrive through `output`, `args` reach `main`, `finished(0)` fires.
extends "res://tests/lib/wasgo_test.gd"


func test_hello_mod_output_args_and_finished() -> void:
	var probe := new_mod("hello", {"wasm_file": MODS + "hello.wasm", "args": PackedStringArray(["one", "two words"])})
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
		expect_eq(arg_lines[2], "arg: two words", "second argument line")
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
