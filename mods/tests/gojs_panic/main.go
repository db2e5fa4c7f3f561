// A Go program that panics: WasGo must end it as a trap carrying Go's panic message.
package main

import "fmt"

func main() {
	fmt.Println("about to panic")
	panic("boom from go")
}
