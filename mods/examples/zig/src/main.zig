//! greeter — the demo's host, in Zig: welcomes every player who joins the arena, by name.
//!
//! Its `main` runs first, on a worker thread, and returns at once. Then each frame it asks the game how many players there are (`game.player_count`) and greets each
//! new one, reading the name through `game.player_name`, a function with a "string" result:
//! `(index, out_ptr, out_cap) -> full length`.
const wasgo = @import("wasgo");

extern "game" fn player_count() i32;
extern "game" fn player_name(index: i32, out_ptr: i32, out_cap: i32) i32;

/// How many players have been greeted so far.
var greeted: i32 = 0;

/// Runs once on a worker thread when the node starts; `process` takes over when it returns.
export fn main() i32 {
    wasgo.log(.info, "greeter: main ran on a worker thread; greeting from process from now on");
    return 0;
}

export fn ready() void {
    wasgo.logf(.info, "greeter ready at safety level {d}: every newcomer gets a welcome", .{wasgo.safetyLevel()});
}

export fn process(delta: f64) void {
    _ = delta;
    const count = player_count();
    while (greeted < count) : (greeted += 1) {
        var buf: [64]u8 = undefined;
        const name = wasgo.outBuffer(&buf, player_name(greeted, wasgo.ptrOf(&buf), wasgo.lenOf(&buf))) orelse "stranger";
        wasgo.logf(.info, "greeter: welcome to the arena, {s}! you are player #{d}", .{ name, greeted + 1 });
    }
}

/// A line longer than `wasgo.logf`'s 1 KiB buffer, with the three-byte "€" across the cut: `logf`
/// cuts before that character, because the host stops a mod that logs text that is not UTF-8.
/// (The Godot suite calls this export: tests/test_examples.gd.)
export fn long_line() void {
    // "greeter: " is 9 bytes: the euro sign starts at byte 1022, the buffer ends at 1024.
    const xs = "x" ** (1022 - 9);
    wasgo.logf(.info, "greeter: {s}€{s}", .{ xs, "x" ** 80 });
}
