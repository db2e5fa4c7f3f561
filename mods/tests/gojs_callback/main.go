// A Go program that lives on callbacks: it sets `js.FuncOf` functions on the global object,
// blocks in `select {}`, and reaches the game through the `godot` object when called.
package main

import (
	"fmt"
	"syscall/js"
)

func main() {
	global := js.Global()
	godot := global.Get("godot")
	global.Set("add", js.FuncOf(func(this js.Value, args []js.Value) any {
		return args[0].Int() + args[1].Int()
	}))
	global.Set("greet", js.FuncOf(func(this js.Value, args []js.Value) any {
		return "hello, " + args[0].String()
	}))
	// move(path, dx): moves the Node2D at `path` right by `dx`; returns the new x.
	global.Set("move", js.FuncOf(func(this js.Value, args []js.Value) any {
		node := godot.Call("getNode", args[0].String())
		pos := godot.Call("get", node, "position")
		x := pos.Get("x").Float() + args[1].Float()
		godot.Call("set", node, "position", godot.Call("vec2", x, pos.Get("y").Float()))
		return x
	}))
	// listen(path, signal): prints the signal's first argument whenever it fires.
	global.Set("listen", js.FuncOf(func(this js.Value, args []js.Value) any {
		node := godot.Call("getNode", args[0].String())
		godot.Call("connect", node, args[1].String(), js.FuncOf(func(this js.Value, a []js.Value) any {
			fmt.Println("signal:", a[0].String())
			godot.Call("emit", "heard", a[0])
			return len(a)
		}))
		return nil
	}))
	global.Set("writeFile", js.FuncOf(func(this js.Value, args []js.Value) any {
		godot.Call("fileWrite", "note.txt", "hi")
		return true
	}))
	global.Set("spin", js.FuncOf(func(this js.Value, args []js.Value) any {
		n := 0
		for {
			n++
		}
	}))
	fmt.Println("ready")
	select {}
}
