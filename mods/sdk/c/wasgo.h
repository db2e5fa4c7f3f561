/* wasgo.h — write WasGo mods in C or C++.
 *
 * The raw imports (`wasgo_log`, `wasgo_get`, ...) come from the generated `wasgo_sys.h`; this
 * header adds helpers: NUL-terminated strings, formatted logging, and an encoder and a decoder for
 * Godot Variants in the binary format WasGo uses (docs/variant-encoding.md). Header-only: every
 * function is `static inline`. Build a mod with
 *
 *   clang --target=wasm32-wasi --sysroot=/usr -Oz -nostartfiles -Wl,--no-entry \
 *         -Wl,--strip-debug -I path/to/mods/sdk/c -o mod.wasm mod.c
 *
 * and mark exports with WASGO_EXPORT(WASGO_EXPORT_PROCESS). Define WASGO_NO_LIBC before including it to
 * build without a C library (no `wasgo_logf` then). */
#ifndef WASGO_H
#define WASGO_H

#include <stdint.h>
#include <stddef.h>

#include "wasgo_sys.h"

#ifndef WASGO_NO_LIBC
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#define WASGO_STRLEN strlen
#else
static inline size_t wasgo__strlen(const char *s) { size_t n = 0; while (s[n]) n++; return n; }
#define WASGO_STRLEN wasgo__strlen
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* Marks a function as an export of the mod: WASGO_EXPORT(WASGO_EXPORT_PROCESS) void on_process(double d). */
#define WASGO_EXPORT(name) __attribute__((export_name(name)))

/* A pointer in the mod's memory as an `i32` parameter of a game function (the `wasgo_*` imports
 * take real pointers). */
#define WASGO_PTR(p) ((int32_t)(uintptr_t)(p))

/* Declares a function the game registered: WASGO_GAME_IMPORT("game", "award") int32_t award(int32_t, int32_t); */
#define WASGO_GAME_IMPORT(module, name) __attribute__((import_module(module), import_name(name)))

/* The error codes (WASGO_NOT_FOUND, ...), the Variant type numbers (WASGO_NIL, ...) and the export
 * names (WASGO_EXPORT_PROCESS, ...) are generated into wasgo_sys.h from the catalog. */

enum { WASGO_DEBUG = 0, WASGO_INFO = 1, WASGO_WARNING = 2, WASGO_ERROR = 3 };

/* ---- strings ------------------------------------------------------------------------------ */

/* Logs a NUL-terminated line. */
static inline void wasgo_log_str(int32_t level, const char *text) {
    wasgo_log(level, text, WASGO_STRLEN(text));
}

/* How many of the `n` bytes at `s` to keep so that they do not end inside a UTF-8 character:
 * `n`, less a last character whose bytes do not all fit (its lead byte and the continuation
 * bytes 0b10xxxxxx after it). The host traps on text that is not UTF-8, so text cut to fit a
 * buffer is cut here. */
static inline size_t wasgo__utf8_whole(const char *s, size_t n) {
    const unsigned char *u = (const unsigned char *)s;
    size_t lead = n, seen = 0;
    while (lead > 0 && seen < 4 && (u[lead - 1] & 0xc0) == 0x80) { lead--; seen++; }
    if (lead == 0) return n;  /* no lead byte: not UTF-8 to begin with */
    unsigned char b = u[lead - 1];
    size_t need = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : b >= 0xc0 ? 2 : 1;
    return n - (lead - 1) >= need ? n : lead - 1;
}

#ifndef WASGO_NO_LIBC
/* Logs a printf-formatted line (a longer one is cut to its first 1023 bytes, less a character
 * the cut would split). */
__attribute__((format(printf, 2, 3)))
static inline void wasgo_logf(int32_t level, const char *format, ...) {
    char line[1024];
    va_list args;
    va_start(args, format);
    int n = vsnprintf(line, sizeof line, format, args);
    va_end(args);
    if (n < 0) return;
    size_t len = n < (int)sizeof line ? (size_t)n : wasgo__utf8_whole(line, sizeof line - 1);
    wasgo_log(level, line, len);
}
#endif

/* 1 if the import `module.name` is a real function at this instance's level, else 0. */
static inline int wasgo_has(const char *module, const char *name) {
    return wasgo_has_function(module, WASGO_STRLEN(module), name, WASGO_STRLEN(name)) == 1;
}

#ifndef WASGO_LAST_ERROR_MAX
/* The longest last-error message wasgo_last_error_str cuts to fit a smaller buffer (it fetches
 * the whole message into a stack buffer of this size first). */
#define WASGO_LAST_ERROR_MAX 4096
#endif

/* The message of the last failed `wasgo` call, NUL-terminated in `buf` and cut to fit its `cap`
 * bytes (at most cap - 1 bytes of text, less a character the cut would split); returns `buf`.
 * A message longer than WASGO_LAST_ERROR_MAX bytes comes back empty when it does not fit `cap`.
 * With cap <= 0 nothing is written and "" is returned. Only the host's calls set the message:
 * the -3 the SDK's own wasgo_set_prop and wasgo_emit_encoded return for an overflowed writer
 * leave it as it was. */
static inline const char *wasgo_last_error_str(char *buf, int32_t cap) {
    if (buf == NULL || cap <= 0) return "";
    int32_t n = wasgo_last_error(buf, (size_t)(cap - 1));
    if (n < 0) {
        n = 0;
    } else if (n > cap - 1) {
        /* Too long: the host wrote nothing. Fetch it whole, then keep what fits. */
        char whole[WASGO_LAST_ERROR_MAX];
        int32_t m = n <= (int32_t)sizeof whole ? wasgo_last_error(whole, sizeof whole) : -1;
        if (m < 0 || m > (int32_t)sizeof whole) {
            n = 0;  /* longer than WASGO_LAST_ERROR_MAX (or failed) */
        } else {
            n = (int32_t)wasgo__utf8_whole(whole, m < cap - 1 ? (size_t)m : (size_t)(cap - 1));
            for (int32_t i = 0; i < n; i++) buf[i] = whole[i];
        }
    }
    buf[n] = 0;
    return buf;
}

/* The node at `path` relative to handle `from`, or a negative error. */
static inline int32_t wasgo_get_node_str(int32_t from, const char *path) {
    return wasgo_get_node(from, path, WASGO_STRLEN(path));
}

/* ---- Variant encoding --------------------------------------------------------------------- */

/* Header flag: 64-bit int or float; on OBJECT: the payload is a handle. */
#define WASGO_FLAG_64 (1u << 16)

/* Writes Variants into a caller's buffer. After the last put, `overflow` says whether it was too
 * small (then `len` is the size needed, and wasgo_set_prop and wasgo_emit_encoded refuse it). */
typedef struct {
    uint8_t *data;
    uint32_t len, cap;
    int overflow;
} wasgo_writer;

static inline wasgo_writer wasgo_writer_init(void *buf, uint32_t cap) {
    wasgo_writer w = {(uint8_t *)buf, 0, cap, 0};
    return w;
}

static inline void wasgo__bytes(wasgo_writer *w, const void *src, uint32_t n) {
    if (w->len + n > w->cap) {
        w->overflow = 1;
    } else {
        const uint8_t *s = (const uint8_t *)src;
        for (uint32_t i = 0; i < n; i++) w->data[w->len + i] = s[i];
    }
    w->len += n;
}
static inline void wasgo__u32(wasgo_writer *w, uint32_t v) {
    uint8_t b[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
    wasgo__bytes(w, b, 4);
}
static inline void wasgo__u64(wasgo_writer *w, uint64_t v) {
    wasgo__u32(w, (uint32_t)v);
    wasgo__u32(w, (uint32_t)(v >> 32));
}
static inline void wasgo__f32(wasgo_writer *w, float f) {
    union { float f; uint32_t u; } c;
    c.f = f;
    wasgo__u32(w, c.u);
}
static inline void wasgo__pad(wasgo_writer *w) {
    static const uint8_t zeros[3] = {0, 0, 0};
    if (w->len % 4) wasgo__bytes(w, zeros, 4 - w->len % 4);
}
static inline void wasgo__text(wasgo_writer *w, const char *s, uint32_t n) {
    wasgo__u32(w, n);
    wasgo__bytes(w, s, n);
    wasgo__pad(w);
}

static inline void wasgo_put_nil(wasgo_writer *w) { wasgo__u32(w, WASGO_NIL); }
static inline void wasgo_put_bool(wasgo_writer *w, int b) { wasgo__u32(w, WASGO_BOOL); wasgo__u32(w, b != 0); }
static inline void wasgo_put_int(wasgo_writer *w, int64_t v) {
    if (v >= INT32_MIN && v <= INT32_MAX) {
        wasgo__u32(w, WASGO_INT);
        wasgo__u32(w, (uint32_t)(int32_t)v);
    } else {
        wasgo__u32(w, WASGO_INT | WASGO_FLAG_64);
        wasgo__u64(w, (uint64_t)v);
    }
}
static inline void wasgo_put_float(wasgo_writer *w, double v) {
    if ((double)(float)v == v) {
        wasgo__u32(w, WASGO_FLOAT);
        wasgo__f32(w, (float)v);
    } else {
        union { double d; uint64_t u; } c;
        c.d = v;
        wasgo__u32(w, WASGO_FLOAT | WASGO_FLAG_64);
        wasgo__u64(w, c.u);
    }
}
/* A String of `n` UTF-8 bytes. */
static inline void wasgo_put_string_n(wasgo_writer *w, const char *s, uint32_t n) { wasgo__u32(w, WASGO_STRING); wasgo__text(w, s, n); }
static inline void wasgo_put_string(wasgo_writer *w, const char *s) { wasgo_put_string_n(w, s, (uint32_t)WASGO_STRLEN(s)); }
static inline void wasgo_put_string_name(wasgo_writer *w, const char *s) { wasgo__u32(w, WASGO_STRING_NAME); wasgo__text(w, s, (uint32_t)WASGO_STRLEN(s)); }
static inline void wasgo_put_vector2(wasgo_writer *w, float x, float y) { wasgo__u32(w, WASGO_VECTOR2); wasgo__f32(w, x); wasgo__f32(w, y); }
static inline void wasgo_put_vector3(wasgo_writer *w, float x, float y, float z) {
    wasgo__u32(w, WASGO_VECTOR3); wasgo__f32(w, x); wasgo__f32(w, y); wasgo__f32(w, z);
}
static inline void wasgo_put_color(wasgo_writer *w, float r, float g, float b, float a) {
    wasgo__u32(w, WASGO_COLOR); wasgo__f32(w, r); wasgo__f32(w, g); wasgo__f32(w, b); wasgo__f32(w, a);
}
/* An object as the mod's handle (0 = null). */
static inline void wasgo_put_object(wasgo_writer *w, int32_t handle) {
    wasgo__u32(w, WASGO_OBJECT | WASGO_FLAG_64);
    wasgo__u64(w, (uint64_t)(int64_t)handle);
}
/* An Array of `count` elements: put the elements next. */
static inline void wasgo_put_array(wasgo_writer *w, uint32_t count) { wasgo__u32(w, WASGO_ARRAY); wasgo__u32(w, count); }
/* A Dictionary of `count` entries: put key, value, key, value, ... next. */
static inline void wasgo_put_dictionary(wasgo_writer *w, uint32_t count) { wasgo__u32(w, WASGO_DICTIONARY); wasgo__u32(w, count); }
static inline void wasgo_put_bytes(wasgo_writer *w, const void *bytes, uint32_t n) {
    wasgo__u32(w, WASGO_PACKED_BYTE_ARRAY); wasgo__u32(w, n); wasgo__bytes(w, bytes, n); wasgo__pad(w);
}

/* ---- Variant decoding --------------------------------------------------------------------- */

/* Reads Variants from bytes the host wrote. Every wasgo_read_* returns 1 on success; on a type
 * mismatch or truncated bytes it returns 0 and sets `error` (later reads then fail too). */
typedef struct {
    const uint8_t *data;
    uint32_t len, pos;
    int error;
} wasgo_reader;

static inline wasgo_reader wasgo_reader_init(const void *bytes, uint32_t len) {
    wasgo_reader r = {(const uint8_t *)bytes, len, 0, 0};
    return r;
}

static inline int wasgo__take(wasgo_reader *r, uint32_t n, const uint8_t **out) {
    if (r->error || n > r->len - r->pos) { r->error = 1; return 0; }
    *out = r->data + r->pos;
    r->pos += n;
    return 1;
}
static inline int wasgo__get_u32(wasgo_reader *r, uint32_t *v) {
    const uint8_t *b;
    if (!wasgo__take(r, 4, &b)) return 0;
    *v = (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
    return 1;
}
static inline int wasgo__get_u64(wasgo_reader *r, uint64_t *v) {
    uint32_t lo, hi;
    if (!wasgo__get_u32(r, &lo) || !wasgo__get_u32(r, &hi)) return 0;
    *v = (uint64_t)hi << 32 | lo;
    return 1;
}
static inline int wasgo__get_f32(wasgo_reader *r, float *f) {
    union { float f; uint32_t u; } c;
    if (!wasgo__get_u32(r, &c.u)) return 0;
    *f = c.f;
    return 1;
}

/* The type of the next value, without consuming it (-1 at the end or after an error). */
static inline int wasgo_peek_type(const wasgo_reader *r) {
    if (r->error || r->len - r->pos < 4) return -1;
    return r->data[r->pos];
}

static inline int wasgo__header(wasgo_reader *r, uint32_t type, uint32_t *flags) {
    uint32_t h;
    if (!wasgo__get_u32(r, &h)) return 0;
    if ((h & 0xff) != type) { r->error = 1; return 0; }
    *flags = h & ~0xffu;
    return 1;
}

static inline int wasgo_read_bool(wasgo_reader *r, int *out) {
    uint32_t flags, v;
    if (!wasgo__header(r, WASGO_BOOL, &flags) || !wasgo__get_u32(r, &v)) return 0;
    *out = v != 0;
    return 1;
}
static inline int wasgo_read_int(wasgo_reader *r, int64_t *out) {
    uint32_t flags;
    if (!wasgo__header(r, WASGO_INT, &flags)) return 0;
    if (flags & WASGO_FLAG_64) {
        uint64_t v;
        if (!wasgo__get_u64(r, &v)) return 0;
        *out = (int64_t)v;
    } else {
        uint32_t v;
        if (!wasgo__get_u32(r, &v)) return 0;
        *out = (int32_t)v;
    }
    return 1;
}
static inline int wasgo_read_float(wasgo_reader *r, double *out) {
    uint32_t flags;
    if (!wasgo__header(r, WASGO_FLOAT, &flags)) return 0;
    if (flags & WASGO_FLAG_64) {
        union { double d; uint64_t u; } c;
        if (!wasgo__get_u64(r, &c.u)) return 0;
        *out = c.d;
    } else {
        float f;
        if (!wasgo__get_f32(r, &f)) return 0;
        *out = f;
    }
    return 1;
}
/* A String or StringName: `*s` points into the reader's bytes (not NUL-terminated), `*n` bytes. */
static inline int wasgo_read_string(wasgo_reader *r, const char **s, uint32_t *n) {
    uint32_t h, len;
    const uint8_t *text, *padding;
    if (!wasgo__get_u32(r, &h)) return 0;
    if ((h & 0xff) != WASGO_STRING && (h & 0xff) != WASGO_STRING_NAME) { r->error = 1; return 0; }
    if (!wasgo__get_u32(r, &len) || !wasgo__take(r, len, &text)) return 0;
    if (len % 4 && !wasgo__take(r, 4 - len % 4, &padding)) return 0;
    *s = (const char *)text;
    *n = len;
    return 1;
}
static inline int wasgo_read_vector2(wasgo_reader *r, float *x, float *y) {
    uint32_t flags;
    return wasgo__header(r, WASGO_VECTOR2, &flags) && !(flags & WASGO_FLAG_64) && wasgo__get_f32(r, x) && wasgo__get_f32(r, y);
}
static inline int wasgo_read_vector3(wasgo_reader *r, float *x, float *y, float *z) {
    uint32_t flags;
    return wasgo__header(r, WASGO_VECTOR3, &flags) && !(flags & WASGO_FLAG_64) && wasgo__get_f32(r, x) && wasgo__get_f32(r, y) && wasgo__get_f32(r, z);
}
/* An object's handle (0 = null). */
static inline int wasgo_read_object(wasgo_reader *r, int32_t *handle) {
    uint32_t flags;
    uint64_t v;
    if (!wasgo__header(r, WASGO_OBJECT, &flags)) return 0;
    if (!(flags & WASGO_FLAG_64)) { r->error = 1; return 0; }
    if (!wasgo__get_u64(r, &v)) return 0;
    *handle = (int32_t)v;
    return 1;
}
/* A Nil. */
static inline int wasgo_read_nil(wasgo_reader *r) {
    uint32_t flags;
    return wasgo__header(r, WASGO_NIL, &flags);
}
/* A Color (always 32-bit floats). */
static inline int wasgo_read_color(wasgo_reader *r, float *red, float *green, float *blue, float *alpha) {
    uint32_t flags;
    return wasgo__header(r, WASGO_COLOR, &flags) && wasgo__get_f32(r, red) && wasgo__get_f32(r, green) && wasgo__get_f32(r, blue) && wasgo__get_f32(r, alpha);
}
/* A PackedByteArray: `*bytes` points into the reader's bytes, `*n` of them. */
static inline int wasgo_read_bytes(wasgo_reader *r, const uint8_t **bytes, uint32_t *n) {
    uint32_t flags;
    const uint8_t *padding;
    if (!wasgo__header(r, WASGO_PACKED_BYTE_ARRAY, &flags) || !wasgo__get_u32(r, n) || !wasgo__take(r, *n, bytes)) return 0;
    return *n % 4 == 0 || wasgo__take(r, 4 - *n % 4, &padding);
}

#ifndef WASGO_SKIP_DEPTH
/* How deep wasgo_skip follows Arrays and Dictionaries inside each other (the host's own bound). */
#define WASGO_SKIP_DEPTH 64
#endif

static inline int wasgo__skip(wasgo_reader *r, int depth);
/* Steps over the next value whatever its type (an Array or Dictionary with what it holds), as
 * docs/variant-encoding.md lays it out: to reach the value after one the mod does not read. */
static inline int wasgo_skip(wasgo_reader *r) { return wasgo__skip(r, 0); }

/* Steps over a String's payload: u32 byte length, the bytes, zero padding to 4. */
static inline int wasgo__skip_text(wasgo_reader *r) {
    uint32_t len;
    const uint8_t *b;
    if (!wasgo__get_u32(r, &len) || !wasgo__take(r, len, &b)) return 0;
    return len % 4 == 0 || wasgo__take(r, 4 - len % 4, &b);
}

/* Steps over a typed container's element type (header kind 1: a u32 type; 2 or 3: a name). */
static inline int wasgo__skip_element_type(wasgo_reader *r, uint32_t kind) {
    const uint8_t *b;
    if (kind == 0) return 1;
    if (kind == 1) return wasgo__take(r, 4, &b);
    return wasgo__skip_text(r);
}

/* Steps over `n` items of `size` bytes each, checking the count against what is left first. */
static inline int wasgo__skip_items(wasgo_reader *r, uint32_t size) {
    uint32_t n;
    const uint8_t *b;
    if (!wasgo__get_u32(r, &n)) return 0;
    if (n > (r->len - r->pos) / size) { r->error = 1; return 0; }
    return wasgo__take(r, n * size, &b);
}

static inline int wasgo__skip(wasgo_reader *r, int depth) {
    uint32_t h, n, names, subnames, flags;
    const uint8_t *b;
    if (depth > WASGO_SKIP_DEPTH || !wasgo__get_u32(r, &h)) { r->error = 1; return 0; }
    /* Double-precision Godot builds write the float math types with f64 parts. */
    uint32_t f = (h & WASGO_FLAG_64) ? 8u : 4u;
    switch (h & 0xff) {
    case WASGO_NIL: return 1;
    case WASGO_BOOL: return wasgo__take(r, 4, &b);
    case WASGO_INT: case WASGO_FLOAT: return wasgo__take(r, f, &b);
    case WASGO_OBJECT:
        /* A handle (u64) with the "as id" flag, else a class name (empty for null). */
        return (h & WASGO_FLAG_64) ? wasgo__take(r, 8, &b) : wasgo__skip_text(r);
    case WASGO_STRING: case WASGO_STRING_NAME: return wasgo__skip_text(r);
    case WASGO_NODE_PATH:
        if (!wasgo__get_u32(r, &names) || !wasgo__get_u32(r, &subnames) || !wasgo__get_u32(r, &flags)) return 0;
        names &= 0x7fffffffu;
        for (uint32_t i = 0; i < names + subnames; i++) if (!wasgo__skip_text(r)) return 0;
        return 1;
    case WASGO_VECTOR2I: return wasgo__take(r, 8, &b);
    case WASGO_VECTOR3I: return wasgo__take(r, 12, &b);
    case WASGO_RECT2I: case WASGO_VECTOR4I: return wasgo__take(r, 16, &b);
    case WASGO_VECTOR2: return wasgo__take(r, f * 2, &b);
    case WASGO_VECTOR3: return wasgo__take(r, f * 3, &b);
    case WASGO_RECT2: case WASGO_VECTOR4: case WASGO_PLANE: case WASGO_QUATERNION: return wasgo__take(r, f * 4, &b);
    case WASGO_COLOR: return wasgo__take(r, 16, &b);
    case WASGO_TRANSFORM2D: case WASGO_AABB: return wasgo__take(r, f * 6, &b);
    case WASGO_BASIS: return wasgo__take(r, f * 9, &b);
    case WASGO_TRANSFORM3D: return wasgo__take(r, f * 12, &b);
    case WASGO_PROJECTION: return wasgo__take(r, f * 16, &b);
    case WASGO_ARRAY:
        if (!wasgo__skip_element_type(r, (h >> 16) & 3) || !wasgo__get_u32(r, &n)) return 0;
        for (uint32_t i = 0; i < n; i++) if (!wasgo__skip(r, depth + 1)) return 0;
        return 1;
    case WASGO_DICTIONARY:
        if (!wasgo__skip_element_type(r, (h >> 16) & 3) || !wasgo__skip_element_type(r, (h >> 18) & 3) || !wasgo__get_u32(r, &n)) return 0;
        for (uint32_t i = 0; i < n; i++) if (!wasgo__skip(r, depth + 1) || !wasgo__skip(r, depth + 1)) return 0;
        return 1;
    case WASGO_PACKED_BYTE_ARRAY: return wasgo__skip_text(r);
    case WASGO_PACKED_INT32_ARRAY: case WASGO_PACKED_FLOAT32_ARRAY: return wasgo__skip_items(r, 4);
    case WASGO_PACKED_INT64_ARRAY: case WASGO_PACKED_FLOAT64_ARRAY: return wasgo__skip_items(r, 8);
    case WASGO_PACKED_VECTOR2_ARRAY: return wasgo__skip_items(r, f * 2);
    case WASGO_PACKED_VECTOR3_ARRAY: return wasgo__skip_items(r, f * 3);
    case WASGO_PACKED_COLOR_ARRAY: return wasgo__skip_items(r, 16);
    case WASGO_PACKED_VECTOR4_ARRAY: return wasgo__skip_items(r, f * 4);
    case WASGO_PACKED_STRING_ARRAY:
        /* Each string: u32 byte length + 1, the bytes and a NUL, zero padding to 4. */
        if (!wasgo__get_u32(r, &n)) return 0;
        for (uint32_t i = 0; i < n; i++) if (!wasgo__skip_text(r)) return 0;
        return 1;
    default: r->error = 1; return 0;
    }
}

/* An untyped Array's element count; read the elements next. */
static inline int wasgo_read_array(wasgo_reader *r, uint32_t *count) {
    uint32_t flags;
    return wasgo__header(r, WASGO_ARRAY, &flags) && flags == 0 && wasgo__get_u32(r, count);
}
/* An untyped Dictionary's entry count; read key, value, ... next. */
static inline int wasgo_read_dictionary(wasgo_reader *r, uint32_t *count) {
    uint32_t flags;
    return wasgo__header(r, WASGO_DICTIONARY, &flags) && flags == 0 && wasgo__get_u32(r, count);
}

/* ---- properties and events ---------------------------------------------------------------- */

/* Sets a property to the Variant a writer holds; 0 on success, or a negative error. When the
 * writer overflowed, returns WASGO_INVALID_ARGUMENT (-3) itself without calling the host, so
 * wasgo_last_error does not describe it (the ABI has no way for a mod to set that message): check
 * `value->overflow` to tell the two -3s apart. */
static inline int32_t wasgo_set_prop(int32_t handle, const char *name, const wasgo_writer *value) {
    if (value->overflow) return WASGO_INVALID_ARGUMENT;
    return wasgo_set(handle, name, WASGO_STRLEN(name), value->data, value->len);
}

/* Reads a property's encoded Variant into `buf`; returns its full length (nothing is written when
 * that exceeds `cap`), or a negative error. Decode it with a wasgo_reader. */
static inline int32_t wasgo_get_prop(int32_t handle, const char *name, void *buf, int32_t cap) {
    return wasgo_get(handle, name, WASGO_STRLEN(name), buf, cap);
}

/* Sets a Vector2 property (e.g. "position") through the typed fast path; 0 on success. */
static inline int32_t wasgo_set_vec2_prop(int32_t handle, const char *name, float x, float y) {
    return wasgo_set_vec2(handle, name, WASGO_STRLEN(name), x, y);
}

/* Reads a Vector2 property through the typed fast path; 0 on success. */
static inline int32_t wasgo_get_vec2_prop(int32_t handle, const char *name, float *x, float *y) {
    float xy[2];
    int32_t r = wasgo_get_vec2(handle, name, WASGO_STRLEN(name), xy);
    if (r == 0) { *x = xy[0]; *y = xy[1]; }
    return r;
}

/* Emits `mod_event(name, payload)` with the bytes a writer holds; 0 on success, or a negative
 * error. As wasgo_set_prop, an overflowed writer gives WASGO_INVALID_ARGUMENT (-3) from the SDK
 * itself, with no host call and wasgo_last_error left as it was: check `payload->overflow`. */
static inline int32_t wasgo_emit_encoded(const char *name, const wasgo_writer *payload) {
    if (payload->overflow) return WASGO_INVALID_ARGUMENT;
    return wasgo_emit(name, WASGO_STRLEN(name), payload->data, payload->len);
}

/* ---- Objects and assets the mod creates (owned by its instance) --------------------------- */

/* A new object of a class the allowlist marks `instantiable` ("Sprite2D", "Label", ...): its
 * handle, or a negative error (-3 not instantiable, -7 past the per-mod cap). */
static inline int32_t wasgo_new_str(const char *class_name) {
    return wasgo_new(class_name, WASGO_STRLEN(class_name));
}

/* Owned resources from bytes embedded in the mod. Embed a file as a C array with
 * `xxd -i banner.png > banner_png.h` (or C23 `#embed`), then
 * `wasgo_texture_from_bytes(banner_png, banner_png_len)`; likewise `wasgo_audio_from_bytes`
 * (Ogg Vorbis, WAV, MP3) and `wasgo_font_from_bytes` (TTF, OTF). */

/* Loads a `res://` texture, sound, font, sprite frames, mesh or material read-only from a
 * folder the game lists in `wasgo/safety/resource_folders`. */
static inline int32_t wasgo_load_resource_str(const char *path) {
    return wasgo_load_resource(path, WASGO_STRLEN(path));
}

/* ---- Calls, the scene tree, drawing and input --------------------------------------------- */

/* A colour, r g b a from 0 to 1. */
typedef struct {
    float r, g, b, a;
} wasgo_color;

static inline wasgo_color wasgo_rgba(float r, float g, float b, float a) {
    wasgo_color c = {r, g, b, a};
    return c;
}
static inline void wasgo_put_rgba(wasgo_writer *w, wasgo_color c) { wasgo_put_color(w, c.r, c.g, c.b, c.a); }
/* A Rect2: position x, y and size width, height. */
static inline void wasgo_put_rect2(wasgo_writer *w, float x, float y, float width, float height) {
    wasgo__u32(w, WASGO_RECT2); wasgo__f32(w, x); wasgo__f32(w, y); wasgo__f32(w, width); wasgo__f32(w, height);
}
/* A PackedVector2Array of `count` points from `xy` (x0, y0, x1, y1, ...: 2 * count floats). */
static inline void wasgo_put_vector2_array(wasgo_writer *w, const float *xy, uint32_t count) {
    wasgo__u32(w, WASGO_PACKED_VECTOR2_ARRAY); wasgo__u32(w, count);
    for (uint32_t i = 0; i < 2 * count; i++) wasgo__f32(w, xy[i]);
}

/* A reader over the `n` bytes a call wrote into `buf` (`cap` bytes long): empty, so that every
 * read fails, when the answer did not fit (the host then wrote nothing). */
static inline wasgo_reader wasgo__answer(const uint8_t *buf, uint32_t cap, int32_t n) {
    return wasgo_reader_init(buf, n >= 0 && (uint32_t)n <= cap ? (uint32_t)n : 0);
}

/* Calls `method` on `handle` with the arguments `args` holds (an Array: wasgo_put_array(&w, n),
 * then the n values) and ignores the result; 0 on success, or a negative error
 * (wasgo_last_error_str says why). An overflowed writer gives WASGO_INVALID_ARGUMENT from the SDK
 * itself, with no host call. An object result is not released: the host has one handle per
 * object, so it may be one the mod holds (a Tween's `set_loops` returns the tween itself); a
 * call that returns a new object is better made with wasgo_call and its handle read. */
static inline int32_t wasgo_call_discard(int32_t handle, const char *method, const wasgo_writer *args) {
    if (args->overflow) return WASGO_INVALID_ARGUMENT;
    uint8_t out[32];
    int32_t n = wasgo_call(handle, method, WASGO_STRLEN(method), args->data, args->len, out, sizeof out);
    return n < 0 ? n : 0;
}

/* Calls `method` on `handle` with the arguments `args` holds and reads a bool result into
 * `*out`; 0 on success, WASGO_INVALID_ARGUMENT when the result is not a bool, or the call's
 * negative error. */
static inline int32_t wasgo_call_bool(int32_t handle, const char *method, const wasgo_writer *args, int *out) {
    if (args->overflow) return WASGO_INVALID_ARGUMENT;
    uint8_t buf[16];
    int32_t n = wasgo_call(handle, method, WASGO_STRLEN(method), args->data, args->len, buf, sizeof buf);
    if (n < 0) return n;
    wasgo_reader r = wasgo__answer(buf, sizeof buf, n);
    return wasgo_read_bool(&r, out) ? 0 : WASGO_INVALID_ARGUMENT;
}

/* `method(node)` on `handle`: the shape of add_child, remove_child. */
static inline int32_t wasgo__call_with_object(int32_t handle, const char *method, int32_t node) {
    uint8_t buf[24];
    wasgo_writer w = wasgo_writer_init(buf, sizeof buf);
    wasgo_put_array(&w, 1);
    wasgo_put_object(&w, node);
    return wasgo_call_discard(handle, method, &w);
}

/* Adds `child` (a node this mod created, without a parent yet) under `parent`; 0 or a negative
 * error (-3 when `child` is not the mod's own or already has a parent). */
static inline int32_t wasgo_add_child(int32_t parent, int32_t child) {
    return wasgo__call_with_object(parent, "add_child", child);
}
/* Removes `child` (a node this mod created) from `parent`; it stays owned. */
static inline int32_t wasgo_remove_child(int32_t parent, int32_t child) {
    return wasgo__call_with_object(parent, "remove_child", child);
}
/* Frees `node` (one this mod created) at the end of the frame. */
static inline int32_t wasgo_queue_free(int32_t node) {
    uint8_t buf[8];
    wasgo_writer w = wasgo_writer_init(buf, sizeof buf);
    wasgo_put_array(&w, 0);
    return wasgo_call_discard(node, "queue_free", &w);
}

/* Connects signal `signal` of `handle` to the export `native_callback(callback_id)` (declare it
 * with WASGO_EXPORT(WASGO_EXPORT_NATIVE_CALLBACK) void on_callback(int32_t id)); 0 or a negative
 * error. Read the signal's arguments in the callback with wasgo_callback_args. */
static inline int32_t wasgo_connect_str(int32_t handle, const char *signal, int32_t callback_id) {
    return wasgo_connect(handle, signal, WASGO_STRLEN(signal), callback_id);
}

/* Drawing: connect the `draw` signal of a CanvasItem the mod created (wasgo_connect_str(item,
 * "draw", id)); inside that callback, these draw on it (WasGo records them and Godot replays
 * them at every redraw until the next callback; call `queue_redraw` on the item to animate).
 * Outside the callback, or on another object, they return WASGO_INVALID_ARGUMENT. */

static inline int32_t wasgo_draw_line(int32_t item, float x1, float y1, float x2, float y2, wasgo_color color, float width) {
    uint8_t buf[64];
    wasgo_writer w = wasgo_writer_init(buf, sizeof buf);
    wasgo_put_array(&w, 4);
    wasgo_put_vector2(&w, x1, y1);
    wasgo_put_vector2(&w, x2, y2);
    wasgo_put_rgba(&w, color);
    wasgo_put_float(&w, width);
    return wasgo_call_discard(item, "draw_line", &w);
}
/* A rectangle, filled or as an outline. */
static inline int32_t wasgo_draw_rect(int32_t item, float x, float y, float width, float height, wasgo_color color, int filled) {
    uint8_t buf[64];
    wasgo_writer w = wasgo_writer_init(buf, sizeof buf);
    wasgo_put_array(&w, 3);
    wasgo_put_rect2(&w, x, y, width, height);
    wasgo_put_rgba(&w, color);
    wasgo_put_bool(&w, filled);
    return wasgo_call_discard(item, "draw_rect", &w);
}
/* A filled circle. */
static inline int32_t wasgo_draw_circle(int32_t item, float cx, float cy, float radius, wasgo_color color) {
    uint8_t buf[64];
    wasgo_writer w = wasgo_writer_init(buf, sizeof buf);
    wasgo_put_array(&w, 3);
    wasgo_put_vector2(&w, cx, cy);
    wasgo_put_float(&w, radius);
    wasgo_put_rgba(&w, color);
    return wasgo_call_discard(item, "draw_circle", &w);
}

#ifndef WASGO_POLYLINE_MAX
/* The most points one wasgo_draw_polyline call encodes (on the stack: 8 bytes a point). */
#define WASGO_POLYLINE_MAX 256
#endif

/* Connected lines through `count` points `xy` (x0, y0, x1, y1, ...), at least 2 and at most
 * WASGO_POLYLINE_MAX (WASGO_INVALID_ARGUMENT past it, with no host call). */
static inline int32_t wasgo_draw_polyline(int32_t item, const float *xy, uint32_t count, wasgo_color color, float width) {
    if (count > WASGO_POLYLINE_MAX) return WASGO_INVALID_ARGUMENT;
    uint8_t buf[64 + 8 * WASGO_POLYLINE_MAX];
    wasgo_writer w = wasgo_writer_init(buf, sizeof buf);
    wasgo_put_array(&w, 3);
    wasgo_put_vector2_array(&w, xy, count);
    wasgo_put_rgba(&w, color);
    wasgo_put_float(&w, width);
    return wasgo_call_discard(item, "draw_polyline", &w);
}
/* Text `text` (UTF-8, NUL-terminated) with its baseline's left end at (x, y), in `font` (a
 * handle: wasgo_font_from_bytes, or a font the mod reads from a node) at `font_size` pixels.
 * Texts longer than the stack buffer's 1 KiB return WASGO_INVALID_ARGUMENT. */
static inline int32_t wasgo_draw_string(int32_t item, int32_t font, float x, float y, const char *text, int32_t font_size, wasgo_color color) {
    uint8_t buf[1024 + 96];
    wasgo_writer w = wasgo_writer_init(buf, sizeof buf);
    wasgo_put_array(&w, 7);
    wasgo_put_object(&w, font);
    wasgo_put_vector2(&w, x, y);
    wasgo_put_string(&w, text);
    wasgo_put_int(&w, 0);      /* HORIZONTAL_ALIGNMENT_LEFT */
    wasgo_put_float(&w, -1.0); /* no width limit */
    wasgo_put_int(&w, font_size);
    wasgo_put_rgba(&w, color);
    return wasgo_call_discard(item, "draw_string", &w);
}
/* A texture (a handle: wasgo_texture_from_bytes or wasgo_load_resource_str) with its top-left
 * corner at (x, y). */
static inline int32_t wasgo_draw_texture(int32_t item, int32_t texture, float x, float y) {
    uint8_t buf[48];
    wasgo_writer w = wasgo_writer_init(buf, sizeof buf);
    wasgo_put_array(&w, 2);
    wasgo_put_object(&w, texture);
    wasgo_put_vector2(&w, x, y);
    return wasgo_call_discard(item, "draw_texture", &w);
}

/* Input: with the game's `wasgo/safety/input_events` on, the export
 * WASGO_EXPORT(WASGO_EXPORT_INPUT) void on_input(int32_t event) receives each input event the
 * game did not handle, as a handle to the mod's own copy (release it with wasgo_release when
 * done). Read it with these. */

/* Reads an int property (an event's `keycode`, `button_index`, ...) into `*out`; 0 on success,
 * WASGO_INVALID_ARGUMENT when the property is not an int, or the read's negative error. */
static inline int32_t wasgo_get_int_prop(int32_t handle, const char *name, int64_t *out) {
    uint8_t buf[16];
    int32_t n = wasgo_get(handle, name, WASGO_STRLEN(name), buf, sizeof buf);
    if (n < 0) return n;
    wasgo_reader r = wasgo__answer(buf, sizeof buf, n);
    return wasgo_read_int(&r, out) ? 0 : WASGO_INVALID_ARGUMENT;
}
/* Reads a bool property (an event's `pressed`, `echo`, ...) into `*out` as 1 or 0; as
 * wasgo_get_int_prop. */
static inline int32_t wasgo_get_bool_prop(int32_t handle, const char *name, int *out) {
    uint8_t buf[16];
    int32_t n = wasgo_get(handle, name, WASGO_STRLEN(name), buf, sizeof buf);
    if (n < 0) return n;
    wasgo_reader r = wasgo__answer(buf, sizeof buf, n);
    return wasgo_read_bool(&r, out) ? 0 : WASGO_INVALID_ARGUMENT;
}
/* `method(text)` on `handle`, `text` sent as `type` (WASGO_STRING or WASGO_STRING_NAME), for a
 * bool answer: 1, 0, or a negative error (WASGO_INVALID_ARGUMENT for a text over the 256 bytes
 * the stack buffer holds). */
static inline int32_t wasgo__ask(int32_t handle, const char *method, const char *text, uint32_t type) {
    uint8_t buf[32 + 256];
    wasgo_writer w = wasgo_writer_init(buf, sizeof buf);
    wasgo_put_array(&w, 1);
    wasgo__u32(&w, type);
    wasgo__text(&w, text, (uint32_t)WASGO_STRLEN(text));
    int yes = 0;
    int32_t code = wasgo_call_bool(handle, method, &w, &yes);
    return code < 0 ? code : yes;
}
/* 1 if `handle` is an object of class `class_name` or a subclass ("InputEventKey",
 * "InputEventMouseButton", ...), 0 if not, or a negative error. */
static inline int32_t wasgo_is_class(int32_t handle, const char *class_name) {
    return wasgo__ask(handle, "is_class", class_name, WASGO_STRING);
}
/* 1 if input event `event` is the game's input-map action `action` pressed ("ui_accept",
 * "jump", ...), 0 if not, or a negative error. */
static inline int32_t wasgo_is_action_pressed(int32_t event, const char *action) {
    return wasgo__ask(event, "is_action_pressed", action, WASGO_STRING_NAME);
}

#ifdef __cplusplus
}
#endif

#endif /* WASGO_H */
