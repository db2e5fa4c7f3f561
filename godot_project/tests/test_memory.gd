## What an idle instance costs in resident memory, in both runtime modes (the suite's interpreter
## pass runs this file too): many started mods must not cost more than a small share of what a
## game keeps resident. Linux only (it reads `/proc/self/status`); elsewhere it says so and
## passes.
extends "res://tests/lib/wasgo_test.gd"

## Instances alive at once: more than any file that runs before this one keeps alive at once
## (`test_soak`, after it, keeps 1,000), so the memory they touch cannot all be memory an earlier
## test touched and the allocator kept.
const AT_ONCE := 500
## Resident memory an idle instance may add. Compiled instances add about 13 KiB, interpreted ones
## about 20 KiB; before WasGo turned off mimalloc's eagerly committed arenas an interpreted one
## added about 650 KiB (its interpreter stack, touched at the top, came in 2 MiB huge pages).
const MAX_KIB_PER_INSTANCE := 128


func test_idle_instances_stay_small_in_resident_memory() -> void:
	var rss0 := proc_status("VmRSS")
	if rss0 < 0:
		print("memory: no /proc/self/status on this platform; the resident-memory check is skipped")
		return
	var module := wat_module("soak_process")
	var nodes: Array[WasmScript] = []
	var failed := start_nodes(module, AT_ONCE, nodes)
	# A frame each calls `process` in, so each instance has run once, as a game's would.
	await frames(2)
	var rss1 := proc_status("VmRSS")
	var per_instance := float(rss1 - rss0) / AT_ONCE
	print("memory: %d instances (%s) added %d KiB resident, %.1f KiB each" % [
		AT_ONCE, WasmEngine.get_stats()["mode"], rss1 - rss0, per_instance])
	expect_eq(failed, 0, "failed starts among %d instances" % AT_ONCE)
	expect(per_instance <= MAX_KIB_PER_INSTANCE,
		"%d idle instances added %.1f KiB of resident memory each (at most %d expected)" % [AT_ONCE, per_instance, MAX_KIB_PER_INSTANCE])
	free_nodes(nodes)
