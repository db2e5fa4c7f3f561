// announcer: the arena's announcer, an unmodified Go program built with GOOS=js GOARCH=wasm.
//
// It finds the arena through the `godot` object, connects a js.FuncOf handler to its
// `player_joined` signal and announces each player who joins; it exports `spotlight` (a
// js.FuncOf function on the global object) that the game calls with call_export at the end of
// the round, and then blocks in select {} (godot.Wait) so it lives on handlers.
package main

import (
	"fmt"
	"strings"
	"syscall/js"
	"time"

	godot "wasgo-gojs"
)

func main() {
	arena, err := godot.GetNode("../..")
	if err != nil {
		fmt.Println("announcer: no arena:", err)
		return
	}
	joined := 0
	started := time.Now()
	err = arena.Connect("player_joined", func(args []js.Value) {
		joined++
		name := args[0].String()
		fmt.Printf("announcer: now entering the arena, %s! (player %d, %.1f s in)\n",
			name, joined, time.Since(started).Seconds())
		godot.Emit("announced", name)
	})
	if err != nil {
		fmt.Println("announcer: cannot listen for players:", err)
		return
	}
	godot.Export("spotlight", func(args []js.Value) any {
		if len(args) < 2 {
			return "nobody to put in the spotlight"
		}
		name, score := args[0].String(), args[1].Int()
		line := fmt.Sprintf("%s takes the crown with %d points after %d players joined", strings.ToUpper(name), score, joined)
		fmt.Println("announcer: " + line)
		return line
	})
	fmt.Println("announcer: ready in the booth")
	godot.Wait()
}
