/* test_immortal.c — PEP 683's immortal objects (`immortal=1`) on every
 * refcounting strategy.
 *
 * What is checked, on none, rc, rc+gen, rc+trial, rc+incr, rc+ft and rc+pep848:
 *   - WARMUP_END makes exactly what the roots reach immortal (a chain of
 *     cycles: containers and strings), and nothing else; mm_immortalize from a
 *     workload's object does the same for what it reaches;
 *   - incref and decref leave an immortal count at the sentinel (a million of
 *     each), and dropping the last program hold frees nothing;
 *   - a full collection after every hold is gone frees none of them and counts
 *     none as garbage; under rc+gen they sit in the permanent generation (3.12's
 *     update_refs), under rc+incr they are untracked (3.14's), so the next full
 *     collection examines none of them (rc+ft: untracked too, as the
 *     free-threaded update_refs does; rc+pep848 shares rc+incr's region code);
 *   - mortal garbage that refers to immortals is still freed;
 *   - immortal=0 (the default) changes nothing: the same cycles are collected;
 *   - bad values of the knob are refused with one line.
 */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "test_util.h"
#include "mm.h"
#include "reclaim_gen.h"
#include "strategy.h"

/* Pairs in the chain the root holds: each pair a 2-cycle plus a string. */
#define PAIRS 500

static const mm_type str_type = {.name = "str", .size = sizeof(mm_varobject), .itemsize = 1};

/* A chain of PAIRS nodes, each in a 2-cycle with a partner holding a string;
 * returns the head (new reference). 3 objects per pair. */
static mm_object *build(mm_heap *h, mm_class *c, mm_attr next, mm_attr peer, mm_attr name) {
    mm_object *head = NULL;
    for (int i = 0; i < PAIRS; i++) {
        mm_object *a = mm_instance_new(h, c), *b = mm_instance_new(h, c), *s = mm_new(h, &str_type, 8);
        mm_setattr(h, a, peer, mm_ref(b));
        mm_setattr(h, b, peer, mm_ref(a));
        mm_setattr(h, b, name, mm_ref(s));
        if (head) mm_setattr(h, a, next, mm_ref(head));
        mm_decref(h, s);
        mm_decref(h, b);
        if (head) mm_decref(h, head);
        head = a;
    }
    return head;
}

static void test_strategy(const char *reclaim, bool collector) {
    mm_heap *h = test_heap(reclaim, "immortal=1");
    static const char *const attrs[] = {"next", "peer", "name"};
    mm_class *c = mm_class_new(h, "Node", attrs, 3);
    mm_attr next = mm_intern(h, "next"), peer = mm_intern(h, "peer"), name = mm_intern(h, "name");
    mm_object *app = build(h, c, next, peer, name);
    mm_root_push(h, &app);
    mm_object *loose = build(h, c, next, peer, name); /* not rooted: stays mortal */
    CHECK(live(h) == 6 * PAIRS, "%s: live %llu", reclaim, (unsigned long long)live(h));

    mm_event_notify(h, MM_EVENT_WARMUP_END);
    mm_stats s;
    mm_get_stats(h, &s);
    CHECK(s.immortalized == 3 * PAIRS, "%s: immortalized %llu, want %d", reclaim, (unsigned long long)s.immortalized,
          3 * PAIRS);
    CHECK(mm_is_immortal(app) && !mm_is_immortal(loose), "%s: the rooted chain only", reclaim);
    mm_object *str = mm_as_ref(mm_getattr(h, mm_as_ref(mm_getattr(h, app, peer)), name));
    CHECK(str && mm_is_immortal(str), "%s: strings too", reclaim);
    for (int i = 0; i < 1000000; i++) mm_incref(app);
    for (int i = 0; i < 1000001; i++) mm_decref(h, app);
    CHECK(app->refcount == MM_IMMORTAL_REFCNT, "%s: refcount %lld is the sentinel", reclaim, (long long)app->refcount);

    /* mm_immortalize from the workload: one more structure, 3 per pair */
    mm_object *marked = build(h, c, next, peer, name);
    CHECK(mm_immortalize(h, marked) == 3 * PAIRS, "%s: mm_immortalize counts what it reached", reclaim);
    mm_decref(h, marked);

    /* mortal garbage referring to immortals: freed; immortals: never */
    mm_setattr(h, loose, name, mm_ref(app));
    mm_decref(h, loose);
    app = NULL;
    mm_root_pop(h, 1);
    const uint64_t want_live = collector ? 6 * PAIRS : 9 * PAIRS; /* rc/none keep the loose cycles */
    uint64_t got = collector ? mm_collect(h, MM_COLLECT_FULL) : 0;
    CHECK(live(h) == want_live, "%s: live %llu after the full collection, want %llu", reclaim,
          (unsigned long long)live(h), (unsigned long long)want_live);
    if (collector) {
        CHECK(got == 2 * PAIRS, "%s: collected %llu (the loose chain's containers only)", reclaim,
              (unsigned long long)got);
        mm_get_stats(h, &s);
        CHECK(s.collected == 2 * PAIRS, "%s: gc_collected %llu", reclaim, (unsigned long long)s.collected);
    }
    if (strcmp(reclaim, "rc+gen") == 0) {
        mm_gen_info gi;
        mm_gen_get_info(h, &gi);
        CHECK(gi.permanent_size == 4 * PAIRS, "rc+gen: %zu in the permanent generation, want %d (containers)",
              gi.permanent_size, 4 * PAIRS);
    }
    if (collector) { /* a second full collection examines none of them */
        CHECK(mm_collect(h, MM_COLLECT_FULL) == 0, "%s: nothing more to collect", reclaim);
        CHECK(live(h) == 6 * PAIRS, "%s: still never freed", reclaim);
    }
    mm_heap_free(h);
}

/* The default: the same program collects the rooted chain once it is dropped. */
static void test_off(void) {
    mm_heap *h = test_heap("rc+gen", NULL);
    static const char *const attrs[] = {"next", "peer", "name"};
    mm_class *c = mm_class_new(h, "Node", attrs, 3);
    mm_object *app = build(h, c, mm_intern(h, "next"), mm_intern(h, "peer"), mm_intern(h, "name"));
    mm_root_push(h, &app);
    mm_event_notify(h, MM_EVENT_WARMUP_END);
    CHECK(!mm_is_immortal(app), "immortal=0: nothing is immortal");
    CHECK(mm_immortalize(h, app) == 0, "immortal=0: mm_immortalize does nothing");
    mm_decref(h, app);
    mm_root_pop(h, 1);
    CHECK(mm_collect(h, MM_COLLECT_FULL) == 2 * PAIRS, "immortal=0: the chain's containers are collected");
    CHECK(live(h) == 0, "immortal=0: nothing left");
    mm_heap_free(h);
}

static void test_bad_values(void) {
    static const char *const bad[] = {"immortal=2", "immortal=yes", "immortal=-1"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char err[256] = "";
        mm_heap *h = mm_heap_new_named("rc", "system", "slots", bad[i], err, sizeof err);
        CHECK(h == NULL && strstr(err, "immortal") && !strchr(err, '\n'), "%s refused in one line: '%s'", bad[i], err);
        mm_heap_free(h);
    }
    char err[256] = "";
    mm_heap *h = mm_heap_new_named("boehm", "system", "slots", "immortal=1", err, sizeof err);
    CHECK(h == NULL && strstr(err, "immortal"), "boehm (no refcounts) has no immortal knob: '%s'", err);
    mm_heap_free(h);
}

int main(void) {
    test_strategy("none", false);
    test_strategy("rc", false);
    test_strategy("rc+gen", true);
    test_strategy("rc+trial", true);
    test_strategy("rc+incr", true);
    test_strategy("rc+ft", true);
    test_strategy("rc+pep848", true);
    test_off();
    test_bad_values();
    return check_summary();
}
