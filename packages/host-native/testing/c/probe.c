/*
 * The native conformance / host-suite probe: a cpex_plugin.h library driven by its config.
 *
 * Conformance options (same order and meaning as pyref.plugins.probe.Probe): sleep, raise,
 * record, state, global_state, global_metadata, read_state, read_global, echo, metadata, trail,
 * set_args, set_fields, return_same, mutate_in_place (no effect across a boundary), deny,
 * block_silently, retry_delay_ms.
 * Host-suite behaviour (@cpex/sdk/testing probe contract): behaviour {kind: allow|deny|modify|
 * throw|sleep|hang|late|grow|garbage|crash|hang_init|hang_shutdown, ...}, events_dir (sleep-start / slept / aborted /
 * late-sent lines in <events_dir>/<plugin>). The hostile kinds: hang (forever, ignoring cancel),
 * late (the first call of a state ignores cancel for `ms`, then modifies with `set`; later calls
 * allow), grow (1 MiB at a time, touched, never freed; gives up with an error at 2 GiB so a host
 * that fails to stop it fails its test instead of the machine), garbage (bytes that are no
 * MessagePack frame to stdout and, in an isolation: process child, to its channel fd 3; then a
 * deny), crash (SIGSEGV), hang_init / hang_shutdown (cpex_plugin_init / cpex_plugin_shutdown never
 * return; calls allow).
 * Hostile options: crash (SIGSEGV), hang (forever, ignoring cancel), hang_ms (that long, ignoring
 * cancel, then the rest of the config runs), huge_output (N bytes of
 * output), garbage_output (not MessagePack), init_error (init fails with that message).
 * Build-time: -DPROBE_CLASS=0 Probe (+ CMF hooks) | 1 ExtensionsProbe | 2 PartialPlugin;
 * -DPROBE_ABI=N, -DPROBE_HASH=0x... to fake another ABI / wire version.
 * A constructor writes "$CPEX_NATIVE_MARKER_DIR/<basename>.loaded" when that variable is set:
 * the signature tests prove a refused library was never opened.
 */
#define _GNU_SOURCE
#include "cpex_plugin.h"
#include "mp.h"

#include <dlfcn.h>
#include <signal.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#ifndef PROBE_CLASS
#define PROBE_CLASS 0
#endif
#ifndef PROBE_ABI
#define PROBE_ABI CPEX_ABI_VERSION
#endif
#ifndef PROBE_HASH
#define PROBE_HASH CPEX_INTERFACE_HASH
#endif

__attribute__((constructor)) static void probe_loaded(void) {
    const char *dir = getenv("CPEX_NATIVE_MARKER_DIR");
    if (!dir || !*dir) return;
    Dl_info info;
    const char *base = "unknown";
    if (dladdr((void *)&probe_loaded, &info) && info.dli_fname) {
        const char *slash = strrchr(info.dli_fname, '/');
        base = slash ? slash + 1 : info.dli_fname;
    }
    char path[4096];
    snprintf(path, sizeof path, "%s/%s.loaded", dir, base);
    FILE *f = fopen(path, "a");
    if (f) { fputs("loaded\n", f); fclose(f); }
}

#if PROBE_CLASS == 0
static const char *const HOOKS[] = {
    "tool_pre_invoke", "tool_post_invoke", "prompt_pre_fetch", "prompt_post_fetch",
    "resource_pre_fetch", "resource_post_fetch", "agent_pre_invoke", "agent_post_invoke",
    "http_pre_request", "http_post_request", "http_auth_resolve_user", "http_auth_check_permission",
    "cmf.tool_pre_invoke", "cmf.tool_post_invoke", "cmf.llm_input", "cmf.llm_output",
    "cmf.prompt_pre_fetch", "cmf.prompt_post_fetch", "cmf.resource_pre_fetch", "cmf.resource_post_fetch",
};
#define PROBE_NAME "cpex-probe"
#elif PROBE_CLASS == 1
static const char *const HOOKS[] = {"tool_pre_invoke"};
#define PROBE_NAME "cpex-extensions-probe"
#else
static const char *const HOOKS[] = {"tool_pre_invoke"};
#define PROBE_NAME "cpex-partial-probe"
#endif

static const cpex_manifest MANIFEST = {
    PROBE_ABI, (uint32_t)(sizeof HOOKS / sizeof HOOKS[0]), PROBE_HASH, PROBE_NAME, "1.0.0", HOOKS,
};

CPEX_EXPORT const cpex_manifest *cpex_plugin_manifest(void) { return &MANIFEST; }

typedef struct { mp_val *cfg; int calls; } probe_state;

static uint8_t *dup_msg(const char *msg, size_t *len) {
    *len = strlen(msg);
    uint8_t *p = (uint8_t *)malloc(*len ? *len : 1);
    memcpy(p, msg, *len);
    return p;
}

/** Whether config.behaviour.kind is `kind`. */
static int behaviour_is(const mp_val *cfg, const char *kind) {
    const mp_val *b = mp_get(cfg, "behaviour");
    const mp_val *k = b && b->t == MP_MAP ? mp_get(b, "kind") : NULL;
    return k && k->t == MP_STR && strcmp(k->s, kind) == 0;
}

CPEX_EXPORT int32_t cpex_plugin_init(const uint8_t *config, size_t config_len, void **state,
                                     uint8_t **err, size_t *err_len) {
    mp_val *cfg = mp_parse(config, config_len);
    if (!cfg || cfg->t != MP_MAP) {
        mp_free(cfg);
        *err = dup_msg("config is not a MessagePack map", err_len);
        return CPEX_STATUS_BAD_REQUEST;
    }
    mp_val *ie = mp_get(cfg, "init_error");
    if (ie && ie->t == MP_STR) {
        *err = dup_msg(ie->s, err_len);
        mp_free(cfg);
        return CPEX_STATUS_ERROR;
    }
    probe_state *s = (probe_state *)calloc(1, sizeof *s);
    s->cfg = cfg;
    *state = s;
    if (behaviour_is(cfg, "hang_init")) /* hostile: init never returns */
        for (;;) { struct timespec t = {0, 10000000}; nanosleep(&t, NULL); }
    return CPEX_OK;
}

CPEX_EXPORT void cpex_plugin_free(uint8_t *ptr, size_t len) {
    (void)len;
    free(ptr);
}

CPEX_EXPORT void cpex_plugin_shutdown(void *state) {
    probe_state *s = (probe_state *)state;
    if (!s) return;
    if (behaviour_is(s->cfg, "hang_shutdown")) /* hostile: shutdown never returns */
        for (;;) { struct timespec t = {0, 10000000}; nanosleep(&t, NULL); }
    mp_free(s->cfg);
    free(s);
}

static void event(const mp_val *cfg, const char *plugin, const char *what) {
    const mp_val *dir = mp_get(cfg, "events_dir");
    if (!dir || dir->t != MP_STR) return;
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir->s, plugin);
    FILE *f = fopen(path, "a");
    if (f) { fprintf(f, "%s\n", what); fclose(f); }
}

/** Sleeps `ms`, polling the cancel flag; returns 1 when cancelled. */
static int sleep_ms(double ms, const volatile int32_t *cancel) {
    struct timespec start, now, tick = {0, 1000000};
    clock_gettime(CLOCK_MONOTONIC, &start);
    for (;;) {
        if (*cancel) return 1;
        clock_gettime(CLOCK_MONOTONIC, &now);
        double el = (double)(now.tv_sec - start.tv_sec) * 1e3 + (double)(now.tv_nsec - start.tv_nsec) / 1e6;
        if (el >= ms) return 0;
        nanosleep(&tick, NULL);
    }
}

static int32_t ok(mp_val *result, uint8_t **out, size_t *out_len) {
    *out = mp_encode(result, out_len);
    mp_free(result);
    return CPEX_OK;
}
static int32_t fail(int32_t status, const char *msg, uint8_t **out, size_t *out_len) {
    *out = dup_msg(msg, out_len);
    return status;
}

static int is_args_hook(const char *hook) {
    return strcmp(hook, "tool_pre_invoke") == 0 || strcmp(hook, "prompt_pre_fetch") == 0;
}

/** The host-suite behaviours. */
static int32_t behave(probe_state *s, const mp_val *b, const char *plugin, const mp_val *payload,
                      const volatile int32_t *cancel, uint8_t **out, size_t *out_len) {
    const mp_val *cfg = s->cfg;
    static const volatile int32_t never = 0;
    const mp_val *kind = mp_get(b, "kind");
    const char *k = kind && kind->t == MP_STR ? kind->s : "";
    mp_val *r = mp_map();
    if (strcmp(k, "allow") == 0) {
        const mp_val *md = mp_get(b, "metadata");
        if (md && md->t == MP_MAP) mp_set(r, "metadata", mp_clone(md));
        return ok(r, out, out_len);
    }
    if (strcmp(k, "garbage") == 0) { /* bytes that are no frame, then the deny below */
        static const char junk[] = "\xc1\xc1 not a frame \xff\xff\xff\xff\n";
        ssize_t w = write(1, junk, sizeof junk - 1);
        if (getenv("CPEX_LIFELINE_FD")) w = write(3, junk, sizeof junk - 1); /* the child's channel */
        (void)w;
        k = "deny";
    }
    if (strcmp(k, "deny") == 0) {
        mp_val *v = mp_map();
        mp_set(v, "code", mp_clone(mp_get(b, "code")));
        mp_set(v, "reason", mp_clone(mp_get(b, "reason")));
        mp_set(r, "continue_processing", mp_bool(0));
        mp_set(r, "violation", v);
        return ok(r, out, out_len);
    }
    if (strcmp(k, "hang_init") == 0 || strcmp(k, "hang_shutdown") == 0) return ok(r, out, out_len);
    if (strcmp(k, "hang") == 0)
        for (;;) { struct timespec t = {0, 10000000}; nanosleep(&t, NULL); }
    if (strcmp(k, "crash") == 0) raise(SIGSEGV);
    if (strcmp(k, "grow") == 0) {
        for (size_t mib = 0; mib < 2048; mib++) {
            char *p = (char *)malloc(1 << 20);
            if (!p) break;
            memset(p, 0x5a, 1 << 20);
        }
        mp_free(r);
        return fail(CPEX_STATUS_ERROR, "probe grew 2 GiB (or malloc failed) and nothing stopped it", out, out_len);
    }
    if (strcmp(k, "late") == 0 && s->calls++ == 0) {
        sleep_ms(mp_num(mp_get(b, "ms")), &never); /* ignores the cancel flag */
        event(cfg, plugin, "late-sent");
        k = "modify";
    } else if (strcmp(k, "late") == 0) {
        return ok(r, out, out_len);
    }
    if (strcmp(k, "modify") == 0) {
        mp_val *p = mp_clone(payload);
        const mp_val *set = mp_get(b, "set");
        if (p->t == MP_MAP && set && set->t == MP_MAP)
            for (uint32_t j = 0; j < set->n; j++)
                if (set->items[2 * j]->t == MP_STR) mp_set(p, set->items[2 * j]->s, mp_clone(set->items[2 * j + 1]));
        mp_set(r, "modified_payload", p);
        return ok(r, out, out_len);
    }
    if (strcmp(k, "throw") == 0) {
        mp_free(r);
        const mp_val *m = mp_get(b, "message");
        return fail(CPEX_STATUS_ERROR, m && m->t == MP_STR ? m->s : "probe error", out, out_len);
    }
    if (strcmp(k, "sleep") == 0) {
        event(cfg, plugin, "sleep-start");
        if (sleep_ms(mp_num(mp_get(b, "ms")), cancel)) {
            event(cfg, plugin, "aborted");
            mp_val *md = mp_map();
            mp_set(md, "aborted", mp_bool(1));
            mp_set(r, "metadata", md);
        } else {
            event(cfg, plugin, "slept");
        }
        return ok(r, out, out_len);
    }
    mp_free(r);
    return fail(CPEX_STATUS_BAD_REQUEST, "config.behaviour.kind is not one of allow|deny|modify|throw|sleep|hang|late|grow|garbage|crash|hang_init|hang_shutdown", out, out_len);
}

static void merge_into(mp_val *dst, const mp_val *src) {
    if (!src || src->t != MP_MAP) return;
    for (uint32_t j = 0; j < src->n; j++)
        if (src->items[2 * j]->t == MP_STR) mp_set(dst, src->items[2 * j]->s, mp_clone(src->items[2 * j + 1]));
}

/** A map of the keys listed in `keys` (array of str) copied from `from` (nil when missing). */
static mp_val *pick(const mp_val *from, const mp_val *keys) {
    mp_val *m = mp_map();
    for (uint32_t j = 0; keys && keys->t == MP_ARR && j < keys->n; j++) {
        const mp_val *k = keys->items[j];
        if (k->t != MP_STR) continue;
        mp_set(m, k->s, mp_clone(mp_get(from, k->s)));
    }
    return m;
}

static mp_val *sorted_strings(const mp_val *arr) {
    mp_val *out = mp_arr();
    if (!arr || arr->t != MP_ARR) return out;
    for (uint32_t j = 0; j < arr->n; j++) if (arr->items[j]->t == MP_STR) mp_push(out, mp_clone(arr->items[j]));
    for (uint32_t a = 1; a < out->n; a++)
        for (uint32_t c = a; c > 0 && strcmp(out->items[c - 1]->s, out->items[c]->s) > 0; c--) {
            mp_val *t = out->items[c]; out->items[c] = out->items[c - 1]; out->items[c - 1] = t;
        }
    return out;
}

#if PROBE_CLASS == 1
/** pyref ExtensionsProbe on the Rust-shaped extensions. */
static int32_t extensions_probe(const mp_val *cfg, const char *plugin, const mp_val *ext, uint8_t **out, size_t *out_len) {
    mp_val *seen = mp_map();
    int none = !ext || ext->t != MP_MAP;
    mp_set(seen, "extensions_is_none", mp_bool(none));
    mp_val *r = mp_map();
    if (!none) {
        mp_val *slots = mp_arr();
        for (uint32_t j = 0; j < ext->n; j++)
            if (ext->items[2 * j]->t == MP_STR && ext->items[2 * j + 1]->t != MP_NIL) mp_push(slots, mp_clone(ext->items[2 * j]));
        mp_val *ss = sorted_strings(slots);
        mp_free(slots);
        mp_set(seen, "slots", ss);
        const mp_val *sec = mp_get(ext, "security");
        if (sec && sec->t == MP_MAP) {
            mp_set(seen, "labels", sorted_strings(mp_get(sec, "labels")));
            const mp_val *subj = mp_get(sec, "subject");
            if (subj && subj->t == MP_MAP) {
                mp_val *s = mp_map();
                mp_set(s, "id", mp_clone(mp_get(subj, "id")));
                mp_set(s, "roles", sorted_strings(mp_get(subj, "roles")));
                mp_set(s, "teams", sorted_strings(mp_get(subj, "teams")));
                mp_set(s, "permissions", sorted_strings(mp_get(subj, "permissions")));
                const mp_val *cl = mp_get(subj, "claims");
                mp_set(s, "claims", cl && cl->t == MP_MAP ? mp_clone(cl) : mp_map());
                mp_set(seen, "subject", s);
            } else {
                mp_set(seen, "subject", mp_nil());
            }
        }
        const mp_val *http = mp_get(ext, "http");
        if (http && http->t == MP_MAP) {
            const mp_val *h = mp_get(http, "request_headers");
            mp_set(seen, "headers", h && h->t == MP_MAP ? mp_clone(h) : mp_map());
        }
        const mp_val *custom = mp_get(ext, "custom");
        if (custom && custom->t == MP_MAP) mp_set(seen, "custom", mp_clone(custom));

        mp_val *next = mp_clone(ext);
        int changed = 0;
        mp_val *nsec = mp_get(next, "security");
        const mp_val *add = mp_get(cfg, "add_label");
        if (mp_truthy(add) && nsec && nsec->t == MP_MAP) {
            mp_val *labels = sorted_strings(mp_get(nsec, "labels"));
            int found = 0;
            for (uint32_t j = 0; j < labels->n; j++) if (add->t == MP_STR && strcmp(labels->items[j]->s, add->s) == 0) found = 1;
            if (!found) mp_push(labels, mp_clone(add));
            mp_set(nsec, "labels", labels);
            changed = 1;
        }
        if (mp_truthy(mp_get(cfg, "drop_labels")) && nsec && nsec->t == MP_MAP) {
            mp_set(nsec, "labels", mp_arr());
            changed = 1;
        }
        const mp_val *sc = mp_get(cfg, "set_custom");
        if (mp_truthy(sc)) {
            mp_val *c = mp_get(next, "custom");
            if (!c || c->t != MP_MAP) { mp_set(next, "custom", mp_map()); c = mp_get(next, "custom"); }
            merge_into(c, sc);
            changed = 1;
        }
        const mp_val *sh = mp_get(cfg, "set_header");
        mp_val *nhttp = mp_get(next, "http");
        if (mp_truthy(sh) && nhttp && nhttp->t == MP_MAP) {
            mp_val *h = mp_get(nhttp, "request_headers");
            if (!h || h->t != MP_MAP) { mp_set(nhttp, "request_headers", mp_map()); h = mp_get(nhttp, "request_headers"); }
            merge_into(h, sh);
            changed = 1;
        }
        if (changed) mp_set(r, "modified_extensions", next);
        else mp_free(next);
    }
    char key[512];
    snprintf(key, sizeof key, "%s.ext", plugin);
    mp_val *md = mp_map();
    mp_set(md, key, seen);
    mp_set(r, "metadata", md);
    return ok(r, out, out_len);
}
#endif

CPEX_EXPORT int32_t cpex_plugin_invoke(void *state, const uint8_t *request, size_t request_len,
                                       const volatile int32_t *cancel, uint8_t **out, size_t *out_len) {
    probe_state *s = (probe_state *)state;
    const mp_val *cfg = s->cfg;
    *out = NULL;
    *out_len = 0;

    if (mp_truthy(mp_get(cfg, "crash"))) raise(SIGSEGV);
    if (mp_truthy(mp_get(cfg, "hang")))
        for (;;) { struct timespec t = {0, 10000000}; nanosleep(&t, NULL); }
    const mp_val *hang_ms = mp_get(cfg, "hang_ms");
    if (mp_truthy(hang_ms)) { /* ignores the cancel flag: holds its thread past any timeout */
        static const volatile int32_t never = 0;
        sleep_ms(mp_num(hang_ms), &never);
    }
    const mp_val *huge = mp_get(cfg, "huge_output");
    if (mp_truthy(huge)) {
        size_t n = (size_t)mp_num(huge);
        uint8_t *p = (uint8_t *)malloc(n);
        memset(p, 0x90, n); /* fixarray headers of empty arrays: valid-looking bytes, far too many */
        *out = p;
        *out_len = n;
        return CPEX_OK;
    }
    if (mp_truthy(mp_get(cfg, "garbage_output"))) {
        uint8_t *p = (uint8_t *)malloc(4);
        memset(p, 0xc1, 4); /* 0xc1 is never used in MessagePack */
        *out = p;
        *out_len = 4;
        return CPEX_OK;
    }

    mp_val *req = mp_parse(request, request_len);
    if (!req || req->t != MP_MAP) {
        mp_free(req);
        return fail(CPEX_STATUS_BAD_REQUEST, "request is not a MessagePack map", out, out_len);
    }
    const mp_val *hookv = mp_get(req, "hook");
    const mp_val *namev = mp_get(req, "plugin_name");
    const char *hook = hookv && hookv->t == MP_STR ? hookv->s : "";
    const char *name = namev && namev->t == MP_STR ? namev->s : "probe";
    const mp_val *payload = mp_get(req, "payload");
    const mp_val *context = mp_get(req, "context");
    int32_t rc;
    (void)hook;
    (void)context;

    const mp_val *b = mp_get(cfg, "behaviour");
    if (b && b->t == MP_MAP) {
        rc = behave(s, b, name, payload, cancel, out, out_len);
        mp_free(req);
        return rc;
    }
#if PROBE_CLASS == 1
    rc = extensions_probe(cfg, name, mp_get(req, "extensions"), out, out_len);
    mp_free(req);
    return rc;
#elif PROBE_CLASS == 2
    {
        mp_val *r = mp_map(), *md = mp_map();
        char key[512];
        snprintf(key, sizeof key, "%s.ran", name);
        mp_set(md, key, mp_bool(1));
        mp_set(r, "metadata", md);
        mp_free(req);
        return ok(r, out, out_len);
    }
#else
    if (mp_truthy(mp_get(cfg, "sleep")) && sleep_ms(mp_num(mp_get(cfg, "sleep")) * 1000.0, cancel)) {
        mp_free(req);
        return fail(CPEX_STATUS_CANCELLED, "cancelled", out, out_len);
    }
    const mp_val *raise_msg = mp_get(cfg, "raise");
    if (mp_truthy(raise_msg)) {
        rc = fail(CPEX_STATUS_ERROR, raise_msg->t == MP_STR ? raise_msg->s : "error", out, out_len);
        mp_free(req);
        return rc;
    }
    const mp_val *gc = mp_get(context, "global_context");
    mp_val *st = mp_clone(mp_get(context, "state"));
    mp_val *gst = mp_clone(mp_get(gc, "state"));
    mp_val *gmd = mp_clone(mp_get(gc, "metadata"));
    if (st->t != MP_MAP) { mp_free(st); st = mp_map(); }
    if (gst->t != MP_MAP) { mp_free(gst); gst = mp_map(); }
    if (gmd->t != MP_MAP) { mp_free(gmd); gmd = mp_map(); }
    int touched_local = 0, touched_global = 0, touched_gmd = 0;

    if (mp_truthy(mp_get(cfg, "record"))) {
        mp_val *calls = mp_get(st, "calls");
        mp_val *nc = calls && calls->t == MP_ARR ? mp_clone(calls) : mp_arr();
        mp_push(nc, mp_str(hook));
        mp_set(st, "calls", nc);
        touched_local = 1;
    }
    if (mp_truthy(mp_get(cfg, "state"))) { merge_into(st, mp_get(cfg, "state")); touched_local = 1; }
    if (mp_truthy(mp_get(cfg, "global_state"))) { merge_into(gst, mp_get(cfg, "global_state")); touched_global = 1; }
    if (mp_truthy(mp_get(cfg, "global_metadata"))) { merge_into(gmd, mp_get(cfg, "global_metadata")); touched_gmd = 1; }

    mp_val *md = mp_map();
    merge_into(md, mp_get(cfg, "metadata"));
    char key[512];
    if (mp_truthy(mp_get(cfg, "read_state"))) {
        snprintf(key, sizeof key, "%s.local", name);
        mp_set(md, key, pick(st, mp_get(cfg, "read_state")));
    }
    if (mp_truthy(mp_get(cfg, "read_global"))) {
        snprintf(key, sizeof key, "%s.global", name);
        mp_set(md, key, pick(gst, mp_get(cfg, "read_global")));
    }
    if (mp_truthy(mp_get(cfg, "echo"))) {
        mp_set(st, "saw", mp_clone(payload));
        touched_local = 1;
        snprintf(key, sizeof key, "%s.saw", name);
        mp_set(md, key, mp_clone(payload));
    }

    mp_val *modified = NULL;
    int pmap = payload && payload->t == MP_MAP;
    if (mp_truthy(mp_get(cfg, "trail")) && pmap) {
        const mp_val *args = mp_get(payload, "args");
        const mp_val *res = mp_get(payload, "result");
        const char *field = NULL;
        if (is_args_hook(hook) || (args && args->t == MP_MAP)) field = "args";
        /* Python coerces prompt_post_fetch's dict result to StructuredData: probe.py's trail skips it. */
        else if (res && res->t == MP_MAP && strcmp(hook, "prompt_post_fetch") != 0) field = "result";
        if (field) {
            modified = mp_clone(payload);
            mp_val *f = mp_get(modified, field);
            if (!f || f->t != MP_MAP) { mp_set(modified, field, mp_map()); f = mp_get(modified, field); }
            const mp_val *t = mp_get(f, "trail");
            char buf[4096];
            if (mp_truthy(t) && t->t == MP_STR) snprintf(buf, sizeof buf, "%s>%s", t->s, name);
            else snprintf(buf, sizeof buf, "%s", name);
            mp_set(f, "trail", mp_str(buf));
        }
    }
    if (mp_truthy(mp_get(cfg, "set_args")) && pmap) {
        if (!modified) modified = mp_clone(payload);
        mp_val *a = mp_get(modified, "args");
        if (!a || a->t != MP_MAP) { mp_set(modified, "args", mp_map()); a = mp_get(modified, "args"); }
        merge_into(a, mp_get(cfg, "set_args"));
    }
    if (mp_truthy(mp_get(cfg, "set_fields")) && pmap) {
        if (!modified) modified = mp_clone(payload);
        merge_into(modified, mp_get(cfg, "set_fields"));
    }
    if (mp_truthy(mp_get(cfg, "return_same")) && !modified) modified = mp_clone(payload);

    mp_val *r = mp_map();
    if (modified) mp_set(r, "modified_payload", modified);
    mp_set(r, "metadata", md);
    if (mp_truthy(mp_get(cfg, "retry_delay_ms"))) mp_set(r, "retry_delay_ms", mp_int((int64_t)mp_num(mp_get(cfg, "retry_delay_ms"))));
    const mp_val *deny = mp_get(cfg, "deny");
    if (mp_truthy(deny)) {
        const mp_val *d = deny->t == MP_MAP ? deny : NULL;
        mp_val *v = mp_map();
        const mp_val *x;
        char reason[600];
        snprintf(reason, sizeof reason, "denied by %s", name);
        mp_set(v, "code", (x = mp_get(d, "code")) ? mp_clone(x) : mp_str("DENIED"));
        mp_set(v, "reason", (x = mp_get(d, "reason")) ? mp_clone(x) : mp_str(reason));
        mp_set(v, "description", (x = mp_get(d, "description")) ? mp_clone(x) : mp_str("probe deny"));
        mp_set(v, "details", (x = mp_get(d, "details")) && x->t == MP_MAP ? mp_clone(x) : mp_map());
        mp_set(r, "continue_processing", mp_bool(0));
        mp_set(r, "violation", v);
    } else if (mp_truthy(mp_get(cfg, "block_silently"))) {
        mp_set(r, "continue_processing", mp_bool(0));
    }
    if (touched_local || touched_global || touched_gmd) {
        mp_val *c = mp_map();
        if (touched_local) mp_set(c, "state", st); else mp_free(st);
        if (touched_global) mp_set(c, "global_state", gst); else mp_free(gst);
        if (touched_gmd) mp_set(c, "global_metadata", gmd); else mp_free(gmd);
        mp_set(r, "context", c);
    } else {
        mp_free(st); mp_free(gst); mp_free(gmd);
    }
    mp_free(req);
    return ok(r, out, out_len);
#endif
}
