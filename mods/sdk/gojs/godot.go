// Package godot gives Go programs built with GOOS=js GOARCH=wasm typed helpers over the `godot`
// object WasGo puts on the JavaScript global object. It uses only syscall/js: the program is a
// stock Go program that WasGo runs with its Go-js host (a port of Go's own wasm_exec.js).
//
// A Go-js mod runs `main` on a worker thread. To live on after it, register functions with
// Export (the game calls them with WasmScript.call_export) or signal handlers with
// Node.Connect, then call Wait: those run on the game's main thread under the callback budget.
//
//	func main() {
//		arena, err := godot.GetNode("../..")
//		if err != nil { panic(err) }
//		arena.Connect("player_joined", func(args []js.Value) {
//			fmt.Println("welcome,", args[0].String())
//		})
//		godot.Wait()
//	}
//
// Every method of the `godot` object reaches the game with the powers of the mod's safety level
// (the same allowlist as a `wasgo` mod). A failed operation throws a JavaScript Error, which Go
// turns into a panic of type js.Error; the helpers here that return an error recover it. A member
// the allowlist denies, or a level-2 function below level 2, traps the mod (as it would a `wasgo`
// mod) and cannot be recovered.
package godot

import (
	"fmt"
	"syscall/js"
)

// Node is a Godot object the mod may use (a handle object of the `godot` object).
type Node struct {
	v js.Value
}

// Value is the handle object, for calls the helpers do not cover.
func (n Node) Value() js.Value { return n.v }

func api() js.Value { return js.Global().Get("godot") }

// catch runs f and turns a thrown JavaScript Error into a Go error.
func catch(what string, f func()) (err error) {
	defer func() {
		if r := recover(); r != nil {
			if jsErr, ok := r.(js.Error); ok {
				err = fmt.Errorf("%s: %s", what, jsErr.Get("message").String())
				return
			}
			panic(r)
		}
	}()
	f()
	return nil
}

// Self is the mod's own WasmScript node.
func Self() Node { return Node{api().Call("self")} }

// GetNode finds the node at path, relative to the mod's node (e.g. "../Player").
func GetNode(path string) (Node, error) {
	var n Node
	err := catch("getNode("+path+")", func() { n = Node{api().Call("getNode", path)} })
	return n, err
}

// Get reads a property.
func (n Node) Get(property string) (js.Value, error) {
	var v js.Value
	err := catch("get("+property+")", func() { v = api().Call("get", n.v, property) })
	return v, err
}

// Set writes a property. Vectors are made with Vec2 and Vec3.
func (n Node) Set(property string, value any) error {
	return catch("set("+property+")", func() { api().Call("set", n.v, property, value) })
}

// Call calls a method and returns its result.
func (n Node) Call(method string, args ...any) (js.Value, error) {
	var v js.Value
	all := append([]any{n.v, method}, args...)
	err := catch("call("+method+")", func() { v = api().Call("call", all...) })
	return v, err
}

// Position reads a Node2D's position.
func (n Node) Position() (x, y float64, err error) {
	p, err := n.Get("position")
	if err != nil {
		return 0, 0, err
	}
	return p.Get("x").Float(), p.Get("y").Float(), nil
}

// SetPosition moves a Node2D.
func (n Node) SetPosition(x, y float64) error { return n.Set("position", Vec2(x, y)) }

// Release lets go of the handle (wasgo.release): the node or object is the mod's no more. A
// timer or tween the mod holds stops counting against its caps once it ends; a resource it made
// lives on where the game uses it. Do not use n after.
func (n Node) Release() error {
	return catch("release", func() { api().Call("release", n.v) })
}

// Connect calls handler with the signal's arguments each time the signal fires (on the main
// thread, after main has returned to Wait). The handler lives as long as the mod.
func (n Node) Connect(signal string, handler func(args []js.Value)) error {
	f := js.FuncOf(func(this js.Value, args []js.Value) any {
		handler(args)
		return nil
	})
	return catch("connect("+signal+")", func() { api().Call("connect", n.v, signal, f) })
}

// Emit sends mod_event(name, payload) on the mod's node. The payload is what js.ValueOf takes
// (numbers, strings, booleans, nil, []any, map[string]any, js.Value); an error when the game
// refuses it (a value that contains itself, one too large for the mod's memory limit).
func Emit(name string, payload any) error {
	return catch("emit("+name+")", func() { api().Call("emit", name, payload) })
}

// CallGame calls a function the game registered with WasmEngine.register_function.
func CallGame(module, name string, args ...any) (js.Value, error) {
	var v js.Value
	all := append([]any{module, name}, args...)
	err := catch(module+"."+name, func() { v = api().Call("callGame", all...) })
	return v, err
}

// Vec2 is a Vector2 value for Set and Call.
func Vec2(x, y float64) js.Value { return api().Call("vec2", x, y) }

// Vec3 is a Vector3 value for Set and Call.
func Vec3(x, y, z float64) js.Value { return api().Call("vec3", x, y, z) }

// Export makes f callable by the game as WasmScript.call_export(name, args): its arguments
// arrive as js.Values (numbers, strings, booleans, arrays, handle objects, Godot values as
// objects of their parts) and its result goes back converted. The result is what js.ValueOf
// takes: numbers, strings, booleans, nil, []any, map[string]any and js.Values (Vec2/Vec3,
// values read from the game). Any other (a []int, a struct) is reported on the mod's stderr
// and the game gets null.
func Export(name string, f func(args []js.Value) any) {
	js.Global().Set(name, js.FuncOf(func(this js.Value, args []js.Value) any {
		return exported(name, f(args))
	}))
}

// exported is r as a JavaScript value, or null (with a line on stderr) when js.ValueOf cannot
// take it.
func exported(name string, r any) (v js.Value) {
	defer func() {
		if p := recover(); p != nil {
			println(fmt.Sprintf("godot.Export(%q): the result cannot go to the game (%v); return numbers, strings, booleans, nil, []any, map[string]any or a js.Value", name, p))
			v = js.Null()
		}
	}()
	return js.ValueOf(r)
}

// FileWrite writes data to a file in the mod's sandbox (level 2 and the `files` permission).
func FileWrite(path string, data []byte) error {
	buf := js.Global().Get("Uint8Array").New(len(data))
	js.CopyBytesToJS(buf, data)
	return catch("fileWrite("+path+")", func() { api().Call("fileWrite", path, buf) })
}

// FileRead reads a file from the mod's sandbox (level 2 and the `files` permission).
func FileRead(path string) ([]byte, error) {
	var out []byte
	err := catch("fileRead("+path+")", func() {
		buf := api().Call("fileRead", path)
		out = make([]byte, buf.Length())
		js.CopyBytesToGo(out, buf)
	})
	return out, err
}

// FileDelete removes a file from the mod's sandbox (level 2 and the `files` permission).
func FileDelete(path string) error {
	return catch("fileDelete("+path+")", func() { api().Call("fileDelete", path) })
}

// FileList lists a directory of the mod's sandbox ("" for its root; level 2 and the `files`
// permission): the names, sorted, directories ending with "/".
func FileList(path string) ([]string, error) {
	var out []string
	err := catch("fileList("+path+")", func() {
		names := api().Call("fileList", path)
		for i := 0; i < names.Length(); i++ {
			out = append(out, names.Index(i).String())
		}
	})
	return out, err
}

// RequestPermission asks the game for a permission kind ("files" or "network"; level 2):
// true when the mod has it, else false, and the game is asked (its `permission_requested`
// signal, or WasGo's dialog); try again later, once the game granted it.
func RequestPermission(kind string) (bool, error) {
	var granted bool
	err := catch("requestPermission("+kind+")", func() {
		granted = api().Call("requestPermission", kind).Bool()
	})
	return granted, err
}

// Wait keeps the program alive for its exported functions, signal handlers and the timers
// they start; it never returns (the game ends the mod with kill() or by freeing its node).
// Stop the timers main started (a goroutine's time.Sleep, time.Tick, time.AfterFunc) before
// calling it: while one is pending, main goes on running on its worker thread, and the game's
// calls and signals are refused as busy until it has finished.
func Wait() { select {} }

// HTTPRequest starts an HTTP request (level 2, the `network` permission, a URL the game
// whitelists) and calls done with the answer later, on the main thread: the status and body, or
// err when the request failed. A request the host refuses at once (no permission, a URL off
// the whitelist, too many in flight) returns the error and done is never called.
func HTTPRequest(url, method string, body []byte, done func(status int, body []byte, err error)) error {
	var f js.Func
	f = js.FuncOf(func(this js.Value, a []js.Value) any {
		defer f.Release()
		if !a[2].IsNull() && !a[2].IsUndefined() {
			done(a[0].Int(), nil, fmt.Errorf("%s %s: %s", method, url, a[2].String()))
			return nil
		}
		out := make([]byte, a[1].Length())
		js.CopyBytesToGo(out, a[1])
		done(a[0].Int(), out, nil)
		return nil
	})
	buf := js.Global().Get("Uint8Array").New(len(body))
	js.CopyBytesToJS(buf, body)
	err := catch("httpRequest("+url+")", func() { api().Call("httpRequest", url, method, buf, f) })
	if err != nil {
		f.Release()
	}
	return err
}
