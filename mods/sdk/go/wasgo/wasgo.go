//go:build wasip1

// Package wasgo writes WasGo mods in Go (Go 1.24+, GOOS=wasip1 GOARCH=wasm): helpers over the raw
// imports in sys.go (generated from the catalog by `cargo xtask bindings`).
//
// A Go mod is either a WASI reactor, whose //go:wasmexport functions (ready, process, ...) WasGo
// calls on the main thread after running its `_initialize`, or a WASI command, whose main runs on
// a worker thread and may sleep and loop (every call into the game then waits for the game's main
// thread). Build a reactor with
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -trimpath -ldflags="-s -w" -o mod.wasm .
package wasgo

import (
	"fmt"
	"runtime"
	"strings"
	"unsafe"
)

// Log levels.
const (
	LevelDebug   int32 = 0
	LevelInfo    int32 = 1
	LevelWarning int32 = 2
	LevelError   int32 = 3
)

// Error is a negative return code of a wasgo call (see docs/abi.md).
type Error int32

// The ABI's error codes (ErrNotFound, ...) and Variant type numbers (TypeNil, ...) are generated
// into sys.go from the catalog.

func (e Error) Error() string {
	switch e {
	case ErrNotFound:
		return "not found"
	case ErrInvalidArgument:
		return "invalid argument"
	case ErrInvalidHandle:
		return "invalid handle"
	case ErrCallFailed:
		return "the Godot call failed"
	case ErrPermissionDenied:
		return "permission not granted"
	case ErrBusy:
		return "busy"
	}
	return fmt.Sprintf("wasgo error %d", int32(e))
}

// check turns a negative return code into an Error.
func check(code int32) (int32, error) {
	if code < 0 {
		return code, Error(code)
	}
	return code, nil
}

// StrPtr is a string's address as the raw imports take it. Keep the string alive during the
// call (runtime.KeepAlive).
func StrPtr(s string) unsafe.Pointer {
	return unsafe.Pointer(unsafe.StringData(s))
}

// BytesPtr is a slice's address as the raw imports take it (nil for an empty slice). Keep the
// slice alive during the call (runtime.KeepAlive).
func BytesPtr(b []byte) unsafe.Pointer {
	if len(b) == 0 {
		return nil
	}
	return unsafe.Pointer(&b[0])
}

// Addr is a pointer as an int32 parameter of a game function (the raw imports take pointers).
func Addr(p unsafe.Pointer) int32 {
	return int32(uintptr(p))
}

// Log writes one line to the game's output and the node's `output` signal. Bytes that are not
// UTF-8 (a Go string may hold any) become U+FFFD: the host stops a mod that logs such text.
func Log(level int32, text string) {
	text = strings.ToValidUTF8(text, "\uFFFD")
	RawLog(level, StrPtr(text), uint32(len(text)))
	runtime.KeepAlive(text)
}

// Infof formats and logs a line at info level.
func Infof(format string, args ...any) {
	Log(LevelInfo, fmt.Sprintf(format, args...))
}

// SafetyLevel is the level this instance runs at: 1, 2 or 3.
func SafetyLevel() int32 {
	return RawSafetyLevel()
}

// HasFunction reports whether the import module.name is a real function at this instance's level.
func HasFunction(module, name string) bool {
	ok := RawHasFunction(StrPtr(module), uint32(len(module)), StrPtr(name), uint32(len(name))) == 1
	runtime.KeepAlive(module)
	runtime.KeepAlive(name)
	return ok
}

// ReadBytes calls an out-buffer game function (call(outPtr, outCap) returns the full length)
// until the answer fits, and returns it.
func ReadBytes(call func(outPtr, outCap int32) int32) ([]byte, error) {
	return readBytes(func(out unsafe.Pointer, outCap uint32) int32 {
		return call(Addr(out), int32(outCap))
	})
}

// readBytes is ReadBytes for the raw imports, which take a pointer and a uint32 capacity.
func readBytes(call func(out unsafe.Pointer, outCap uint32) int32) ([]byte, error) {
	buf := make([]byte, 256)
	for {
		n, err := check(call(BytesPtr(buf), uint32(len(buf))))
		runtime.KeepAlive(buf)
		if err != nil {
			return nil, err
		}
		if int(n) <= len(buf) {
			return buf[:n], nil
		}
		buf = make([]byte, n)
	}
}

// ReadString is ReadBytes for text answers.
func ReadString(call func(outPtr, outCap int32) int32) (string, error) {
	b, err := ReadBytes(call)
	return string(b), err
}

// LastError is the message of the last failed wasgo call.
func LastError() string {
	b, _ := readBytes(RawLastError)
	return string(b)
}

// FileWrite writes data to path in the mod's sandbox user://mods/<mod_id>/, atomically
// (level 2, needs the "files" permission).
func FileWrite(path string, data []byte) error {
	_, err := check(RawFileWrite(StrPtr(path), uint32(len(path)), BytesPtr(data), uint32(len(data))))
	runtime.KeepAlive(path)
	runtime.KeepAlive(data)
	return err
}

// FileRead reads a whole file of the mod's sandbox (level 2, needs the "files" permission).
func FileRead(path string) ([]byte, error) {
	data, err := readBytes(func(out unsafe.Pointer, outCap uint32) int32 {
		return RawFileRead(StrPtr(path), uint32(len(path)), out, outCap)
	})
	runtime.KeepAlive(path)
	return data, err
}

// FileList lists a directory of the mod's sandbox ("" for the sandbox itself): its names, a
// folder's ending in "/" (level 2, needs the "files" permission).
func FileList(path string) ([]string, error) {
	data, err := readBytes(func(out unsafe.Pointer, outCap uint32) int32 {
		return RawFileList(StrPtr(path), uint32(len(path)), out, outCap)
	})
	runtime.KeepAlive(path)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, name := range strings.Split(string(data), "\n") {
		if name != "" {
			names = append(names, name)
		}
	}
	return names, nil
}

// FileDelete deletes a file of the mod's sandbox (level 2, needs the "files" permission).
func FileDelete(path string) error {
	_, err := check(RawFileDelete(StrPtr(path), uint32(len(path))))
	runtime.KeepAlive(path)
	return err
}

// HTTPRequest starts a request ("GET", "POST", "PUT", "PATCH", "DELETE") to a URL the game
// whitelists (level 2, needs the "network" permission) and returns its id. The answer arrives
// at the export http_response(id, status int32) (//go:wasmexport http_response); read the
// body there with HTTPBody.
func HTTPRequest(url, method string, body []byte) (int32, error) {
	id, err := check(RawHttpRequest(StrPtr(url), uint32(len(url)), StrPtr(method), uint32(len(method)), BytesPtr(body), uint32(len(body))))
	runtime.KeepAlive(url)
	runtime.KeepAlive(method)
	runtime.KeepAlive(body)
	return id, err
}

// HTTPBody is the body of finished request id (freed once read).
func HTTPBody(id int32) ([]byte, error) {
	return readBytes(func(out unsafe.Pointer, outCap uint32) int32 {
		return RawHttpBody(id, out, outCap)
	})
}

// RequestPermission asks for a permission ("files", "network"): true if granted, false if the
// game was asked (it decides later).
func RequestPermission(kind string) (bool, error) {
	n, err := check(RawRequestPermission(StrPtr(kind), uint32(len(kind))))
	runtime.KeepAlive(kind)
	return n == 1, err
}
