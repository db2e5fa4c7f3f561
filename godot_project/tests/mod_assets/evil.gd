## A script a mod must never get loaded: its static initialiser would mark the engine.
extends StandardMaterial3D

static var ran := _mark()


static func _mark() -> bool:
	Engine.set_meta("wasgo_evil_script_ran", true)
	return true
