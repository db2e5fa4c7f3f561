// A Go program that lives on callbacks: it sets `js.FuncOf` functions on the global object,
// blocks in `select {}`, and reaches the game through the `godot` object when called.
package main

import (
	"fmt"
	"strings"
	"syscall/js"
)

// What `hoard` keeps.
var hoard []js.Value

func main() {
	global := js.Global()
	godot := global.Get("godot")
	global.Set("add", js.FuncOf(func(this js.Value, args []js.Value) any {
		return args[0].Int() + args[1].Int()
	}))
	global.Set("greet", js.FuncOf(func(this js.Value, args []js.Value) any {
		return "hello, " + args[0].String()
	}))
	// sumValues(dict): the sum of a Dictionary's values, found with `Object.keys` (what Go
	// code uses to walk a JavaScript object's fields).
	global.Set("sumValues", js.FuncOf(func(this js.Value, args []js.Value) any {
		keys := global.Get("Object").Call("keys", args[0])
		total := 0
		for i := 0; i < keys.Length(); i++ {
			total += args[0].Get(keys.Index(i).String()).Int()
		}
		return total
	}))
	// dateOf(ms): `new Date(ms).getTime()`.
	global.Set("dateOf", js.FuncOf(func(this js.Value, args []js.Value) any {
		return global.Get("Date").New(args[0]).Call("getTime").Float()
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
	// listenOdd(path, signal): prints the signal's first argument whenever it fires, from a
	// callback that returns a value Godot cannot take (an object holding functions).
	global.Set("listenOdd", js.FuncOf(func(this js.Value, args []js.Value) any {
		node := godot.Call("getNode", args[0].String())
		godot.Call("connect", node, args[1].String(), js.FuncOf(func(this js.Value, a []js.Value) any {
			fmt.Println("odd:", a[0].String())
			return js.Global().Get("console")
		}))
		return nil
	}))
	// ask(kind): godot.requestPermission(kind) (true when granted, false when asked), or
	// "threw: <message>".
	global.Set("ask", js.FuncOf(func(this js.Value, args []js.Value) (result any) {
		defer func() {
			if r := recover(); r != nil {
				result = "threw: " + r.(js.Error).Get("message").String()
			}
		}()
		return godot.Call("requestPermission", args[0].String()).Bool()
	}))
	// listFiles(): writes note.txt into the sandbox and lists it: the names joined by ",", or
	// "threw: <message>".
	global.Set("listFiles", js.FuncOf(func(this js.Value, args []js.Value) (result any) {
		defer func() {
			if r := recover(); r != nil {
				result = "threw: " + r.(js.Error).Get("message").String()
			}
		}()
		godot.Call("fileWrite", "note.txt", "hi")
		names := godot.Call("fileList", "")
		out := []string{}
		for i := 0; i < names.Length(); i++ {
			out = append(out, names.Index(i).String())
		}
		return strings.Join(out, ",")
	}))
	// releaseSelf(): releases the handle of the mod's node, then uses it: "threw: <message>".
	global.Set("releaseSelf", js.FuncOf(func(this js.Value, args []js.Value) (result any) {
		defer func() {
			if r := recover(); r != nil {
				result = "threw: " + r.(js.Error).Get("message").String()
			}
		}()
		me := godot.Call("self")
		godot.Call("release", me)
		godot.Call("get", me, "name")
		return "used after release"
	}))
	// writeNumber(): fileWrite with a number where the bytes go: "threw: <message>" (it wrote
	// an empty file and reported success).
	global.Set("writeNumber", js.FuncOf(func(this js.Value, args []js.Value) (result any) {
		defer func() {
			if r := recover(); r != nil {
				result = "threw: " + r.(js.Error).Get("message").String()
			}
		}()
		godot.Call("fileWrite", "note.txt", 5)
		return "written"
	}))
	global.Set("writeFile", js.FuncOf(func(this js.Value, args []js.Value) any {
		godot.Call("fileWrite", "note.txt", "hi")
		return true
	}))
	// fetch(url, method, body): starts an HTTP request; its answer is printed as
	// `http <status> <bytes> <sum of bytes>` or `http error <code> <message>`, a refused
	// request as `http refused: <message>` (the thrown Error, recovered).
	global.Set("fetch", js.FuncOf(func(this js.Value, args []js.Value) (result any) {
		defer func() {
			if r := recover(); r != nil {
				e, ok := r.(js.Error)
				if !ok {
					panic(r)
				}
				fmt.Println("http refused:", e.Get("message").String())
				result = -1
			}
		}()
		done := js.FuncOf(func(this js.Value, a []js.Value) any {
			if !a[2].IsNull() {
				fmt.Println("http error", a[0].Int(), a[2].String())
				return nil
			}
			body := make([]byte, a[1].Length())
			js.CopyBytesToGo(body, a[1])
			sum := 0
			for _, b := range body {
				sum += int(b)
			}
			fmt.Println("http", a[0].Int(), len(body), sum)
			return nil
		})
		return godot.Call("httpRequest", args[0].String(), args[1].String(), args[2].String(), done)
	}))
	// hostile(kind): hands the host a value a hostile program could; returns "ok", or
	// "threw: <message>" when the host refused it with an Error.
	global.Set("hostile", js.FuncOf(func(this js.Value, args []js.Value) (result any) {
		defer func() {
			if r := recover(); r != nil {
				e, ok := r.(js.Error)
				if !ok {
					panic(r)
				}
				result = "threw: " + e.Get("message").String()
			}
		}()
		array := global.Get("Array")
		switch args[0].String() {
		case "selfArray":
			a := array.New()
			a.SetIndex(0, a)
			godot.Call("emit", "x", a)
		case "selfObject":
			o := global.Get("Object").New()
			o.Set("me", o)
			godot.Call("emit", "x", o)
		case "wide":
			// One array held twice at every level, 60 levels: 2^60 values once converted.
			a := array.New()
			for i := 0; i < 60; i++ {
				a = array.New(a, a)
			}
			godot.Call("emit", "x", a)
		case "twice":
			// Shared, not a cycle: Godot gets it twice.
			inner := array.New(1, 2)
			godot.Call("emit", "twice", array.New(inner, inner))
		case "errorText":
			// `new Error(a)` makes String(a): 65536 copies of a 1 MiB string.
			s := js.ValueOf(strings.Repeat("x", 1<<20))
			a := array.New(65536)
			for i := 0; i < 65536; i++ {
				a.SetIndex(i, s)
			}
			global.Get("Error").New(a)
		case "longPath":
			godot.Call("getNode", strings.Repeat("a", 100000))
		}
		return "ok"
	}))
	// selfRef returns an array that holds itself.
	global.Set("selfRef", js.FuncOf(func(this js.Value, args []js.Value) any {
		a := global.Get("Array").New()
		a.SetIndex(0, a)
		return a
	}))
	// echo(v) returns its argument: the game's value converted to JavaScript and back.
	global.Set("echo", js.FuncOf(func(this js.Value, args []js.Value) any {
		return args[0]
	}))
	// rewrite(path, property) writes a property back with the value read from it.
	global.Set("rewrite", js.FuncOf(func(this js.Value, args []js.Value) any {
		node := godot.Call("getNode", args[0].String())
		godot.Call("set", node, args[1].String(), godot.Call("get", node, args[1].String()))
		return nil
	}))
	// parts(path) reads parts of the node's modulate and transform by their GDScript names.
	global.Set("parts", js.FuncOf(func(this js.Value, args []js.Value) any {
		node := godot.Call("getNode", args[0].String())
		c := godot.Call("get", node, "modulate")
		t := godot.Call("get", node, "transform")
		return []any{c.Get("r").Float(), c.Get("a").Float(), t.Get("origin").Get("x").Float(), t.Get("x").Get("y").Float()}
	}))
	// tint(path, g) sets the green part of the node's modulate.
	global.Set("tint", js.FuncOf(func(this js.Value, args []js.Value) any {
		node := godot.Call("getNode", args[0].String())
		c := godot.Call("get", node, "modulate")
		c.Set("g", args[1])
		godot.Call("set", node, "modulate", c)
		return nil
	}))
	// logs() logs through the global console, as Go-js code written for browsers does.
	global.Set("logs", js.FuncOf(func(this js.Value, args []js.Value) any {
		global.Get("console").Call("log", "console says", 42)
		global.Get("console").Call("error", "console complains")
		return "logged"
	}))
	// releasedListener(path, signal) connects a function and releases it (Go's own runtime then
	// reports a call to it through console.error).
	global.Set("releasedListener", js.FuncOf(func(this js.Value, args []js.Value) any {
		node := godot.Call("getNode", args[0].String())
		f := js.FuncOf(func(this js.Value, a []js.Value) any { return nil })
		godot.Call("connect", node, args[1].String(), f)
		f.Release()
		return nil
	}))
	// passFunc() hands the game a function; returns the Error's message.
	global.Set("passFunc", js.FuncOf(func(this js.Value, args []js.Value) (result any) {
		defer func() {
			if r := recover(); r != nil {
				result = "threw: " + r.(js.Error).Get("message").String()
			}
		}()
		godot.Call("emit", "f", js.FuncOf(func(this js.Value, a []js.Value) any { return nil }))
		return "ok"
	}))
	// bytes() stores out-of-range numbers in a Uint8Array and copies an array into a new one.
	global.Set("bytes", js.FuncOf(func(this js.Value, args []js.Value) any {
		b := global.Get("Uint8Array").New(3)
		b.SetIndex(0, 256)
		b.SetIndex(1, -1)
		b.SetIndex(2, 300)
		c := global.Get("Uint8Array").New(global.Get("Array").New(1, 2, 258))
		return []any{b, c}
	}))
	// selfTyped(path) makes the node's transform hold itself as its `x` column and sets it;
	// returns the Error's message.
	global.Set("selfTyped", js.FuncOf(func(this js.Value, args []js.Value) (result any) {
		defer func() {
			if r := recover(); r != nil {
				result = "threw: " + r.(js.Error).Get("message").String()
			}
		}()
		node := godot.Call("getNode", args[0].String())
		t := godot.Call("get", node, "transform")
		t.Set("x", t)
		godot.Call("set", node, "transform", t)
		return "ok"
	}))
	// hoard(path, property) keeps every value of the property it reads; returns how many.
	global.Set("hoard", js.FuncOf(func(this js.Value, args []js.Value) any {
		node := godot.Call("getNode", args[0].String())
		hoard = append(hoard, godot.Call("get", node, args[1].String()))
		return len(hoard)
	}))
	// nul() returns text with a NUL inside, as a value and as keys.
	global.Set("nul", js.FuncOf(func(this js.Value, args []js.Value) any {
		m := global.Get("Object").New()
		m.Set("k\x00ey", 1)
		m.Set("k", 2)
		return []any{"a\x00b", m}
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
