## Level 2, files and permissions: the `files` grant (asked, granted, saved, revoked, auto-granted,
## denied headless), the sandbox's file functions, path escapes checked on the file system, a
## mod killed while writing, the storage quota, and WASI's file system at levels 1, 2 and 3.
extends "res://tests/lib/level2_test.gd"

## The races between two instances of one mod wait in spin loops of host calls, slow on a busy
## machine (a cap on a hung test, not a timing assertion).
const TIMEOUT_MS := 120000


func test_files_need_the_grant_then_write_list_read_delete() -> void:
	var id := "l2_files"
	remove_tree(sandbox(id))
	var probe := level2_mod(id)
	forget_grants(probe)
	var denied := op(probe, 1, ["notes/a.txt", "hello ✓"])
	expect_eq(denied[0], -6, "file_write without the grant")
	expect_contains(denied[1], "`files` permission", "last_error of the refused write")
	expect_eq(op_code(probe, 5, ["files"]), 0, "request_permission(files) before the grant")
	await frames(2)
	expect_eq(permission_requests.size(), 1, "permission_requested emissions after one request: %s" % [permission_requests])
	expect_eq(op_code(probe, 10, ["files"]), 0, "request_permission(files) a thousand times in one call")
	await frames(2)
	expect_eq(permission_requests.size(), 2, "permission_requested emissions after a thousand more (one per kind until delivered)")
	if permission_requests.size() > 0:
		expect_eq(permission_requests[0][0], "files", "requested kind")
		expect_contains(permission_requests[0][1], id, "request detail names the mod")
	probe.node.grant_permission("files")
	expect_eq(op_code(probe, 5, ["files"]), 1, "request_permission(files) once granted")
	expect_eq(op_code(probe, 1, ["notes/a.txt", "hello ✓"]), 0, "file_write once granted")
	expect_eq(FileAccess.get_file_as_string(sandbox(id) + "notes/a.txt"), "hello ✓", "the file on disk")
	expect_eq(op(probe, 3, ["notes"])[1], "ok a.txt", "file_list(notes)")
	expect_eq(op(probe, 3, [""])[1], "ok notes/", "file_list of the sandbox root")
	expect_eq(op_code(probe, 1, ["notes/b.txt", "b"]), 0, "file_write of a second file")
	expect_eq(op(probe, 11, ["notes"]), [2, "ok a.txt|b.txt"], "the Rust SDK's files::list(notes)")
	expect_eq(op_code(probe, 4, ["notes/b.txt"]), 0, "file_delete of the second file")
	expect_eq(op(probe, 13, ["", "an argument ✓"]), [15, "ok an argument ✓"], "the Rust SDK's read_string of a game function's text")
	expect_eq(op(probe, 2, ["notes/a.txt"])[1], "ok hello ✓", "file_read")
	expect_eq(op_code(probe, 4, ["notes/a.txt"]), 0, "file_delete")
	expect(not FileAccess.file_exists(sandbox(id) + "notes/a.txt"), "the file is gone from disk")
	expect_eq(op_code(probe, 2, ["notes/a.txt"]), -1, "file_read after delete")
	expect_eq(saved_grants(id), PackedStringArray(["files"]), "grants saved in %s" % GRANTS_FILE)
	forget_grants(probe)
	remove_tree(sandbox(id))


## Phase 1 of the restart test; phase 2 runs in a second Godot process
## (`tests/after_restart/test_after_restart.gd`, started by `cargo xtask test`).
func test_restart_phase_1_the_grant_is_saved() -> void:
	var id := "l2_restart"
	var probe := level2_mod(id)
	forget_grants(probe)
	expect_eq(op_code(probe, 1, ["before.txt", "x"]), -6, "file_write before the grant")
	probe.node.grant_permission("files")
	expect_eq(op_code(probe, 1, ["granted.txt", "saved"]), 0, "file_write after the grant")
	expect_eq(saved_grants(id), PackedStringArray(["files"]), "the grant is in %s for the next run" % GRANTS_FILE)


func test_revoke_removes_the_grant_now_and_for_later_starts() -> void:
	var id := "l2_revoke"
	var first := level2_mod(id)
	forget_grants(first)
	first.node.grant_permission("files")
	expect_eq(op_code(first, 1, ["a.txt", "x"]), 0, "file_write with the grant")
	var second := level2_mod(id)
	expect_eq(op_code(second, 1, ["b.txt", "x"]), 0, "a new node of the same mod starts with the saved grant")
	first.node.revoke_permission("files")
	expect_eq(op_code(first, 1, ["a.txt", "y"]), -6, "file_write right after revoke_permission")
	expect_eq(saved_grants(id), PackedStringArray(), "saved grants after revoke")
	var third := level2_mod(id)
	expect_eq(op_code(third, 1, ["c.txt", "x"]), -6, "a node started after the revoke")
	remove_tree(sandbox(id))


func test_auto_granted_kinds_need_no_asking() -> void:
	var id := "l2_auto"
	set_setting(AUTO_GRANT, PackedStringArray(["files"]))
	var probe := level2_mod(id)
	expect_eq(op_code(probe, 5, ["files"]), 1, "request_permission(files) when auto-granted")
	expect_eq(op_code(probe, 1, ["auto.txt", "x"]), 0, "file_write when auto-granted")
	expect_eq(op_code(probe, 5, ["network"]), 0, "network is not auto-granted")
	expect_eq(saved_grants(id), PackedStringArray(), "auto-granted kinds are not saved")
	remove_tree(sandbox(id))


func test_headless_request_without_a_handler_is_denied() -> void:
	var id := "l2_headless"
	var probe := level2_mod(id, 2, false)
	forget_grants(probe)
	expect(DisplayServer.get_name() == "headless", "this test expects a headless run")
	expect_eq(op_code(probe, 5, ["files"]), 0, "request_permission(files)")
	await frames(3)
	expect_eq(op_code(probe, 1, ["x.txt", "x"]), -6, "file_write after an unanswered request")
	expect_eq(op_code(probe, 5, ["files"]), 0, "asking again")
	await frames(3)
	expect_eq(probe.node.get_child_count(), 0, "no dialog was added in a headless run")


const ESCAPES := [
	"../l2_escape_1.txt",
	"../../l2_escape_2.txt",
	"/tmp/l2_escape_3.txt",
	"user://l2_escape_4.txt",
	"res://l2_escape_5.txt",
	"a\\..\\..\\l2_escape_6.txt",
	"ok/../../l2_escape_7.txt",
	"./l2_escape_8.txt",
	"C:l2_escape_9.txt",
	"//l2_escape_10.txt",
	"a//l2_escape_11.txt",
	"dir/",
	"",
	".",
	"..",
	"bad|name.txt",
	"link/l2_escape_12.txt",
]


func test_path_escapes_are_refused_and_nothing_is_created_outside() -> void:
	var id := "l2_escape"
	remove_tree(sandbox(id))
	var probe := level2_mod(id)
	probe.node.grant_permission("files")
	expect_eq(op_code(probe, 1, ["inside.txt", "ok"]), 0, "a plain write (creates the sandbox)")
	# A symlink inside the sandbox pointing outside it (made by the test, as a mod cannot).
	var outside := OS.get_user_data_dir().path_join("l2_outside")
	DirAccess.make_dir_recursive_absolute(outside)
	var link := ProjectSettings.globalize_path(sandbox(id) + "link")
	var made_link := OS.execute("ln", ["-s", outside, link]) == 0
	var user_before := tree_listing("user://")
	var res_before := tree_listing("res://")
	var paths: Array = ESCAPES.duplicate()
	paths.append("n".repeat(200) + ".txt")
	paths.append("d/".repeat(300) + "x.txt")
	for path: String in paths:
		var write := op(probe, 1, [path, "escaped"])
		expect_eq(write[0], -3, "file_write(%s)" % var_to_str(path))
		expect_contains(write[1], "refused", "message of file_write(%s)" % var_to_str(path))
		expect_eq(op_code(probe, 2, [path]), -3, "file_read(%s)" % var_to_str(path))
		expect_eq(op_code(probe, 4, [path]), -3, "file_delete(%s)" % var_to_str(path))
		if path != "" and path != ".":
			expect_eq(op_code(probe, 3, [path]), -3, "file_list(%s)" % var_to_str(path))
	expect_eq(op_code(probe, 8, ["nul"]), -3, "file_write of a path with a NUL byte")
	expect(made_link, "could not make the test symlink with `ln -s`")
	var user_after := tree_listing("user://")
	var res_after := tree_listing("res://")
	var sandbox_prefix := "mods/%s/" % id
	var changed: PackedStringArray = []
	for entry in user_after:
		if not user_before.has(entry) and not entry.begins_with(sandbox_prefix):
			changed.append(entry)
	expect_eq(changed, PackedStringArray(), "entries created under user:// outside the sandbox")
	expect_eq(res_after, res_before, "res:// listing")
	expect_eq(tree_listing(outside), PackedStringArray(), "the directory the symlink points to")
	for i in range(1, 13):
		expect(not FileAccess.file_exists("/tmp/l2_escape_%d.txt" % i), "/tmp/l2_escape_%d.txt exists" % i)
	expect_eq(tree_listing(sandbox(id)), PackedStringArray(["inside.txt", "link/"]), "the sandbox holds only what was allowed")
	DirAccess.remove_absolute(link)
	remove_tree(sandbox(id))
	DirAccess.remove_absolute(outside)


func test_a_mod_killed_while_writing_a_large_file_leaves_a_whole_file() -> void:
	var id := "level2_main"
	var size := 2 * 1024 * 1024
	remove_tree(sandbox(id))
	set_setting(SAFETY_LEVEL, 2)
	var kills := 0
	for attempt in 4:
		var probe := new_mod("writer_%d" % attempt, {"wasm_file": LEVEL2_MAIN_WASM, "args": PackedStringArray(["write-loop", "2048"])})
		probe.node.grant_permission("files")
		if not expect_eq(start(probe), OK, "start() of the writer"):
			return
		var wrote: bool = await wait_until(func() -> bool: return probe.outputs_starting_with("wrote ").size() >= 2 + attempt, 10000)
		if not expect(wrote, "the writer did not write: %s" % probe.describe()):
			return
		# Kill at a different moment of the write each time.
		OS.delay_usec(attempt * 1700)
		var rounds := probe.outputs_starting_with("wrote ").size()
		probe.node.kill()
		kills += 1
		expect_eq(probe.node.get_status(), WasmScript.STATUS_KILLED, "status after kill()")
		# kill() does not wait for a write in progress: the worker finishes (or abandons) it and
		# removes its temporary file when the host call returns.
		expect(await wait_for_no_workers(), "the writer's thread is still alive 2 s after kill %d" % attempt)
		var bytes := FileAccess.get_file_as_bytes(sandbox(id) + "big.bin")
		expect_eq(bytes.size(), size, "size of big.bin after kill %d (after %d rounds)" % [attempt, rounds])
		if bytes.size() > 0:
			expect_eq(bytes.count(bytes[0]), bytes.size(), "big.bin holds one round's bytes only after kill %d" % attempt)
		var leftovers := Array(tree_listing(sandbox(id))).filter(func(n: String) -> bool: return n != "big.bin")
		expect_eq(leftovers, [], "files next to big.bin after kill %d" % attempt)
	expect_eq(kills, 4, "kills made")
	remove_tree(sandbox(id))


func test_the_storage_quota_is_enforced() -> void:
	var id := "l2_quota"
	remove_tree(sandbox(id))
	set_setting(STORAGE_MB, 1)
	var probe := level2_mod(id)
	probe.node.grant_permission("files")
	var kib600 := "q".repeat(600 * 1024)
	expect_eq(op_code(probe, 1, ["a.bin", kib600]), 0, "600 KiB into a 1 MiB sandbox")
	var over := op(probe, 1, ["b.bin", kib600])
	expect_eq(over[0], -3, "another 600 KiB")
	expect_contains(over[1], "quota", "message of the refused write")
	expect(not FileAccess.file_exists(sandbox(id) + "b.bin"), "the refused file was not created")
	expect_eq(op_code(probe, 1, ["a.bin", "q".repeat(1000 * 1024)]), 0, "replacing a.bin with 1000 KiB (counted once)")
	expect_eq(op_code(probe, 1, ["c.bin", "q".repeat(30 * 1024)]), -3, "30 KiB more")
	expect_eq(FileAccess.get_file_as_bytes(sandbox(id) + "a.bin").size(), 1000 * 1024, "a.bin on disk")
	remove_tree(sandbox(id))


## Runs `level2_main wasi` at `level` (with or without the `files` grant) and returns its
## `wasi ...` lines.
func _wasi_lines(level: int, quota_mb: int, granted := true) -> PackedStringArray:
	var probe := new_mod("wasi_%d_%s" % [level, granted], {"wasm_file": LEVEL2_MAIN_WASM, "safety_level": level,
		"args": PackedStringArray(["wasi", str(quota_mb * 1024)])})
	if granted:
		probe.node.grant_permission("files")
	else:
		probe.node.revoke_permission("files")
	if not await run_to_end(probe):
		return PackedStringArray()
	expect_eq(probe.finished, [0], "exit code at level %d: %s" % [level, probe.describe()])
	return probe.outputs_starting_with("wasi ")


func test_wasi_file_system_grows_with_the_level() -> void:
	set_setting(SAFETY_LEVEL, 3)
	set_setting(STORAGE_MB, 1)
	var id := "level2_main"
	remove_tree(sandbox(id))
	var escape := OS.get_user_data_dir().path_join("mods/wasgo_wasi_escape.txt")
	var one := await _wasi_lines(1, 1)
	print("wasi at level 1: %s" % [one])
	expect(one.size() > 0 and one[0].begins_with("wasi write: err "), "level 1 has no /sandbox: %s" % [one])
	expect(not one.has("wasi res: ok true") and not one.has("wasi user: ok true"), "level 1 has no /res or /user: %s" % [one])
	expect(one.has("wasi env: false"), "level 1 gets no environment: %s" % [one])
	remove_tree(sandbox(id))
	var ungranted := await _wasi_lines(2, 1, false)
	print("wasi at level 2 without the grant: %s" % [ungranted])
	expect(ungranted.has("wasi write: err PermissionDenied"), "level 2 without `files`: %s" % [ungranted])
	expect(ungranted.has("wasi list: err PermissionDenied"), "level 2 without `files` cannot list: %s" % [ungranted])
	expect(not FileAccess.file_exists(sandbox(id) + "wasi.txt"), "nothing written without the grant")
	var two := await _wasi_lines(2, 1)
	print("wasi at level 2: %s" % [two])
	for line in ["wasi write: ok ", "wasi read: ok from wasi", "wasi list: ok wasi.txt", "wasi symlink: errno 63",
			"wasi over_quota: err QuotaExceeded", "wasi big_size: ok true", "wasi env: false"]:
		expect(two.has(line), "level 2 should print %s: %s" % [var_to_str(line), two])
	for line in two:
		if line.begins_with("wasi escape_") or line.begins_with("wasi res:") or line.begins_with("wasi user:") or line.begins_with("wasi bad_name:"):
			expect(line.contains(": err "), "level 2 refuses %s" % line)
	expect(not FileAccess.file_exists(escape), "nothing escaped the sandbox at level 2")
	expect_eq(FileAccess.get_file_as_string(sandbox(id) + "wasi.txt"), "from wasi", "the WASI file on disk")
	remove_tree(sandbox(id))
	var three := await _wasi_lines(3, 1)
	print("wasi at level 3: %s" % [three])
	for line in ["wasi write: ok ", "wasi read: ok from wasi", "wasi res: ok true", "wasi user: ok true", "wasi env: true"]:
		expect(three.has(line), "level 3 should print %s: %s" % [var_to_str(line), three])
	remove_tree(sandbox(id))


func test_level_2_functions_trap_as_unexposed_at_level_1() -> void:
	var probe := level2_mod("l2_at_level_1", 1)
	for code in [1, 2, 3, 4, 5, 6]:
		var name: String = ["", "file_write", "file_read", "file_list", "file_delete", "request_permission", "http_request"][code]
		var again := level2_mod("l2_at_level_1_%d" % code, 1)
		var result: Variant = again.node.call_export("op", [code])
		expect_eq(result, null, "op(%d) result at level 1" % code)
		await frames(1)
		expect_eq(again.unexposed, [["wasgo." + name, 1]], "unexposed_call for %s" % name)
		if expect_eq(again.traps.size(), 1, "traps for %s" % name):
			expect_contains(again.traps[0], "call to `wasgo.%s`, which is not exposed at safety level 1" % name, "trap message")
	expect_eq(op_code(probe, 7), 1, "safety_level() at level 1")


func test_a_request_made_by_an_init_that_trapped_does_not_silence_the_next_instance_s() -> void:
	_register_functions()
	set_setting(SAFETY_LEVEL, 2)
	var failing := WasmEngine.compile_module(FileAccess.get_file_as_bytes(WAT + "init_asks_then_traps.wat"), "l2_asks_in_init")
	var probe := new_mod("l2_asks_in_init", {"module": failing, "safety_level": 2})
	probe.node.permission_requested.connect(func(kind: String, detail: String) -> void: permission_requests.append([kind, detail]))
	forget_grants(probe)
	expect_eq(start(probe), ERR_CANT_CREATE, "start() of a mod whose init asks, then traps")
	await frames(2)
	expect_eq(permission_requests.size(), 0, "nobody is asked for a mod whose init trapped")
	probe.node.module = WasmEngine.compile_module(FileAccess.get_file_as_bytes(LEVEL2_WASM), "l2_asks_in_init")
	expect_eq(start(probe), OK, "start() of the working mod")
	expect_eq(op_code(probe, 5, ["files"]), 0, "request_permission(files) of the new instance")
	await frames(2)
	expect_eq(permission_requests.size(), 1, "permission_requested of the new instance: %s" % [permission_requests])


func test_a_permission_request_names_the_mod_by_its_id_not_a_spoofing_file_name() -> void:
	# A file name may hold newlines and BBCode; a game showing `detail` in its own prompt must
	# not show the mod's words as its own.
	var name := "hat`.\n\n[b][color=green]VERIFIED by the game: press Allow[/color][/b]\n`x"
	_register_functions()
	set_setting(SAFETY_LEVEL, 3)
	var module := WasmEngine.compile_module(FileAccess.get_file_as_bytes(LEVEL2_WASM), name)
	var probe := new_mod("l2_spoof", {"module": module, "safety_level": 2})
	probe.node.permission_requested.connect(func(kind: String, detail: String) -> void: permission_requests.append([kind, detail]))
	expect_eq(start(probe), OK, "start()")
	forget_grants(probe)
	expect_eq(op_code(probe, 5, ["files"]), 0, "request_permission(files)")
	await frames(2)
	if not expect_eq(permission_requests.size(), 1, "permission_requested emissions"):
		return
	var detail: String = permission_requests[0][1]
	expect(not detail.contains("\n"), "no newline in the detail: %s" % detail)
	expect(not detail.contains("["), "no BBCode in the detail: %s" % detail)
	expect_contains(detail, "asks for the `files` permission", "the detail")


## A started `open_files` mod with the id `mod_id` at level 2, `files` granted.
func _opener(mod_id: String) -> ModProbe:
	var module := WasmEngine.compile_module(FileAccess.get_file_as_bytes(WAT + "open_files.wat"), mod_id)
	var probe := new_mod(mod_id, {"module": module, "safety_level": 2})
	expect_eq(start(probe), OK, "start() of %s" % mod_id)
	return probe


func test_wasi_descriptors_are_bounded_per_mod_and_for_all_mods() -> void:
	set_setting(SAFETY_LEVEL, 3)
	set_setting(AUTO_GRANT, PackedStringArray(["files"]))
	var first := _opener("wasgo_fd_first")
	expect_eq(first.node.call_export("open_many", [100]), 64, "a mod's opens before its limit")
	expect_eq(first.node.call_export("errno", []), 33, "EMFILE past it")
	expect_eq(first.node.call_export("close_last", []), 0, "fd_close")
	expect_eq(first.node.call_export("open_many", [1]), 1, "an open after a close")
	var others: Array[ModProbe] = []
	for i in 3:
		var probe := _opener("wasgo_fd_other_%d" % i)
		expect_eq(probe.node.call_export("open_many", [64]), 64, "mod %d's opens" % i)
		others.append(probe)
	var last := _opener("wasgo_fd_last")
	expect_eq(last.node.call_export("open_many", [10]), 0, "opens past 256 for all mods together")
	expect_eq(last.node.call_export("errno", []), 41, "ENFILE")
	# A mod that ends gives its descriptors back.
	first.node.kill()
	first.node.free()
	expect_eq(last.node.call_export("open_many", [10]), 10, "opens after a mod with 64 open ended")
	for probe in others + [last]:
		probe.node.kill()
	for mod_id in ["wasgo_fd_first", "wasgo_fd_other_0", "wasgo_fd_other_1", "wasgo_fd_other_2", "wasgo_fd_last"]:
		remove_tree(sandbox(mod_id))


## A grant is for the mod that runs: the game pointing the node at another module (without
## restarting it) does not move the running mod's grants to that module's id.
func test_a_grant_is_saved_for_the_running_mod_not_the_nodes_new_module() -> void:
	var probe := level2_mod("l2_running_id")
	forget_grants(probe)
	probe.node.module = WasmEngine.compile_module(FileAccess.get_file_as_bytes(LEVEL2_WASM), "l2_renamed_id")
	probe.node.grant_permission("files")
	expect_eq(saved_grants("l2_running_id"), PackedStringArray(["files"]), "saved for the running mod")
	expect_eq(saved_grants("l2_renamed_id"), PackedStringArray(), "saved for the node's new module")
	expect_eq(op_code(probe, 1, ["running.txt", "x"]), 0, "file_write of the running mod")
	probe.node.revoke_permission("files")
	expect_eq(saved_grants("l2_running_id"), PackedStringArray(), "revoked for the running mod")
	remove_tree(sandbox("l2_running_id"))


## Two instances of one mod share its quota, also when one rewrites a file through WASI while
## the other truncates it and writes elsewhere into the space that frees: the rewrite was checked
## once (as adding nothing) and moved in chunks, regrowing the truncated file uncounted (2.9 MB in
## a 2 MiB quota in every run). Each chunk is now checked and written under the sandbox's lock.
func test_a_rewrite_racing_a_truncation_keeps_the_shared_quota() -> void:
	var id := "l2_truncation_race"
	remove_tree(sandbox(id))
	set_setting(SAFETY_LEVEL, 3)
	set_setting(STORAGE_MB, 2)
	set_setting(AUTO_GRANT, PackedStringArray(["files"]))
	DirAccess.make_dir_recursive_absolute(sandbox(id))
	var big := FileAccess.open(sandbox(id) + "big", FileAccess.WRITE)
	var zeros := PackedByteArray()
	zeros.resize(BIG_BYTES)
	big.store_buffer(zeros)
	big.close()
	await _race(id, {"rewriter": REWRITER_WAT, "truncator": TRUNCATOR_WAT}, 60000)
	var total := _sandbox_bytes(id)
	expect(total <= 2 * 1024 * 1024, "the sandbox holds %d bytes under a 2 MiB quota" % total)
	remove_tree(sandbox(id))


## Starts one instance of the mod `id` (at level 2) per WAT text in `mods` (node name => text)
## and waits up to `wait_ms` for all of them to end.
func _race(id: String, mods: Dictionary, wait_ms: int) -> void:
	var probes: Array[ModProbe] = []
	for node_name in mods:
		var module := WasmEngine.compile_module(mods[node_name].to_utf8_buffer(), id)
		if not expect(module != null, "compile %s: %s" % [node_name, WasmEngine.get_last_error()]):
			return
		probes.append(new_mod(node_name, {"module": module, "safety_level": 2}))
	for probe in probes:
		expect_eq(start(probe), OK, "start() of %s" % probe.node.name)
	for probe in probes:
		expect(await wait_for_end(probe, wait_ms), "%s ended: %s" % [probe.node.name, probe.describe()])


## The bytes of the files at the top of the sandbox of mod `id`.
func _sandbox_bytes(id: String) -> int:
	var total := 0
	for file in DirAccess.get_files_at(sandbox(id)):
		total += FileAccess.get_file_as_bytes(sandbox(id) + file).size()
	return total


## `big`'s size: 1.75 MiB, seven chunks of a WASI write.
const BIG_BYTES := 1835008

## Rewrites `big` from offset 0 with `fd_pwrite` of 1.75 MiB, 2000 times (adding nothing while
## `big` is whole).
const REWRITER_WAT := """(module
 (import "wasi_snapshot_preview1" "path_open" (func $open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
 (import "wasi_snapshot_preview1" "fd_pwrite" (func $pwrite (param i32 i32 i32 i64 i32) (result i32)))
 (memory (export "memory") 40)
 (data (i32.const 0) "big")
 (func (export "main") (result i32)
   (local $fd i32) (local $i i32)
   (i32.store (i32.const 64) (i32.const 65536))
   (i32.store (i32.const 68) (i32.const 1835008))
   (if (call $open (i32.const 3) (i32.const 0) (i32.const 0) (i32.const 3) (i32.const 0)
         (i64.const 0x1FFFFFFF) (i64.const 0x1FFFFFFF) (i32.const 0) (i32.const 80))
     (then (return (i32.const 1))))
   (local.set $fd (i32.load (i32.const 80)))
   (loop $l
     (drop (call $pwrite (local.get $fd) (i32.const 64) (i32.const 1) (i64.const 0) (i32.const 84)))
     (local.set $i (i32.add (local.get $i) (i32.const 1)))
     (br_if $l (i32.lt_u (local.get $i) (i32.const 2000))))
   (i32.const 0)))"""

## Truncates `big` (`path_open` with `O_TRUNC`), writes 1 MiB to `other` with `wasgo.file_write`
## into the space that frees, waits a little for `big` to grow back, deletes `other`; 100 times,
## or until `big` grew back whole beside `other` (over the quota).
const TRUNCATOR_WAT := """(module
 (import "wasi_snapshot_preview1" "path_open" (func $open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
 (import "wasi_snapshot_preview1" "fd_close" (func $close (param i32) (result i32)))
 (import "wasi_snapshot_preview1" "path_filestat_get" (func $stat (param i32 i32 i32 i32 i32) (result i32)))
 (import "wasgo" "file_write" (func $fw (param i32 i32 i32 i32) (result i32)))
 (import "wasgo" "file_delete" (func $fd (param i32 i32) (result i32)))
 (memory (export "memory") 40)
 (data (i32.const 0) "big")
 (data (i32.const 16) "other")
 (func (export "main") (result i32)
   (local $i i32) (local $j i32)
   (loop $l
     (if (i32.eqz (call $open (i32.const 3) (i32.const 0) (i32.const 0) (i32.const 3) (i32.const 8)
           (i64.const 0x1FFFFFFF) (i64.const 0x1FFFFFFF) (i32.const 0) (i32.const 80)))
       (then (drop (call $close (i32.load (i32.const 80))))))
     (if (i32.eqz (call $fw (i32.const 16) (i32.const 5) (i32.const 65536) (i32.const 1048576)))
       (then
         (local.set $j (i32.const 0))
         (loop $p
           (drop (call $stat (i32.const 3) (i32.const 0) (i32.const 0) (i32.const 3) (i32.const 128)))
           (if (i64.eq (i64.load (i32.const 160)) (i64.const 1835008))
             (then (return (i32.const 2))))
           (local.set $j (i32.add (local.get $j) (i32.const 1)))
           (br_if $p (i32.lt_u (local.get $j) (i32.const 500))))
         (drop (call $fd (i32.const 16) (i32.const 5)))))
     (local.set $i (i32.add (local.get $i) (i32.const 1)))
     (br_if $l (i32.lt_u (local.get $i) (i32.const 100))))
   (i32.const 0)))"""


## `wasgo.file_write` counts, writes its bytes without the sandbox's lock, then renames: another
## instance of the mod moved the old file away in between (and back, and filled it up), and the
## rename took the old file's bytes off a second time: 20 MiB in a 4 MiB quota in five rounds
## (two rounds here, 12 MiB).
## The rename now comes after a second full count.
func test_a_file_moved_away_during_a_file_write_keeps_the_quota() -> void:
	var id := "l2_moved_during_write"
	remove_tree(sandbox(id))
	set_setting(SAFETY_LEVEL, 3)
	set_setting(STORAGE_MB, 4)
	set_setting(AUTO_GRANT, PackedStringArray(["files"]))
	await _race(id, {"writer": MOVED_WRITER_WAT, "mover": MOVED_MOVER_WAT}, 120000)
	var total := _sandbox_bytes(id)
	expect(total <= 4 * 1024 * 1024, "the sandbox holds %d bytes under a 4 MiB quota" % total)
	remove_tree(sandbox(id))


## Twice: waits until `X` is over 1.5 MiB, then `wasgo.file_write("X", 1 MiB)`.
const MOVED_WRITER_WAT := """(module
 (import "wasgo" "file_write" (func $fw (param i32 i32 i32 i32) (result i32)))
 (import "wasi_snapshot_preview1" "path_filestat_get" (func $stat (param i32 i32 i32 i32 i32) (result i32)))
 (memory (export "memory") 40)
 (data (i32.const 0) "X")
 (global $rounds (export "rounds") (mut i32) (i32.const 0))
 (func (export "main") (result i32)
   (local $spin i32) (local $r i32) (local $codes i32)
   (loop $round
     ;; wait until X is the big file (> 1.5 MiB)
     (local.set $spin (i32.const 0))
     (block $ready
       (loop $w
         (if (i32.eqz (call $stat (i32.const 3) (i32.const 0) (i32.const 0) (i32.const 1) (i32.const 128)))
           (then (br_if $ready (i64.gt_u (i64.load (i32.const 160)) (i64.const 1572864)))))
         (local.set $spin (i32.add (local.get $spin) (i32.const 1)))
         (br_if $w (i32.lt_u (local.get $spin) (i32.const 20000000))))
       (return (i32.add (i32.const 1000) (local.get $r))))
     (local.set $codes (i32.add (i32.mul (local.get $codes) (i32.const 10))
        (i32.sub (i32.const 0) (call $fw (i32.const 0) (i32.const 1) (i32.const 65536) (i32.const 1048576)))))
     (local.set $r (i32.add (local.get $r) (i32.const 1)))
     (global.set $rounds (local.get $r))
     (br_if $round (i32.lt_u (local.get $r) (i32.const 2))))
   (local.get $codes)))"""

## Fills `Y` to the quota through WASI, then twice: renames `Y` to `X`, waits for the
## writer's temporary file, renames `X` back to `Y`, waits for the writer's rename, and appends
## to `Y` until refused.
const MOVED_MOVER_WAT := """(module
 (import "wasi_snapshot_preview1" "path_open" (func $open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
 (import "wasi_snapshot_preview1" "fd_write" (func $write (param i32 i32 i32 i32) (result i32)))
 (import "wasi_snapshot_preview1" "fd_close" (func $close (param i32) (result i32)))
 (import "wasi_snapshot_preview1" "path_rename" (func $rename (param i32 i32 i32 i32 i32 i32) (result i32)))
 (import "wasi_snapshot_preview1" "fd_readdir" (func $readdir (param i32 i32 i32 i64 i32) (result i32)))
 (memory (export "memory") 40)
 (data (i32.const 0) "X")
 (data (i32.const 8) "Y")
 (global $appended (export "appended") (mut i32) (i32.const 0))
 ;; 1 when a ".wasgo-tmp-" entry is in the sandbox root
 (func $tmp_present (result i32)
   (local $i i32) (local $end i32)
   (if (call $readdir (i32.const 3) (i32.const 1024) (i32.const 16384) (i64.const 0) (i32.const 96))
     (then (return (i32.const 0))))
   (local.set $end (i32.add (i32.const 1024) (i32.load (i32.const 96))))
   (local.set $i (i32.const 1024))
   (block $no
     (loop $s
       (br_if $no (i32.ge_u (i32.add (local.get $i) (i32.const 4)) (local.get $end)))
       ;; "-tmp" little endian = 0x706d742d
       (if (i32.eq (i32.load (local.get $i)) (i32.const 0x706d742d)) (then (return (i32.const 1))))
       (local.set $i (i32.add (local.get $i) (i32.const 1)))
       (br $s)))
   (i32.const 0))
 ;; append to Y in 256 KiB writes until refused; returns bytes appended
 (func $fill (result i32)
   (local $fd i32) (local $n i32)
   (if (call $open (i32.const 3) (i32.const 0) (i32.const 8) (i32.const 1) (i32.const 1) (i64.const 0x1FFFFFFF) (i64.const 0x1FFFFFFF) (i32.const 1) (i32.const 80))
     (then (return (i32.const -1))))
   (local.set $fd (i32.load (i32.const 80)))
   (i32.store (i32.const 64) (i32.const 65536))
   (i32.store (i32.const 68) (i32.const 262144))
   (block $done
     (loop $l
       (br_if $done (call $write (local.get $fd) (i32.const 64) (i32.const 1) (i32.const 84)))
       (br_if $done (i32.eqz (i32.load (i32.const 84))))
       (local.set $n (i32.add (local.get $n) (i32.load (i32.const 84))))
       (br $l)))
   (drop (call $close (local.get $fd)))
   (local.get $n))
 (func (export "main") (result i32)
   (local $r i32) (local $spin i32)
   ;; round 0: Y up to the quota, counted the normal way
   (global.set $appended (call $fill))
   (loop $round
     (if (call $rename (i32.const 3) (i32.const 8) (i32.const 1) (i32.const 3) (i32.const 0) (i32.const 1))
       (then (return (i32.const -2))))
     ;; wait for the writer's temp file (its first count is done)
     (local.set $spin (i32.const 0))
     (block $seen (loop $w
       (br_if $seen (call $tmp_present))
       (local.set $spin (i32.add (local.get $spin) (i32.const 1)))
       (br_if $w (i32.lt_u (local.get $spin) (i32.const 2000000)))
       (return (i32.const -3))))
     (if (call $rename (i32.const 3) (i32.const 0) (i32.const 1) (i32.const 3) (i32.const 8) (i32.const 1))
       (then (return (i32.const -4))))
     ;; wait until the writer renamed
     (local.set $spin (i32.const 0))
     (block $gone (loop $w2
       (br_if $gone (i32.eqz (call $tmp_present)))
       (local.set $spin (i32.add (local.get $spin) (i32.const 1)))
       (br_if $w2 (i32.lt_u (local.get $spin) (i32.const 2000000)))
       (return (i32.const -5))))
     (global.set $appended (i32.add (global.get $appended) (call $fill)))
     (local.set $r (i32.add (local.get $r) (i32.const 1)))
     (br_if $round (i32.lt_u (local.get $r) (i32.const 2))))
   (global.get $appended)))"""

