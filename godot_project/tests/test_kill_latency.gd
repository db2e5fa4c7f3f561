## `kill()` returns within 10 ms even with many mods spinning at once (more `main`s than cores):
## ten mods spin in `main`, then each is killed in turn; every `kill()` is timed, and returns with
## the status KILLED and `killed` emitted.
extends "res://tests/lib/wasgo_test.gd"

const MODS_SPINNING := 10
const LIMIT_US := 10000


func test_kill_returns_within_10_ms_with_ten_mods_spinning() -> void:
	var module := wat_module("soak_spin")
	var probes: Array[ModProbe] = []
	for i in MODS_SPINNING:
		var probe := new_mod("spinner_%d" % i, {"module": module, "safety_level": 1})
		expect_eq(start(probe), OK, "start() of spinner %d" % i)
		probes.append(probe)
	await frames(5)
	expect_eq(WasmEngine.get_stats()["running"], MODS_SPINNING, "`main`s running before the kills")
	var took: Array[int] = []
	for probe in probes:
		var before := Time.get_ticks_usec()
		probe.node.kill()
		var us := Time.get_ticks_usec() - before
		took.append(us)
		expect_eq(probe.node.get_status(), WasmScript.STATUS_KILLED, "status of %s when kill() returned" % probe.node.name)
		expect_eq(probe.kills.size(), 1, "`killed` emissions of %s when kill() returned" % probe.node.name)
		expect(us < LIMIT_US, "kill() of %s took %d us; the limit is %d us" % [probe.node.name, us, LIMIT_US])
	var sorted := took.duplicate()
	sorted.sort()
	var p50: int = sorted[sorted.size() / 2]
	var p99: int = sorted[mini(sorted.size() - 1, int(ceil(sorted.size() * 0.99)) - 1)]
	print("kill() with %d mods spinning: p50 %d us, p99 %d us, max %d us" % [MODS_SPINNING, p50, p99, sorted[-1]])
	expect(await wait_for_no_workers(), "worker threads left after the kills: %s" % [WasmEngine.get_stats()])
