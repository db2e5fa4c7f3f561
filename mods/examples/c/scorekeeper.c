/* scorekeeper — the demo's referee, in C (clang + wasi-libc).
 *
 * Every second it finds the player nearest the star at the top of the arena, awards them 10
 * points through the game's `game.award`, and logs it. Where this WasGo has `wasgo.emit`, it also
 * sends each award to the game as a `mod_event("award", {"player": name, "points": n, "total": t})`
 * encoded with wasgo.h's Variant writer. */
#include <math.h>
#include <string.h>
#include "wasgo.h"

/* Functions the demo game registers (WasmEngine.register_function). */
WASGO_GAME_IMPORT("game", "player_count") int32_t game_player_count(void);
WASGO_GAME_IMPORT("game", "player_x") float game_player_x(int32_t index);
WASGO_GAME_IMPORT("game", "player_y") float game_player_y(int32_t index);
/* A "string" result: (out_ptr, out_cap) -> full length. */
WASGO_GAME_IMPORT("game", "player_name") int32_t game_player_name(int32_t index, int32_t out_ptr, int32_t out_cap);
WASGO_GAME_IMPORT("game", "award") int32_t game_award(int32_t index, int32_t points);

#define STAR_X 320.0f
#define STAR_Y 40.0f
#define POINTS 10
#define EVERY_S 1.0

static double since_last_award = 0.0;
static int awards = 0;

WASGO_EXPORT("ready") void on_ready(void) {
    wasgo_logf(WASGO_INFO, "scorekeeper ready: %d points a second for whoever is nearest the star", POINTS);
}

WASGO_EXPORT("process") void on_process(double delta) {
    since_last_award += delta;
    if (since_last_award < EVERY_S) return;
    since_last_award -= EVERY_S;

    int32_t count = game_player_count();
    int32_t best = -1;
    float best_d = INFINITY;
    for (int32_t i = 0; i < count; i++) {
        float dx = game_player_x(i) - STAR_X, dy = game_player_y(i) - STAR_Y;
        float d = sqrtf(dx * dx + dy * dy);
        if (d < best_d) { best_d = d; best = i; }
    }
    if (best < 0) return;

    char name[64];
    int32_t n = game_player_name(best, WASGO_PTR(name), sizeof name - 1);
    if (n < 0 || n > (int32_t)sizeof name - 1) n = 0;
    name[n] = 0;
    int32_t total = game_award(best, POINTS);
    awards++;
    wasgo_logf(WASGO_INFO, "scorekeeper: +%d to %s, nearest the star (%.0f px), now %d", POINTS, name, best_d, total);

    if (wasgo_has("wasgo", "emit")) {
        uint8_t buf[256];
        wasgo_writer w = wasgo_writer_init(buf, sizeof buf);
        wasgo_put_dictionary(&w, 3);
        wasgo_put_string(&w, "player"); wasgo_put_string(&w, name);
        wasgo_put_string(&w, "points"); wasgo_put_int(&w, POINTS);
        wasgo_put_string(&w, "total"); wasgo_put_int(&w, total);
        wasgo_emit_encoded("award", &w);
    }
}

/* A line longer than wasgo_logf's 1 KiB buffer, with the three-byte "€" across the cut: wasgo_logf
 * cuts before that character, because the host stops a mod that logs text that is not UTF-8.
 * (The Godot suite calls this export: tests/test_examples.gd.) */
WASGO_EXPORT("long_line") void long_line(void) {
    static char xs[1100];
    memset(xs, 'x', sizeof xs);
    /* "scorekeeper: " is 13 bytes: the euro sign starts at byte 1022, the cut is at 1023. */
    wasgo_logf(WASGO_INFO, "scorekeeper: %.*s\xe2\x82\xac%.*s", 1022 - 13, xs, 80, xs);
}
