//! WasGo mods in Zig: the raw imports (`sys`, generated from the catalog by `cargo xtask
//! bindings`) and helpers for strings, logging, out-buffers and a few Variant encodings.
//!
//! Build a mod (Zig 0.15) with:
//!   zig build-exe -target wasm32-freestanding -O ReleaseSmall -fno-entry -rdynamic -fno-strip \
//!       --dep wasgo -Mroot=src/main.zig -Mwasgo=path/to/mods/sdk/zig/wasgo.zig
//! (`-fno-strip` keeps the function names a trap's backtrace shows; `cargo xtask mods` then
//! drops the debug info and keeps the names.)
const std = @import("std");

/// The raw `wasgo` imports (pointers are `[*]const u8`/`[*]u8`, lengths `usize`) and the ABI's
/// constants, generated from the catalog.
pub const sys = @import("sys.zig");

/// Log levels of `log`.
pub const Level = enum(i32) { debug = 0, info = 1, warning = 2, err = 3 };

/// Error codes of the ABI (docs/abi.md), generated into `sys`.
pub const not_found = sys.not_found;
pub const invalid_argument = sys.invalid_argument;
pub const invalid_handle = sys.invalid_handle;
pub const call_failed = sys.call_failed;
pub const permission_denied = sys.permission_denied;
pub const busy = sys.busy;

/// Godot's Variant type numbers, generated into `sys`.
pub const variant_type = sys.variant_type;

/// A slice's address as an `i32` parameter of a game function (the `sys` imports take slices'
/// pointers directly).
pub fn ptrOf(bytes: []const u8) i32 {
    return @intCast(@intFromPtr(bytes.ptr));
}

/// A slice's length as an `i32` parameter of a game function.
pub fn lenOf(bytes: []const u8) i32 {
    return @intCast(bytes.len);
}

/// Writes one line to the game's output and the node's `output` signal.
pub fn log(level: Level, text: []const u8) void {
    sys.log(@intFromEnum(level), text.ptr, text.len);
}

/// Formats (`std.fmt` syntax) and logs one line; a longer one than 1 KiB is cut to what fits,
/// less a character the cut would split.
pub fn logf(level: Level, comptime format: []const u8, args: anytype) void {
    var buf: [1024]u8 = undefined;
    var w: std.Io.Writer = .fixed(&buf);
    // On overflow `w` holds what fitted, which may end inside a character.
    w.print(format, args) catch {};
    log(level, wholeChars(w.buffered()));
}

/// `text` less a last UTF-8 character whose bytes do not all fit (its lead byte and the
/// continuation bytes 0b10xxxxxx after it): text cut to fit a buffer is cut here, because the
/// host traps on text that is not UTF-8.
pub fn wholeChars(text: []const u8) []const u8 {
    var lead = text.len;
    var seen: usize = 0;
    while (lead > 0 and seen < 4 and text[lead - 1] & 0xc0 == 0x80) : (seen += 1) lead -= 1;
    if (lead == 0) return text; // no lead byte: not UTF-8 to begin with
    const b = text[lead - 1];
    const need: usize = if (b >= 0xf0) 4 else if (b >= 0xe0) 3 else if (b >= 0xc0) 2 else 1;
    return if (text.len - (lead - 1) >= need) text else text[0 .. lead - 1];
}

/// Stops the mod with a trap carrying `message`.
pub fn abort(message: []const u8) noreturn {
    sys.abort(message.ptr, message.len);
    unreachable;
}

/// The safety level this instance runs at: 1, 2 or 3.
pub fn safetyLevel() i32 {
    return sys.safety_level();
}

/// Whether the import `module.name` is a real function at this instance's level.
pub fn hasFunction(module: []const u8, name: []const u8) bool {
    return sys.has_function(module.ptr, module.len, name.ptr, name.len) == 1;
}

/// The answer of an out-buffer call made with `buf`: the written bytes, or null when the call
/// failed (`result` < 0) or the answer did not fit (then nothing was written).
pub fn outBuffer(buf: []const u8, result: i32) ?[]const u8 {
    if (result < 0) return null;
    const n: usize = @intCast(result);
    if (n > buf.len) return null;
    return buf[0..n];
}

/// The message of the last failed `wasgo` call (empty if none, or if it does not fit `buf`).
pub fn lastError(buf: []u8) []const u8 {
    return outBuffer(buf, sys.last_error(buf.ptr, buf.len)) orelse "";
}

/// Writes the Variant encoding of a String into `buf` (Godot's binary format); null if it does not fit.
pub fn encodeString(buf: []u8, text: []const u8) ?[]const u8 {
    const padded = (text.len + 3) & ~@as(usize, 3);
    if (buf.len < 8 + padded) return null;
    std.mem.writeInt(u32, buf[0..4], variant_type.STRING, .little);
    std.mem.writeInt(u32, buf[4..8], @intCast(text.len), .little);
    @memcpy(buf[8 .. 8 + text.len], text);
    @memset(buf[8 + text.len .. 8 + padded], 0);
    return buf[0 .. 8 + padded];
}

/// Writes the Variant encoding of an int into `buf` (32-bit, or 64-bit with flag 1 << 16).
pub fn encodeInt(buf: []u8, value: i64) ?[]const u8 {
    if (value >= std.math.minInt(i32) and value <= std.math.maxInt(i32)) {
        if (buf.len < 8) return null;
        std.mem.writeInt(u32, buf[0..4], variant_type.INT, .little);
        std.mem.writeInt(i32, buf[4..8], @intCast(value), .little);
        return buf[0..8];
    }
    if (buf.len < 12) return null;
    std.mem.writeInt(u32, buf[0..4], variant_type.INT | (1 << 16), .little);
    std.mem.writeInt(i64, buf[4..12], value, .little);
    return buf[0..12];
}

/// Emits the node's `mod_event(name, payload)` with an already encoded payload; 0 on success.
pub fn emit(name: []const u8, payload: []const u8) i32 {
    return sys.emit(name.ptr, name.len, payload.ptr, payload.len);
}
