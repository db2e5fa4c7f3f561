## Hostile mods get a clear error or trap, the game keeps running and the next mod still works:
## a memory bomb, an endless `process`, deep recursion, `abort`, malformed bytes, a module whose
## compile would take gigabytes.
extends "res://tests/lib/wasgo_test.gd"


func test_memory_bomb_traps_at_the_memory_cap() -> void:
	var probe := new_mod("memory_bomb", {"module": wat_module("memory_bomb"), "memory_limit_mb": 16})
	if await run_to_end(probe):
		if expect_eq(probe.traps.size(), 1, "traps (%s)" % probe.describe()):
			expect_contains(probe.traps[0].to_lower(), "memory", "trap message")
		expect(probe.finished.is_empty(), "main returned, so growing past 16 MiB did not trap: %s" % probe.describe())
		expect_eq(probe.node.get_status(), WasmScript.STATUS_TRAPPED, "status after the trap")
	await expect_frames_go_on("memory bomb")
	await expect_hello_still_works("memory bomb")


func test_endless_process_traps_on_the_callback_budget_and_frames_go_on() -> void:
	var probe := new_mod("endless_process", {"module": wat_module("endless_process")})
	expect_eq(start(probe), OK, "start()")
	var trapped: bool = await wait_until(func() -> bool: return not probe.traps.is_empty(), 10000)
	if expect(trapped, "an endless process() did not trap within 10 s: %s" % probe.describe()):
		expect_contains(probe.traps[0].to_lower(), "budget", "trap message")
		expect_eq(probe.node.get_status(), WasmScript.STATUS_TRAPPED, "status after the trap")
	await expect_frames_go_on("endless process")
	expect_eq(probe.traps.size(), 1, "traps after more frames (a trapped instance must not run again)")
	await expect_hello_still_works("endless process")


func test_deep_recursion_traps_with_a_stack_message() -> void:
	var probe := new_mod("deep_recursion", {"module": wat_module("deep_recursion")})
	if await run_to_end(probe):
		if expect_eq(probe.traps.size(), 1, "traps (%s)" % probe.describe()):
			expect_contains(probe.traps[0].to_lower(), "stack", "trap message")
	await expect_frames_go_on("deep recursion")
	await expect_hello_still_works("deep recursion")


func test_trap_messages_name_the_mods_functions() -> void:
	var probe := new_mod("deep_recursion_names", {"module": wat_module("deep_recursion")})
	if await run_to_end(probe) and expect_eq(probe.traps.size(), 1, "traps (%s)" % probe.describe()):
		expect_contains(probe.traps[0], "dive", "trap message (its backtrace should name the mod's function `dive`)")


func test_abort_traps_with_the_mods_message() -> void:
	var probe := new_mod("abort", {"module": wat_module("abort")})
	if await run_to_end(probe):
		if expect_eq(probe.traps.size(), 1, "traps (%s)" % probe.describe()):
			expect_contains(probe.traps[0], "the mod gave up: reason 42", "trap message")
		expect_eq(probe.node.get_status(), WasmScript.STATUS_TRAPPED, "status after abort")
	await expect_hello_still_works("abort")


func test_malformed_bytes_give_null_and_an_error() -> void:
	var cases := {
		"junk bytes": PackedByteArray([0xde, 0xad, 0xbe, 0xef, 0x13, 0x37, 0x00, 0xff]),
		"bad wasm version": PackedByteArray([0x00, 0x61, 0x73, 0x6d, 0xff, 0xff, 0xff, 0xff]),
		"truncated WAT": "(module (func (export \"main\")".to_utf8_buffer(),
		"empty": PackedByteArray(),
	}
	for case: String in cases:
		var module: WasmModule = WasmEngine.compile_module(cases[case], "malformed")
		expect_eq(module, null, "compile_module(%s)" % case)
		expect(WasmEngine.get_last_error() != "", "get_last_error() is empty after compile_module(%s)" % case)
	var missing: WasmModule = WasmEngine.load_module("res://tests/wat/no_such_mod.wasm")
	expect_eq(missing, null, "load_module of a missing file")
	expect_contains(WasmEngine.get_last_error(), "no_such_mod.wasm", "get_last_error() after load_module of a missing file")
	await expect_hello_still_works("malformed bytes")


## Unsigned LEB128 of `v`, appended to `out`.
func _leb(v: int, out: PackedByteArray) -> void:
	while true:
		var b := v & 0x7f
		v >>= 7
		if v == 0:
			out.append(b)
			return
		out.append(b | 0x80)


## One function of `locals` i32 locals, read after `blocks` empty `block`s: Cranelift's cost is
## locals x blocks in memory (20,000 x 50,000: 3.9 GB and 6 s before WasGo refused it).
func _compile_bomb(locals: int, blocks: int) -> PackedByteArray:
	var body := PackedByteArray([1])
	_leb(locals, body)
	body.append(0x7f)
	var empty_block := PackedByteArray([0x02, 0x40, 0x0b])
	for i in blocks:
		body.append_array(empty_block)
	for i in locals:
		body.append(0x20)
		_leb(i, body)
		body.append(0x1a)
	body.append(0x0b)
	var code := PackedByteArray([1])
	_leb(body.size(), code)
	code.append_array(body)
	var module := PackedByteArray([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, 1, 4, 1, 0x60, 0, 0, 3, 2, 1, 0, 10])
	_leb(code.size(), module)
	module.append_array(code)
	return module


func test_a_module_whose_compile_would_take_gigabytes_is_refused_before_compiling() -> void:
	var bomb := _compile_bomb(20000, 50000)
	var module: WasmModule = WasmEngine.compile_module(bomb, "compile_bomb")
	expect_eq(module, null, "compile_module of a function with 20,000 locals and 50,000 blocks")
	var error := WasmEngine.get_last_error()
	expect_contains(error, "compile_bomb", "get_last_error() names the mod")
	expect_contains(error, "function #0 has 20000 locals and 50000 blocks", "get_last_error() names the function and its measure")
	# A WasmScript pointed at it fails to start the same way, and the game goes on.
	var path := "user://compile_bomb_test.wasm"
	var f := FileAccess.open(path, FileAccess.WRITE)
	f.store_buffer(bomb)
	f.close()
	var probe := new_mod("compile_bomb", {"wasm_file": path})
	start(probe)
	var failed: bool = await wait_until(func() -> bool: return probe.node.get_last_error().contains("locals"), 10000)
	expect(failed, "the WasmScript did not fail with the reason within 10 s: %s" % probe.describe())
	expect_eq(probe.node.get_status(), WasmScript.STATUS_IDLE, "status after the refused compile")
	DirAccess.remove_absolute(ProjectSettings.globalize_path(path))
	# Under the limit (8,192 x 8,192, about 270 MB at worst) a module still compiles.
	var large: WasmModule = WasmEngine.compile_module(_compile_bomb(8192, 8192), "at_the_limit")
	expect(large != null, "a module at the limit was refused: %s" % WasmEngine.get_last_error())
	await expect_hello_still_works("compile bomb")


func test_names_and_paths_over_4096_bytes_get_minus_3_before_godot_parses_them() -> void:
	var probe := new_mod("long_names", {"module": wat_module("long_names")})
	if not await run_to_end(probe):
		return
	expect(probe.has_output("`wasgo.get_node`: the path is 1048576 bytes long, over WasGo's limit of 4096 bytes for names and paths"), "from main: %s" % [probe.outputs])
	expect_eq(probe.node.call_export("get_node", [4096]), -1, "a 4096-byte path is read (and found nowhere)")
	expect_eq(probe.node.call_export("get_node", [4097]), -3, "a 4097-byte path")
	expect(probe.has_output("`wasgo.get_node`: the path is 4097 bytes long"), "message: %s" % [probe.outputs])
	expect_eq(probe.node.call_export("get", [100000]), -3, "a 100000-byte property name")
	expect(probe.has_output("`wasgo.get`: the property name is 100000 bytes long"), "message: %s" % [probe.outputs])
	expect_eq(probe.node.call_export("connect", [5000]), -3, "a 5000-byte signal name")
	expect(probe.has_output("`wasgo.connect`: the signal name is 5000 bytes long"), "message: %s" % [probe.outputs])
	await expect_frames_go_on("long names")


## At most 1024 live connections per instance, and at most 16 to one signal of one object: each is
## a call on every emission (1024 connections to `SceneTree.node_added` made every node the game
## added cost a thousand deliveries, charged to no mod).
func test_an_instance_has_at_most_1024_live_signal_connections() -> void:
	var probe := new_mod("connect_flood", {"module": wat_module("connect_flood")})
	if not expect_eq(start(probe), OK, "start()"):
		return
	expect_eq(probe.node.call_export("connect_self", [100]), 16, "connections to one signal of its own node")
	expect(probe.has_output("`wasgo.connect` refused: this mod already has 16 connections to `renamed` of this object"), "message: %s" % [probe.outputs])
	expect_eq(probe.node.get_signal_connection_list("renamed").size(), 16, "the refused connects connected nothing")
	var children: Array[Node] = []
	for k in 63:
		var child := Node.new()
		child.name = "Child"
		probe.node.add_child(child)
		expect_eq(probe.node.call_export("connect_child", [16]), 16, "16 connections to child %d" % k)
		child.name = "Old%d" % k
		children.append(child)
	var last := Node.new()
	last.name = "Child"
	probe.node.add_child(last)
	expect_eq(probe.node.call_export("connect_child", [10]), 0, "a connection past 1024")
	expect(probe.has_output("`wasgo.connect` refused: this mod already has 1024 signal connections"), "message: %s" % [probe.outputs])
	expect_eq(last.get_signal_connection_list("renamed").size(), 0, "the refused connect connected nothing")
	# The game frees children: their connections no longer count.
	children[0].free()
	children[1].free()
	expect_eq(probe.node.call_export("connect_child", [20]), 16, "connections after two children were freed")
	expect_eq(last.get_signal_connection_list("renamed").size(), 16, "the new child's connections")
	await expect_frames_go_on("connection flood")


## The arguments of a signal are converted as the one Array the mod gets, under one budget:
## each argument had its own (a value nested 64 deep inside the argument Array was 65 deep, and
## two arguments of 600,000 strings each were 1.2 million elements), so the mod's decoder
## refused what it was given (the Rust SDK handed its closure no arguments).
func test_signal_arguments_share_one_budget_of_depth_and_elements() -> void:
	var probe := new_mod("callback_budget", {"module": wat_module("callback_args_budget")})
	if not expect_eq(start(probe), OK, "start()"):
		return
	probe.node.add_user_signal("deep")
	expect_eq(probe.node.call_export("listen", []), 0, "connect")
	var deep: Variant = 0
	for i in 63:
		deep = [deep]
	probe.node.emit_signal("deep", deep)
	await frames(2)
	expect(probe.node.call_export("last", []) > 0, "an argument nested 63 deep (64 with the argument Array): %d" % probe.node.call_export("last", []))
	probe.node.emit_signal("deep", [deep])
	await frames(2)
	expect_eq(probe.node.call_export("last", []), -5, "an argument nested 64 deep (65 with the argument Array)")
	var many := PackedStringArray()
	many.resize(600000)
	probe.node.emit_signal("deep", many, many)
	await frames(2)
	expect_eq(probe.node.call_export("last", []), -5, "two arguments of 600,000 strings each")
	# Godot shares one packed array or String between the places that hold it; converted for the
	# mod, each place is a copy: a thousand references to one 1 MiB buffer were a gibibyte copied
	# (and another encoded) at every call. Bytes are counted at each reference too.
	var buffer := PackedByteArray()
	buffer.resize(1 << 20)
	var shared := []
	shared.resize(200)
	shared.fill(buffer)
	probe.node.emit_signal("deep", shared)
	await frames(2)
	expect_eq(probe.node.call_export("last", []), -5, "200 references to one 1 MiB buffer (200 MiB converted)")
	probe.node.emit_signal("deep", shared.slice(0, 1))
	await frames(2)
	expect(probe.node.call_export("last", []) > 1000000, "one reference: %d" % probe.node.call_export("last", []))
	expect_eq(probe.node.get_status(), WasmScript.STATUS_RUNNING, "the mod runs on")

