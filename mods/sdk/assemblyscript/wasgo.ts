// WasGo mods in AssemblyScript: helpers over the raw imports in `sys.ts` (generated from the
// catalog by `cargo xtask bindings`): UTF-8 strings, logging, out-buffers and a Variant writer
// for Godot's binary format (docs/variant-encoding.md).
//
// Build a mod with (AssemblyScript 0.28):
//   asc assembly/index.ts --outFile mod.wasm --optimize --shrinkLevel 2 --noAssert --debug \
//       --runtime incremental --use abort=path/to/mods/sdk/assemblyscript/wasgo/wasgoAbort
// (`--debug` keeps the function names a trap's backtrace shows.)
import * as sys from "./sys";

export const LOG_DEBUG: i32 = 0;
export const LOG_INFO: i32 = 1;
export const LOG_WARNING: i32 = 2;
export const LOG_ERROR: i32 = 3;

/** The address of an ArrayBuffer as the `sys` imports take it (a game function's `i32`
 *  parameter takes `ptrOf(buf) as i32`). */
export function ptrOf(buf: ArrayBuffer): usize {
  return changetype<usize>(buf);
}

/** The length of an ArrayBuffer as the `sys` imports take it. */
export function lenOf(buf: ArrayBuffer): usize {
  return <usize>buf.byteLength;
}

/** `text` as UTF-8 bytes for the host: a lone surrogate (half of a UTF-16 pair) becomes U+FFFD.
 *  (`String.UTF8.encode` alone writes it as WTF-8, which is not UTF-8, and the host traps on
 *  such text.) Use it for every string a `sys` import or a game function takes. */
export function utf8(text: string): ArrayBuffer {
  return String.UTF8.encode(text, false, String.UTF8.ErrorMode.REPLACE);
}

/** Writes one line to the game's output and the node's `output` signal. */
export function log(level: i32, text: string): void {
  const bytes = utf8(text);
  sys.log(level, ptrOf(bytes), lenOf(bytes));
}

/** Logs at info level. */
export function info(text: string): void {
  log(LOG_INFO, text);
}

/** Logs at warning level. */
export function warn(text: string): void {
  log(LOG_WARNING, text);
}

/** The safety level this instance runs at: 1, 2 or 3. */
export function safetyLevel(): i32 {
  return sys.safety_level();
}

/** Whether the import `module.name` is a real function at this instance's level. */
export function hasFunction(module: string, name: string): bool {
  const m = utf8(module);
  const n = utf8(name);
  return sys.has_function(ptrOf(m), lenOf(m), ptrOf(n), lenOf(n)) == 1;
}

/** The text an out-buffer call wrote into `buf` (`result` is what it returned), or null when it
 *  failed or did not fit (then call again with a buffer of `result` bytes). */
export function outString(buf: ArrayBuffer, result: i32): string | null {
  if (result < 0 || result > buf.byteLength) return null;
  return String.UTF8.decodeUnsafe(changetype<usize>(buf), result);
}

/** The message of the last failed `wasgo` call. */
export function lastError(): string {
  let buf = new ArrayBuffer(256);
  let n = sys.last_error(ptrOf(buf), lenOf(buf));
  if (n > buf.byteLength) {
    buf = new ArrayBuffer(n);
    n = sys.last_error(ptrOf(buf), lenOf(buf));
  }
  const text = outString(buf, n);
  return text === null ? "" : text;
}

/** Emits the node's `mod_event(name, payload)`; 0 on success. */
export function emit(name: string, payload: VariantWriter): i32 {
  const n = utf8(name);
  const bytes = payload.finish();
  return sys.emit(ptrOf(n), lenOf(n), ptrOf(bytes), lenOf(bytes));
}

/** Handles AssemblyScript's own aborts (failed assertions, out-of-bounds access): stops the mod
 *  through `wasgo.abort` with the message. Selected with `--use abort=.../wasgo/wasgoAbort`. */
export function wasgoAbort(message: string | null, fileName: string | null, line: u32, column: u32): void {
  let text = message === null ? "abort" : message;
  if (fileName !== null) text += " at " + fileName + ":" + line.toString() + ":" + column.toString();
  const bytes = utf8(text);
  sys.abort_(ptrOf(bytes), lenOf(bytes));
  unreachable();
}

const FLAG_64: u32 = 1 << 16;

/** Builds Variants in Godot's binary format: put values in order (containers first announce
 *  their element count), then `finish()`. */
export class VariantWriter {
  private buf: ArrayBuffer = new ArrayBuffer(64);
  private len: i32 = 0;

  private reserve(n: i32): void {
    if (this.len + n <= this.buf.byteLength) return;
    let cap = this.buf.byteLength * 2;
    while (cap < this.len + n) cap *= 2;
    const bigger = new ArrayBuffer(cap);
    memory.copy(changetype<usize>(bigger), changetype<usize>(this.buf), this.len);
    this.buf = bigger;
  }

  private u32(v: u32): void {
    this.reserve(4);
    store<u32>(changetype<usize>(this.buf) + this.len, v);
    this.len += 4;
  }

  private text(s: string): void {
    const bytes = utf8(s);
    const n = bytes.byteLength;
    const padded = (n + 3) & ~3;
    this.u32(n as u32);
    this.reserve(padded);
    memory.copy(changetype<usize>(this.buf) + this.len, changetype<usize>(bytes), n);
    memory.fill(changetype<usize>(this.buf) + this.len + n, 0, padded - n);
    this.len += padded;
  }

  nil(): VariantWriter { this.u32(sys.TYPE_NIL); return this; }
  bool(b: bool): VariantWriter { this.u32(sys.TYPE_BOOL); this.u32(b ? 1 : 0); return this; }
  int(v: i64): VariantWriter {
    if (v >= i32.MIN_VALUE && v <= i32.MAX_VALUE) {
      this.u32(sys.TYPE_INT);
      this.u32(<u32>(<i32>v));
    } else {
      this.u32(sys.TYPE_INT | FLAG_64);
      this.u32(<u32>v);
      this.u32(<u32>(v >> 32));
    }
    return this;
  }
  float(v: f64): VariantWriter {
    if (<f64>(<f32>v) == v) {
      this.u32(sys.TYPE_FLOAT);
      this.u32(reinterpret<u32>(<f32>v));
    } else {
      const bits = reinterpret<u64>(v);
      this.u32(sys.TYPE_FLOAT | FLAG_64);
      this.u32(<u32>bits);
      this.u32(<u32>(bits >> 32));
    }
    return this;
  }
  string(s: string): VariantWriter { this.u32(sys.TYPE_STRING); this.text(s); return this; }
  vector2(x: f32, y: f32): VariantWriter {
    this.u32(sys.TYPE_VECTOR2);
    this.u32(reinterpret<u32>(x));
    this.u32(reinterpret<u32>(y));
    return this;
  }
  /** An Array of `count` elements; put the elements next. */
  array(count: i32): VariantWriter { this.u32(sys.TYPE_ARRAY); this.u32(count as u32); return this; }
  /** A Dictionary of `count` entries; put key, value, key, value, ... next. */
  dictionary(count: i32): VariantWriter { this.u32(sys.TYPE_DICTIONARY); this.u32(count as u32); return this; }

  /** The encoded bytes. */
  finish(): ArrayBuffer {
    return this.buf.slice(0, this.len);
  }
}
