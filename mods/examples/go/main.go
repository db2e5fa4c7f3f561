// archivist — the demo's record keeper, in Go (Go 1.24+, GOOS=wasip1): a WASI reactor built with
// -buildmode=c-shared whose //go:wasmexport functions WasGo calls (it runs `_initialize` first).
// Four times a second (in `process`) it asks the game for the leader; whenever the record is
// beaten it saves it to highscore.txt in its sandbox (user://mods/archivist/) with
// wasgo.file_write, a level-2 function the game must allow (safety level 2 and the "files"
// permission). The game calls its export `report` at the end of the round.
package main

import (
	"fmt"
	"runtime"
	"strconv"
	"strings"

	"wasgo-sdk/wasgo"
)

//go:wasmimport game player_count
func playerCount() int32

//go:wasmimport game player_score
func playerScore(index int32) int32

// A "string" result: (out_ptr, out_cap) -> full length.
//
//go:wasmimport game player_name
func playerName(index, outPtr, outCap int32) int32

const recordFile = "highscore.txt"

type record struct {
	name  string
	score int32
}

func (r record) String() string { return fmt.Sprintf("%s %d", r.name, r.score) }

// How often the leader is checked, in seconds.
const checkEvery = 0.25

var (
	best        record
	sinceCheck  float64
	initialized bool
)

// A reactor's main is never called; its exports are.
func main() {}

//go:wasmexport ready
func ready() {
	wasgo.Infof("archivist ready at safety level %d: the record lives in %s", wasgo.SafetyLevel(), recordFile)
	best = previousRecord()
	initialized = true
}

//go:wasmexport process
func process(delta float64) {
	sinceCheck += delta
	if !initialized || sinceCheck < checkEvery {
		return
	}
	sinceCheck = 0
	leader, ok := currentLeader()
	if !ok || leader.score <= best.score {
		return
	}
	best = leader
	if err := wasgo.FileWrite(recordFile, []byte(best.String()+"\n")); err != nil {
		wasgo.Infof("archivist: cannot save the record: %v (%s)", err, wasgo.LastError())
		return
	}
	wasgo.Infof("archivist: new record, %s with %d points, saved to %s", best.name, best.score, recordFile)
}

// report logs what the record file holds; the game calls it when the round is over.
//
//go:wasmexport report
func report() {
	saved, err := wasgo.FileRead(recordFile)
	if err != nil {
		wasgo.Infof("archivist: round over, nothing saved (%v)", err)
		return
	}
	wasgo.Infof("archivist: round over, %s holds: %s", recordFile, strings.TrimSpace(string(saved)))
}

// files logs the names in the archivist's sandbox (the game may call it to show what a mod
// keeps on the player's disk).
//
//go:wasmexport files
func files() {
	names, err := wasgo.FileList("")
	if err != nil {
		wasgo.Infof("archivist: cannot list the sandbox (%v)", err)
		return
	}
	wasgo.Infof("archivist: the sandbox holds %s", strings.Join(names, ", "))
}

// previousRecord reads the record an earlier run saved, if any.
func previousRecord() record {
	data, err := wasgo.FileRead(recordFile)
	if err != nil {
		return record{}
	}
	fields := strings.Fields(string(data))
	if len(fields) != 2 {
		return record{}
	}
	score, _ := strconv.Atoi(fields[1])
	wasgo.Infof("archivist: the record to beat is %s with %d points", fields[0], score)
	return record{name: fields[0], score: int32(score)}
}

// currentLeader is the player with the most points right now.
func currentLeader() (record, bool) {
	count := playerCount()
	best, found := record{}, false
	for i := int32(0); i < count; i++ {
		if score := playerScore(i); !found || score > best.score {
			best, found = record{name: nameOf(i), score: score}, true
		}
	}
	return best, found
}

func nameOf(index int32) string {
	name, err := wasgo.ReadString(func(outPtr, outCap int32) int32 { return playerName(index, outPtr, outCap) })
	runtime.KeepAlive(index)
	if err != nil {
		return "?"
	}
	return name
}
