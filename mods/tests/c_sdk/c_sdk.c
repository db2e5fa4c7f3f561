/* c_sdk — the C header's helpers for creating nodes, embedded assets, drawing and input, as a
 * mod uses them (tests/test_c_sdk.gd). Built by `cargo xtask mods` with the examples' clang
 * command.
 *
 * Exports: `setup()` makes an owned Node2D `Canvas` under the mod's node with an embedded font
 * and texture, and connects its `draw` signal; each `draw` callback draws with all six drawing
 * helpers. `draws()` is the number of callbacks that drew without an error (or the first error's
 * code), `outside()` tries a drawing outside the callback, `drop()` removes and frees the canvas.
 * With the game's `wasgo/safety/input_events` on, `input` logs each event it reads. */
#include "wasgo.h"
#include "assets.h"

#define DRAW_CALLBACK 1

static int32_t canvas, font, texture;
static int32_t draws, draw_failure, inputs;

static int32_t fail(const char *what, int32_t code) {
    char why[256];
    wasgo_logf(WASGO_INFO, "FAIL %s: %d %s", what, code, wasgo_last_error_str(why, sizeof why));
    return code;
}

WASGO_EXPORT("setup") int32_t setup(void) {
    int32_t me = wasgo_self();
    canvas = wasgo_new_str("Node2D");
    if (canvas < 0) return fail("new Node2D", canvas);
    uint8_t buf[32];
    wasgo_writer name = wasgo_writer_init(buf, sizeof buf);
    wasgo_put_string_name(&name, "Canvas");
    int32_t code = wasgo_set_prop(canvas, "name", &name);
    if (code < 0) return fail("name the canvas", code);
    font = wasgo_font_from_bytes(test_font_ttf, test_font_ttf_len);
    if (font < 0) return fail("font_from_bytes", font);
    texture = wasgo_texture_from_bytes(red_blue_png, red_blue_png_len);
    if (texture < 0) return fail("texture_from_bytes", texture);
    code = wasgo_connect_str(canvas, "draw", DRAW_CALLBACK);
    if (code < 0) return fail("connect draw", code);
    code = wasgo_add_child(me, canvas);
    if (code < 0) return fail("add_child", code);
    return 0;
}

static int32_t draw_all(void) {
    wasgo_color white = wasgo_rgba(1, 1, 1, 1), green = wasgo_rgba(0, 1, 0, 1);
    const float zigzag[] = {0, 20, 10, 30, 20, 20, 30, 30};
    int32_t code;
    if ((code = wasgo_draw_rect(canvas, 0, 0, 10, 10, green, 1)) < 0) return fail("draw_rect", code);
    if ((code = wasgo_draw_circle(canvas, 20, 5, 3, white)) < 0) return fail("draw_circle", code);
    if ((code = wasgo_draw_line(canvas, 0, 12, 30, 12, white, 2)) < 0) return fail("draw_line", code);
    if ((code = wasgo_draw_polyline(canvas, zigzag, 4, white, 1)) < 0) return fail("draw_polyline", code);
    if ((code = wasgo_draw_string(canvas, font, 0, 48, "hello from C", 12, white)) < 0) return fail("draw_string", code);
    if ((code = wasgo_draw_texture(canvas, texture, 40, 0)) < 0) return fail("draw_texture", code);
    /* Past the helper's own bound: refused by the SDK before any host call. */
    static float many[2 * (WASGO_POLYLINE_MAX + 1)];
    if ((code = wasgo_draw_polyline(canvas, many, WASGO_POLYLINE_MAX + 1, white, 1)) != WASGO_INVALID_ARGUMENT)
        return fail("a polyline past WASGO_POLYLINE_MAX was not refused", code < 0 ? code : -100);
    return 0;
}

WASGO_EXPORT(WASGO_EXPORT_NATIVE_CALLBACK) void on_callback(int32_t id) {
    if (id != DRAW_CALLBACK || draw_failure) return;
    int32_t code = draw_all();
    if (code < 0) draw_failure = code; else draws++;
}

WASGO_EXPORT("draws") int32_t get_draws(void) { return draw_failure ? draw_failure : draws; }

/* A drawing outside the `draw` callback: the host's refusal code (-3). */
WASGO_EXPORT("outside") int32_t outside(void) {
    return wasgo_draw_line(canvas, 0, 0, 1, 1, wasgo_rgba(1, 1, 1, 1), 1);
}

/* Removes the canvas from the mod's node and frees it; 0 or the first error. */
WASGO_EXPORT("drop") int32_t drop(void) {
    int32_t code = wasgo_remove_child(wasgo_self(), canvas);
    if (code < 0) return fail("remove_child", code);
    code = wasgo_queue_free(canvas);
    if (code < 0) return fail("queue_free", code);
    return 0;
}

/* Logs `INPUT key=<0|1> keycode=<k> pressed=<0|1> accept=<0|1>` for each event. */
WASGO_EXPORT(WASGO_EXPORT_INPUT) void on_input(int32_t event) {
    inputs++;
    int64_t keycode = -1;
    int pressed = -1;
    int32_t key = wasgo_is_class(event, "InputEventKey");
    int32_t got = wasgo_get_int_prop(event, "keycode", &keycode);
    if (got < 0) fail("keycode", got);
    got = wasgo_get_bool_prop(event, "pressed", &pressed);
    if (got < 0) fail("pressed", got);
    int32_t accept = wasgo_is_action_pressed(event, "ui_accept");
    wasgo_logf(WASGO_INFO, "INPUT key=%d keycode=%lld pressed=%d accept=%d", (int)key, (long long)keycode, pressed, (int)accept);
    wasgo_release(event);
}

WASGO_EXPORT("inputs") int32_t get_inputs(void) { return inputs; }

/* A tween on the canvas set up with wasgo_call_discard calls that return the tween itself: the
 * handle stays the mod's (the helper released it, and the next call on it got -1). 0, or the
 * failing call's code. */
WASGO_EXPORT("tween_chain") int32_t tween_chain(void) {
    uint8_t buf[64], out[32];
    wasgo_writer w = wasgo_writer_init(buf, sizeof buf);
    wasgo_put_array(&w, 0);
    int32_t n = wasgo_call(canvas, "create_tween", 12, w.data, w.len, out, sizeof out);
    if (n < 0) return fail("create_tween", n);
    wasgo_reader r = wasgo_reader_init(out, (uint32_t)n);
    int32_t tween = 0;
    if (!wasgo_read_object(&r, &tween) || tween <= 0) return fail("create_tween's result", -100);
    w = wasgo_writer_init(buf, sizeof buf);
    wasgo_put_array(&w, 1);
    wasgo_put_int(&w, 2);
    int32_t code = wasgo_call_discard(tween, "set_loops", &w);
    if (code < 0) return fail("set_loops", code);
    w = wasgo_writer_init(buf, sizeof buf);
    wasgo_put_array(&w, 1);
    wasgo_put_float(&w, 0.25);
    code = wasgo_call_discard(tween, "tween_interval", &w);
    if (code < 0) return fail("tween_interval on the same handle", code);
    return 0;
}

/* The decoder's readers and wasgo_skip: the canvas's `modulate` read back as a Color, and an
 * Array of a String, a Color, a Dictionary, bytes and an int written, then read with the values
 * it does not read skipped. 0 on success, else -100 minus the step that failed. */
WASGO_EXPORT("reader") int32_t reader(void) {
    uint8_t buf[256];
    wasgo_writer w = wasgo_writer_init(buf, sizeof buf);
    wasgo_put_color(&w, 0.5f, 0.25f, 1.0f, 1.0f);
    if (wasgo_set_prop(canvas, "modulate", &w) < 0) return -101;
    uint8_t got[64];
    int32_t n = wasgo_get_prop(canvas, "modulate", got, sizeof got);
    if (n < 0 || n > (int32_t)sizeof got) return -102;
    wasgo_reader r = wasgo_reader_init(got, (uint32_t)n);
    float red, green, blue, alpha;
    if (!wasgo_read_color(&r, &red, &green, &blue, &alpha) || red != 0.5f || green != 0.25f || blue != 1.0f) return -103;

    w = wasgo_writer_init(buf, sizeof buf);
    wasgo_put_array(&w, 5);
    wasgo_put_string(&w, "skipped");
    wasgo_put_color(&w, 1, 0, 0, 1);
    wasgo_put_dictionary(&w, 1);
    wasgo_put_string(&w, "k");
    wasgo_put_vector2(&w, 1, 2);
    wasgo_put_bytes(&w, "abc", 3);
    wasgo_put_int(&w, 7);
    if (w.overflow) return -104;
    r = wasgo_reader_init(buf, w.len);
    uint32_t count;
    const uint8_t *bytes;
    uint32_t size;
    int64_t seven;
    if (!wasgo_read_array(&r, &count) || count != 5) return -105;
    if (!wasgo_skip(&r)) return -106;
    if (!wasgo_read_color(&r, &red, &green, &blue, &alpha) || red != 1.0f) return -107;
    if (!wasgo_skip(&r)) return -108;
    if (!wasgo_read_bytes(&r, &bytes, &size) || size != 3 || bytes[2] != 'c') return -109;
    if (!wasgo_read_int(&r, &seven) || seven != 7 || r.pos != r.len) return -110;
    /* A Nil, then a value cut short: the reader says so. */
    w = wasgo_writer_init(buf, sizeof buf);
    wasgo_put_nil(&w);
    wasgo_put_string(&w, "cut");
    r = wasgo_reader_init(buf, w.len - 4);
    if (!wasgo_read_nil(&r) || wasgo_skip(&r) || !r.error) return -111;
    return 0;
}
