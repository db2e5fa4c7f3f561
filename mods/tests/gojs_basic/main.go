// A plain Go program, built with the stock toolchain (`GOOS=js GOARCH=wasm go build`), that
// exercises what WasGo's Go-js host must provide: output, sleeping, the clock, crypto/rand, maps,
// goroutines and channels, syscall/js values, and the exit code. With the argument `spin` it loops forever, with
// `sleep` it sleeps for an hour (for the kill tests).
package main

import (
	"crypto/rand"
	"fmt"
	"os"
	"sort"
	"sync"
	"syscall/js"
	"time"
)

func main() {
	for _, arg := range os.Args[1:] {
		switch arg {
		case "spin":
			fmt.Println("spinning")
			n := 0
			for {
				n++
			}
		case "sleep":
			fmt.Println("sleeping")
			time.Sleep(time.Hour)
		}
	}
	fmt.Println("hello from go")
	start := time.Now()
	time.Sleep(20 * time.Millisecond)
	fmt.Println("slept:", time.Since(start) >= 20*time.Millisecond)
	fmt.Println("year ok:", time.Now().Year() >= 2024)

	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	zero := true
	for _, x := range b {
		zero = zero && x == 0
	}
	fmt.Println("random:", len(b), !zero)

	m := map[string]int{"a": 1, "b": 2, "c": 3}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	fmt.Println("map:", keys, m["b"])

	ch := make(chan int)
	var wg sync.WaitGroup
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			time.Sleep(time.Duration(i) * time.Millisecond)
			ch <- i * i
		}(i)
	}
	go func() {
		wg.Wait()
		close(ch)
	}()
	sum := 0
	for v := range ch {
		sum += v
	}
	fmt.Println("sum:", sum)

	// JavaScript's semantics, as wasm_exec.js has them: an index-like name is the element,
	// `length` cuts an array, a negative index is a property, numbers print as JS prints them.
	a := js.ValueOf([]any{1, 2, 3})
	a.Set("0", 5)
	a.Set("length", 2)
	o := js.Global().Get("Object").New()
	o.SetIndex(-1, 7)
	fmt.Println("js:", a.Index(0).Int(), a.Length(), o.Index(-1).Int(), js.ValueOf(1e21).String(), js.ValueOf(1e-7).String())
	// The prototype methods the host has: an array's push, pop, join, slice, indexOf and
	// includes, any object's hasOwnProperty.
	arr := js.Global().Get("Array").New()
	arr.Call("push", 1, "two")
	fmt.Println("array:", arr.Call("push", 3).Int(), arr.Call("pop").Int(), arr.Length(), arr.Call("join", "-").String(), arr.Call("join").String(),
		arr.Call("indexOf", "two").Int(), arr.Call("indexOf", 9).Int(), arr.Call("includes", 1).Bool(), arr.Call("slice", -1).Index(0).String(),
		o.Call("hasOwnProperty", "-1").Bool(), arr.Call("hasOwnProperty", "push").Bool(), arr.Call("hasOwnProperty", 1).Bool())

	// A longer `length` grows an array, a deleted element reads as undefined, and Object(x) of
	// an object is that object.
	grown := js.ValueOf([]any{1})
	grown.Set("length", 3)
	grown.Delete("0")
	fmt.Println("grown:", grown.Length(), grown.Index(0).IsUndefined(), grown.Index(2).IsUndefined(), js.Global().Get("Object").Invoke(o).Equal(o))

	// `instanceof Error` holds for `new Error(...)` and for what the host throws, and for
	// nothing else.
	errorCtor := js.Global().Get("Error")
	made := errorCtor.New("made")
	fmt.Println("instanceof:", made.InstanceOf(errorCtor), thrown().InstanceOf(errorCtor), o.InstanceOf(errorCtor), made.Get("message").String(), "["+errorCtor.New().Get("message").String()+"]")
	fmt.Fprintln(os.Stderr, "to stderr")
	os.Exit(3)
}

// What the host throws at `new Array(-1)`, caught as Go's syscall/js panics with it.
func thrown() (err js.Value) {
	err = js.Undefined()
	defer func() {
		if e, ok := recover().(js.Error); ok {
			err = e.Value
		}
	}()
	js.Global().Get("Array").New(-1)
	return err
}
