## Soak: creating, running and killing 10,000 instances (and 1,000 nodes alive at once) leaves
## nothing behind: the process's resident memory comes back within 10% of its baseline, and the
## thread count and Godot's object count come back to theirs.
extends "res://tests/lib/wasgo_test.gd"

## The runner's time limit for this file's tests (a soak takes longer than the usual 30 s).
const TIMEOUT_MS := 300000

const INSTANCES := 10000
const NODES_AT_ONCE := 1000


func _objects() -> int:
	return int(Performance.get_monitor(Performance.OBJECT_COUNT))


## Runs `count` short lives of `module`: a node is made, started (living on `process`, or
## spinning in `main`), killed and freed; a frame passes every 100 nodes.
func _churn(module: WasmModule, count: int) -> int:
	var failed_starts := 0
	var node: Array[WasmScript] = []
	for i in count:
		failed_starts += start_nodes(module, 1, node)
		free_nodes(node)
		if i % 100 == 99:
			await tree.process_frame
	return failed_starts


func _settle() -> void:
	await wait_for_no_workers(5000)
	await frames(10)


func test_ten_thousand_instances_and_a_thousand_nodes_leave_nothing_behind() -> void:
	if proc_status("VmRSS") < 0:
		print("soak: no /proc/self/status on this platform; the memory and thread checks are skipped")
	var ticking := wat_module("soak_process")
	var spinning := wat_module("soak_spin")
	# Warm up: allocator pools, the module cache, the worker thread machinery.
	expect_eq(await _churn(ticking, 300), 0, "failed starts while warming up")
	expect_eq(await _churn(spinning, 50), 0, "failed starts of spinning mods while warming up")
	await _settle()
	var rss0 := proc_status("VmRSS")
	var threads0 := proc_status("Threads")
	var objects0 := _objects()
	var stats0: Dictionary = WasmEngine.get_stats()

	var t0 := Time.get_ticks_msec()
	# Most lives are callback-only instances; every tenth runs `main` on a worker that is killed.
	var failed := 0
	for round in 10:
		failed += await _churn(ticking, INSTANCES / 10 - INSTANCES / 100)
		failed += await _churn(spinning, INSTANCES / 100)
	expect_eq(failed, 0, "failed starts among %d instances" % INSTANCES)

	# A thousand nodes alive at once, each processing frames, then all killed and freed.
	var nodes: Array[WasmScript] = []
	var failed_at_once := start_nodes(ticking, NODES_AT_ONCE, nodes)
	expect_eq(failed_at_once, 0, "failed starts among %d nodes at once" % NODES_AT_ONCE)
	var alive: int = WasmEngine.get_stats()["instances"] - stats0["instances"]
	expect(alive >= NODES_AT_ONCE, "only %d of %d instances alive at once" % [alive, NODES_AT_ONCE])
	# Under the frame budget (`wasgo/limits/frame_budget_ms`) a frame may not fit a thousand
	# `process` calls: the ones left out run first in the next frame, so every node gets its turn.
	var last := nodes[NODES_AT_ONCE - 1]
	var reached: bool = await wait_until(func() -> bool: return int(last.call_export("frames", [])) >= 1, 10000)
	expect(reached, "the last of %d nodes saw no process frame within 10 s" % NODES_AT_ONCE)
	free_nodes(nodes)
	var took := Time.get_ticks_msec() - t0
	await _settle()

	var rss1 := proc_status("VmRSS")
	var threads1 := proc_status("Threads")
	var objects1 := _objects()
	var stats1: Dictionary = WasmEngine.get_stats()
	print("soak: %d instances + %d at once in %d ms; RSS %d -> %d KiB, threads %d -> %d, objects %d -> %d" % [
		INSTANCES, NODES_AT_ONCE, took, rss0, rss1, threads0, threads1, objects0, objects1])
	expect_eq(stats1["instances"], stats0["instances"], "live instances after the soak")
	expect_eq(stats1["workers"], 0, "worker threads after the soak")
	# Fewer is not a leak: an object of an earlier test (a timer, a node queued for deletion)
	# may end during the soak.
	expect(objects1 <= objects0, "Godot's object count after the soak: %d, before it %d" % [objects1, objects0])
	if rss0 > 0:
		expect(rss1 <= rss0 * 1.10, "resident memory grew from %d to %d KiB (more than 10%%)" % [rss0, rss1])
		expect_eq(threads1, threads0, "the process's thread count after the soak")
