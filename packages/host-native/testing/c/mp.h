/*
 * mp.h — a small MessagePack value tree for the C test plugins (parse, build, encode).
 * Header-only; enough of the format for cpex requests and results: nil, bool, ints, float32/64,
 * str, bin, array, map (any key type; lookups by string key). Not a general-purpose library.
 */
#ifndef CPEX_TEST_MP_H
#define CPEX_TEST_MP_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef enum { MP_NIL, MP_BOOL, MP_INT, MP_FLOAT, MP_STR, MP_BIN, MP_ARR, MP_MAP } mp_type;

typedef struct mp_val mp_val;
struct mp_val {
    mp_type t;
    int b;
    int64_t i;
    double f;
    char *s;          /* str / bin bytes (str also NUL-terminated) */
    uint32_t n;       /* str/bin length; array items; map pairs */
    uint32_t cap;
    mp_val **items;   /* array items, or map keys and values interleaved (2*n) */
};

static mp_val *mp_new(mp_type t) {
    mp_val *v = (mp_val *)calloc(1, sizeof(mp_val));
    v->t = t;
    return v;
}
static mp_val *mp_nil(void) { return mp_new(MP_NIL); }
static mp_val *mp_bool(int b) { mp_val *v = mp_new(MP_BOOL); v->b = !!b; return v; }
static mp_val *mp_int(int64_t i) { mp_val *v = mp_new(MP_INT); v->i = i; return v; }
static mp_val *mp_strn(const char *s, uint32_t n) {
    mp_val *v = mp_new(MP_STR);
    v->s = (char *)malloc(n + 1);
    memcpy(v->s, s, n);
    v->s[n] = 0;
    v->n = n;
    return v;
}
static mp_val *mp_str(const char *s) { return mp_strn(s, (uint32_t)strlen(s)); }
static mp_val *mp_arr(void) { return mp_new(MP_ARR); }
static mp_val *mp_map(void) { return mp_new(MP_MAP); }

static void mp_free(mp_val *v) {
    if (!v) return;
    uint32_t k = v->t == MP_MAP ? 2 * v->n : v->t == MP_ARR ? v->n : 0;
    for (uint32_t j = 0; j < k; j++) mp_free(v->items[j]);
    free(v->items);
    free(v->s);
    free(v);
}

static void mp_grow(mp_val *v, uint32_t need) {
    if (need <= v->cap) return;
    uint32_t cap = v->cap ? v->cap * 2 : 8;
    while (cap < need) cap *= 2;
    v->items = (mp_val **)realloc(v->items, cap * sizeof(mp_val *));
    v->cap = cap;
}
static void mp_push(mp_val *arr, mp_val *x) {
    mp_grow(arr, arr->n + 1);
    arr->items[arr->n++] = x;
}

static int mp_is_key(const mp_val *k, const char *key) {
    return k->t == MP_STR && strlen(key) == k->n && memcmp(k->s, key, k->n) == 0;
}
/** Value under a string key of a map, or NULL. */
static mp_val *mp_get(const mp_val *m, const char *key) {
    if (!m || m->t != MP_MAP) return NULL;
    for (uint32_t j = 0; j < m->n; j++)
        if (mp_is_key(m->items[2 * j], key)) return m->items[2 * j + 1];
    return NULL;
}
/** Sets (or replaces) a string key; takes ownership of `val`. */
static void mp_set(mp_val *m, const char *key, mp_val *val) {
    for (uint32_t j = 0; j < m->n; j++) {
        if (mp_is_key(m->items[2 * j], key)) {
            mp_free(m->items[2 * j + 1]);
            m->items[2 * j + 1] = val;
            return;
        }
    }
    mp_grow(m, 2 * (m->n + 1));
    m->items[2 * m->n] = mp_str(key);
    m->items[2 * m->n + 1] = val;
    m->n++;
}
static mp_val *mp_clone(const mp_val *v) {
    if (!v) return mp_nil();
    mp_val *c = mp_new(v->t);
    c->b = v->b; c->i = v->i; c->f = v->f; c->n = v->n;
    if (v->s) { c->s = (char *)malloc(v->n + 1); memcpy(c->s, v->s, v->n + 1); }
    uint32_t k = v->t == MP_MAP ? 2 * v->n : v->t == MP_ARR ? v->n : 0;
    if (k) {
        c->items = (mp_val **)malloc(k * sizeof(mp_val *));
        c->cap = k;
        for (uint32_t j = 0; j < k; j++) c->items[j] = mp_clone(v->items[j]);
    }
    return c;
}
/** Python truthiness (0, "", [], {}, nil, false are false). */
static int mp_truthy(const mp_val *v) {
    if (!v) return 0;
    switch (v->t) {
    case MP_NIL: return 0;
    case MP_BOOL: return v->b;
    case MP_INT: return v->i != 0;
    case MP_FLOAT: return v->f != 0.0;
    default: return v->n != 0;
    }
}
static double mp_num(const mp_val *v) {
    if (!v) return 0;
    if (v->t == MP_INT) return (double)v->i;
    if (v->t == MP_FLOAT) return v->f;
    if (v->t == MP_STR) return atof(v->s);
    return 0;
}

/* ---------------------------------------------------------------- parse */

typedef struct { const uint8_t *p; size_t len, pos; int err, depth; } mp_reader;

static uint64_t mp_be(mp_reader *r, int bytes) {
    if (r->pos + (size_t)bytes > r->len) { r->err = 1; return 0; }
    uint64_t x = 0;
    for (int j = 0; j < bytes; j++) x = (x << 8) | r->p[r->pos++];
    return x;
}

static mp_val *mp_read(mp_reader *r);

static mp_val *mp_read_bytes(mp_reader *r, mp_type t, uint32_t n) {
    if (r->pos + n > r->len) { r->err = 1; return mp_nil(); }
    mp_val *v = mp_strn((const char *)r->p + r->pos, n);
    v->t = t;
    r->pos += n;
    return v;
}
static mp_val *mp_read_arr(mp_reader *r, uint32_t n) {
    mp_val *v = mp_arr();
    for (uint32_t j = 0; j < n && !r->err; j++) mp_push(v, mp_read(r));
    return v;
}
static mp_val *mp_read_map(mp_reader *r, uint32_t n) {
    mp_val *v = mp_map();
    for (uint32_t j = 0; j < n && !r->err; j++) {
        mp_val *k = mp_read(r);
        mp_val *x = mp_read(r);
        mp_grow(v, 2 * (v->n + 1));
        v->items[2 * v->n] = k;
        v->items[2 * v->n + 1] = x;
        v->n++;
    }
    return v;
}

static mp_val *mp_read(mp_reader *r) {
    if (r->err || r->pos >= r->len || r->depth > 200) { r->err = 1; return mp_nil(); }
    uint8_t b = r->p[r->pos++];
    mp_val *v;
    r->depth++;
    if (b <= 0x7f) v = mp_int(b);
    else if (b >= 0xe0) v = mp_int((int8_t)b);
    else if ((b & 0xf0) == 0x80) v = mp_read_map(r, b & 0x0f);
    else if ((b & 0xf0) == 0x90) v = mp_read_arr(r, b & 0x0f);
    else if ((b & 0xe0) == 0xa0) v = mp_read_bytes(r, MP_STR, b & 0x1f);
    else switch (b) {
    case 0xc0: v = mp_nil(); break;
    case 0xc2: v = mp_bool(0); break;
    case 0xc3: v = mp_bool(1); break;
    case 0xc4: v = mp_read_bytes(r, MP_BIN, (uint32_t)mp_be(r, 1)); break;
    case 0xc5: v = mp_read_bytes(r, MP_BIN, (uint32_t)mp_be(r, 2)); break;
    case 0xc6: v = mp_read_bytes(r, MP_BIN, (uint32_t)mp_be(r, 4)); break;
    case 0xca: { uint32_t u = (uint32_t)mp_be(r, 4); float f; memcpy(&f, &u, 4); v = mp_new(MP_FLOAT); v->f = f; break; }
    case 0xcb: { uint64_t u = mp_be(r, 8); double d; memcpy(&d, &u, 8); v = mp_new(MP_FLOAT); v->f = d; break; }
    case 0xcc: v = mp_int((int64_t)mp_be(r, 1)); break;
    case 0xcd: v = mp_int((int64_t)mp_be(r, 2)); break;
    case 0xce: v = mp_int((int64_t)mp_be(r, 4)); break;
    case 0xcf: v = mp_int((int64_t)mp_be(r, 8)); break;
    case 0xd0: v = mp_int((int8_t)mp_be(r, 1)); break;
    case 0xd1: v = mp_int((int16_t)mp_be(r, 2)); break;
    case 0xd2: v = mp_int((int32_t)mp_be(r, 4)); break;
    case 0xd3: v = mp_int((int64_t)mp_be(r, 8)); break;
    case 0xd9: v = mp_read_bytes(r, MP_STR, (uint32_t)mp_be(r, 1)); break;
    case 0xda: v = mp_read_bytes(r, MP_STR, (uint32_t)mp_be(r, 2)); break;
    case 0xdb: v = mp_read_bytes(r, MP_STR, (uint32_t)mp_be(r, 4)); break;
    case 0xdc: v = mp_read_arr(r, (uint32_t)mp_be(r, 2)); break;
    case 0xdd: v = mp_read_arr(r, (uint32_t)mp_be(r, 4)); break;
    case 0xde: v = mp_read_map(r, (uint32_t)mp_be(r, 2)); break;
    case 0xdf: v = mp_read_map(r, (uint32_t)mp_be(r, 4)); break;
    default: r->err = 1; v = mp_nil(); /* ext types are not used by cpex */
    }
    r->depth--;
    return v;
}

/** Parses one value; NULL when the bytes are not (exactly) one MessagePack value. */
static mp_val *mp_parse(const uint8_t *p, size_t len) {
    mp_reader r = {p, len, 0, 0, 0};
    mp_val *v = mp_read(&r);
    if (r.err || r.pos != len) { mp_free(v); return NULL; }
    return v;
}

/* ---------------------------------------------------------------- encode */

typedef struct { uint8_t *p; size_t len, cap; } mp_buf;

static void mp_put(mp_buf *b, const void *src, size_t n) {
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 256;
        while (cap < b->len + n) cap *= 2;
        b->p = (uint8_t *)realloc(b->p, cap);
        b->cap = cap;
    }
    memcpy(b->p + b->len, src, n);
    b->len += n;
}
static void mp_put_be(mp_buf *b, uint8_t tag, uint64_t x, int bytes) {
    uint8_t t[9];
    t[0] = tag;
    for (int j = 0; j < bytes; j++) t[1 + j] = (uint8_t)(x >> (8 * (bytes - 1 - j)));
    mp_put(b, t, 1 + (size_t)bytes);
}
static void mp_put_len(mp_buf *b, uint32_t n, uint8_t fix, uint32_t fixmax, uint8_t t8, uint8_t t16, uint8_t t32) {
    if (n <= fixmax) { uint8_t t = (uint8_t)(fix | n); mp_put(b, &t, 1); }
    else if (t8 && n <= 0xff) mp_put_be(b, t8, n, 1);
    else if (n <= 0xffff) mp_put_be(b, t16, n, 2);
    else mp_put_be(b, t32, n, 4);
}

static void mp_write(mp_buf *b, const mp_val *v) {
    switch (v->t) {
    case MP_NIL: { uint8_t t = 0xc0; mp_put(b, &t, 1); break; }
    case MP_BOOL: { uint8_t t = v->b ? 0xc3 : 0xc2; mp_put(b, &t, 1); break; }
    case MP_INT:
        if (v->i >= 0 && v->i <= 0x7f) { uint8_t t = (uint8_t)v->i; mp_put(b, &t, 1); }
        else if (v->i < 0 && v->i >= -32) { uint8_t t = (uint8_t)(int8_t)v->i; mp_put(b, &t, 1); }
        else if (v->i >= 0) mp_put_be(b, 0xcf, (uint64_t)v->i, 8);
        else mp_put_be(b, 0xd3, (uint64_t)v->i, 8);
        break;
    case MP_FLOAT: { uint64_t u; memcpy(&u, &v->f, 8); mp_put_be(b, 0xcb, u, 8); break; }
    case MP_STR: mp_put_len(b, v->n, 0xa0, 31, 0xd9, 0xda, 0xdb); mp_put(b, v->s, v->n); break;
    case MP_BIN:
        if (v->n <= 0xff) mp_put_be(b, 0xc4, v->n, 1);
        else if (v->n <= 0xffff) mp_put_be(b, 0xc5, v->n, 2);
        else mp_put_be(b, 0xc6, v->n, 4);
        mp_put(b, v->s, v->n);
        break;
    case MP_ARR:
        mp_put_len(b, v->n, 0x90, 15, 0, 0xdc, 0xdd);
        for (uint32_t j = 0; j < v->n; j++) mp_write(b, v->items[j]);
        break;
    case MP_MAP:
        mp_put_len(b, v->n, 0x80, 15, 0, 0xde, 0xdf);
        for (uint32_t j = 0; j < 2 * v->n; j++) mp_write(b, v->items[j]);
        break;
    }
}

/** Encodes `v` into a malloc'd buffer (caller frees). */
static uint8_t *mp_encode(const mp_val *v, size_t *len) {
    mp_buf b = {0, 0, 0};
    mp_write(&b, v);
    *len = b.len;
    return b.p;
}

#endif
