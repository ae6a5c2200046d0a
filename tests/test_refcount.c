/* test_refcount.c — reference counting semantics of `none` and `rc`.
 *
 * Freed at zero; children released in turn; a 10-million-node chain freed by
 * dropping its head without overflowing the C stack; a ring under `rc` leaks
 * exactly n objects and under `none` everything stays; mm_store releases the old
 * value; `slots` refuses undeclared attributes; knobs and cells follow the one
 * rule of knobs.h; running out of memory mid-release ends with one line, exit 1.
 */
#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>

#include <sys/wait.h>
#include <unistd.h>

#include "cell.h"
#include "check.h"
#include "test_util.h"
#include "mm.h"
#include "strategy.h"
#include "registry.h"
#include "workload.h"

static void test_freed_at_zero(void) {
    mm_heap *h = test_heap("rc", NULL);
    static const char *const attrs[] = {"a", "b"};
    mm_class *c = mm_class_new(h, "Pair", attrs, 2);
    mm_attr a = mm_intern(h, "a"), b = mm_intern(h, "b");
    mm_object *parent = mm_instance_new(h, c), *child = mm_instance_new(h, c), *other = mm_instance_new(h, c);
    CHECK(live(h) == 3, "live %llu", (unsigned long long)live(h));
    CHECK(mm_setattr(h, parent, a, mm_ref(child)) == MM_OK, "set a");
    CHECK(child->refcount == 2, "child rc %ld", (long)child->refcount);
    mm_decref(h, child); /* only the parent holds it now */
    CHECK(live(h) == 3, "child must survive while held");
    /* overwrite: the old value loses its reference and dies */
    mm_setattr(h, parent, a, mm_ref(other));
    CHECK(live(h) == 2, "overwritten child freed, live %llu", (unsigned long long)live(h));
    mm_decref(h, other);
    CHECK(other->refcount == 1, "other held by parent");
    mm_setattr(h, parent, b, mm_int(42));
    CHECK(mm_as_int(mm_getattr(h, parent, b)) == 42, "int attribute");
    mm_decref(h, parent); /* parent and, in turn, other */
    CHECK(live(h) == 0, "all freed, live %llu", (unsigned long long)live(h));
    mm_heap_free(h);
}

static void test_slots_refuse_undeclared(void) {
    mm_heap *h = test_heap("rc", NULL);
    static const char *const attrs[] = {"x"};
    mm_class *c = mm_class_new(h, "P", attrs, 1);
    mm_attr y = mm_intern(h, "y");
    mm_object *o = mm_instance_new(h, c);
    CHECK(mm_setattr(h, o, y, mm_int(1)) == MM_EATTR, "undeclared attribute must fail");
    CHECK(mm_getattr(h, o, y) == MM_NONE, "undeclared reads as None");
    CHECK(c->type.size == sizeof(mm_object) + 8, "slots instance size %zu", c->type.size);
    mm_decref(h, o);
    CHECK(live(h) == 0, "freed");
    mm_heap_free(h);
}

/* Builds a chain by prepending; the head's release must walk all of it iteratively. */
static void test_domino_free(long n) {
    mm_heap *h = test_heap("rc", NULL);
    static const char *const attrs[] = {"next"};
    mm_class *c = mm_class_new(h, "Node", attrs, 1);
    mm_attr next = mm_intern(h, "next");
    mm_object *head = NULL;
    for (long i = 0; i < n; i++) {
        mm_object *node = mm_instance_new(h, c);
        if (head) {
            mm_setattr(h, node, next, mm_ref(head));
            mm_decref(h, head);
        }
        head = node;
    }
    CHECK(live(h) == (uint64_t)n, "built %llu", (unsigned long long)live(h));
    mm_decref(h, head);
    CHECK(live(h) == 0, "domino free left %llu", (unsigned long long)live(h));
    CHECK(h->release_cap <= 256, "work list stayed small (%zu)", h->release_cap);
    mm_heap_free(h);
}

/* A binary tree frees breadth-wise through the work list too. */
static void test_tree_free(void) {
    mm_heap *h = test_heap("rc", NULL);
    static const char *const attrs[] = {"left", "right"};
    mm_class *c = mm_class_new(h, "T", attrs, 2);
    mm_attr l = mm_intern(h, "left"), r = mm_intern(h, "right");
    /* bottom-up: level by level */
    enum { LEAVES = 1 << 14 };
    mm_object **level = malloc(LEAVES * sizeof *level);
    for (int i = 0; i < LEAVES; i++) level[i] = mm_instance_new(h, c);
    for (int width = LEAVES; width > 1; width /= 2) {
        for (int i = 0; i < width / 2; i++) {
            mm_object *p = mm_instance_new(h, c);
            mm_setattr(h, p, l, mm_ref(level[2 * i]));
            mm_setattr(h, p, r, mm_ref(level[2 * i + 1]));
            mm_decref(h, level[2 * i]);
            mm_decref(h, level[2 * i + 1]);
            level[i] = p;
        }
    }
    CHECK(live(h) == 2 * LEAVES - 1, "tree built %llu", (unsigned long long)live(h));
    mm_decref(h, level[0]);
    CHECK(live(h) == 0, "tree freed, %llu left", (unsigned long long)live(h));
    free(level);
    mm_heap_free(h);
}

static uint64_t run_workload(const char *wl, const char *reclaim, const char *knobs) {
    const mm_workload *w = wl_find(wl);
    char err[256];
    mm_heap *h = test_heap(reclaim, NULL);
    mm_knobset ks = {0};
    const mm_knob_desc *const tables[] = {w->knobs};
    char buf[256];
    snprintf(buf, sizeof buf, "%s", knobs);
    for (char *save = NULL, *kv = strtok_r(buf, "/", &save); kv; kv = strtok_r(NULL, "/", &save)) {
        char *eq = strchr(kv, '=');
        *eq = '\0';
        if (!mm_knobset_apply(&ks, kv, eq + 1, tables, 1, err, sizeof err)) fprintf(stderr, "%s\n", err);
    }
    mm_knobset_fill_defaults(&ks, w->knobs);
    wl_result r = {0};
    bool ok = w->run(h, &ks, &r, err, sizeof err);
    CHECK(ok, "%s/%s: %s", wl, reclaim, err);
    uint64_t left = live(h);
    mm_heap_free(h);
    return left;
}

static void test_workload_leaks(void) {
    CHECK(run_workload("list", "rc", "n=10000") == 0, "list under rc leaks nothing");
    CHECK(run_workload("ring", "rc", "n=10000") == 10000, "ring under rc leaks exactly n");
    CHECK(run_workload("ring", "rc", "n=1000/rounds=3") == 3000, "ring under rc leaks n per round");
    CHECK(run_workload("list", "none", "n=10000") == 10000, "list under none keeps everything");
    CHECK(run_workload("ring", "none", "n=10000") == 10000, "ring under none keeps everything");
}

static void test_knobs(void) {
    int64_t v;
    CHECK(mm_knob_parse_int("10k", MM_KNOB_COUNT, &v) && v == 10000, "10k");
    CHECK(mm_knob_parse_int("1m", MM_KNOB_COUNT, &v) && v == 1000000, "1m");
    CHECK(mm_knob_parse_int("1m", MM_KNOB_BYTES, &v) && v == 1048576, "1m bytes");
    CHECK(!mm_knob_parse_int("12x", MM_KNOB_COUNT, &v), "junk suffix");
    CHECK(!mm_knob_parse_int("", MM_KNOB_COUNT, &v), "empty");
    CHECK(!mm_knob_parse_int("1mm", MM_KNOB_COUNT, &v), "double suffix");
    CHECK(!mm_knob_parse_int("99999999999999999999", MM_KNOB_COUNT, &v), "overflow");
    CHECK(!mm_knob_parse_int("9000000000000g", MM_KNOB_COUNT, &v), "overflow by suffix");
    char err[128];
    mm_heap *h = mm_heap_new_named("rc", "system", "slots", "bogus=1", err, sizeof err);
    CHECK(h == NULL && strstr(err, "bogus") != NULL, "unknown knob named: %s", err);
    h = mm_heap_new_named("nope", "system", "slots", NULL, err, sizeof err);
    CHECK(h == NULL && strstr(err, "nope") != NULL, "unknown strategy named: %s", err);
}

/* knobs.h's one rule: integers [0-9]+ with k/m/g, nothing else; strings
 * printable without edge blanks; errors give the reason before a cut value. */
static void test_knob_rule(void) {
    int64_t v;
    const char *refused[] = {" 5", "+5", "5 ", "-5", "5\t", "1M", "0x10", "1e3", "5k ", "", "k"};
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++)
        CHECK(!mm_knob_parse_int(refused[i], MM_KNOB_COUNT, &v), "'%s' accepted as an integer", refused[i]);
    CHECK(mm_knob_parse_int("007", MM_KNOB_COUNT, &v) && v == 7, "leading zeros");
    CHECK(mm_knob_parse_int("2g", MM_KNOB_BYTES, &v) && v == 2LL << 30, "2g bytes");

    mm_knob_desc n = {"n", MM_KNOB_COUNT, "1", 1, 100, "count"}, s = {"path", MM_KNOB_STRING, "x", 0, 0, "text"};
    char value[MM_KNOB_VALUE_MAX], err[400];
    snprintf(value, sizeof value, "+5");
    CHECK(!mm_knob_check(&n, value, err, sizeof err) && strstr(err, "'+5' is not a number"), "+5: %s", err);
    snprintf(value, sizeof value, "-5");
    CHECK(!mm_knob_check(&n, value, err, sizeof err) && strstr(err, "-5 is out of range"), "-5: %s", err);
    snprintf(value, sizeof value, "99999999999999999999999");
    CHECK(!mm_knob_check(&n, value, err, sizeof err) && strstr(err, "out of range"), "overflow: %s", err);
    snprintf(value, sizeof value, "1k");
    CHECK(!mm_knob_check(&n, value, err, sizeof err) && strstr(err, "must be in [1, 100]"), "1k: %s", err);
    snprintf(value, sizeof value, "5k");
    n.max = 10000;
    CHECK(mm_knob_check(&n, value, err, sizeof err) && strcmp(value, "5000") == 0, "5k normalised: %s", value);
    memset(value, 'x', 500);
    value[500] = '\0';
    CHECK(!mm_knob_check(&n, value, err, sizeof err) && strstr(err, "must be digits") < strstr(err, "xxx") &&
              strstr(err, "...' is not a number") && strlen(err) < 200, "a long value is cut after the reason: %s", err);
    const char *bad_strings[] = {" a", "a ", "a\001b", "caf\xc3\xa9", ""};
    for (size_t i = 0; i < sizeof bad_strings / sizeof bad_strings[0]; i++) {
        snprintf(value, sizeof value, "%s", bad_strings[i]);
        CHECK(!mm_knob_check(&s, value, err, sizeof err) && !strchr(err, '\001'), "string '%s' accepted", bad_strings[i]);
    }
    snprintf(value, sizeof value, "/a b=c/d");
    CHECK(mm_knob_check(&s, value, err, sizeof err), "a path with a blank and '=' refused: %s", err);
    char longer[700];
    memset(longer, 'y', 600);
    longer[600] = '\0';
    mm_knobset ks = {0};
    const mm_knob_desc tbl[] = {s, {0}}, *const tables[] = {tbl};
    CHECK(!mm_knobset_apply(&ks, "path", longer, tables, 1, err, sizeof err) &&
              strstr(err, "shorter than 512 bytes, not 600") && strlen(err) < 200, "over-long value: %s", err);

    char out[64];
    CHECK(strcmp(mm_escape(out, sizeof out, "a\\b\033\n\x7f\xff~ ", 100), "a\\\\b\\x1b\\x0a\\x7f\\xff~ ") == 0,
          "escape: %s", out);
    CHECK(strcmp(mm_escape(out, sizeof out, "abcdef", 3), "abc...") == 0, "escape cut: %s", out);
    CHECK(strcmp(mm_escape(out, 8, "\001\001\001", 100), "\\x01...") == 0, "escape never splits a byte's form: %s", out);
}

/* knobs.h rule 3: a part starts a knob only when its name is declared by one of
 * the cell's components; a value may be a path with '=' and any number of '/'. */
static void test_cell_rule(void) {
    static ms_cell cell; /* ~20 KB */
    char err[2048], spec[MS_CELL_MAX], want[600];
    int n = snprintf(want, sizeof want, "/tmp/a=b");
    for (int i = 0; i < 60; i++) n += snprintf(want + n, sizeof want - (size_t)n, "/d%d", i);
    snprintf(spec, sizeof spec, "trace/rc+gen/system/slots/trace=%s.trace/gc=700,10,10", want);
    strcat(want, ".trace");
    /* the workload's check would load the file: look at the split alone */
    ms_cell_parse(spec, &cell, err, sizeof err);
    const char *got = mm_knobset_get(&cell.knobs, "trace");
    CHECK(got && strcmp(got, want) == 0, "path value: %s", got ? got : err);
    CHECK(mm_knobset_get(&cell.knobs, "gc") && strcmp(mm_knobset_get(&cell.knobs, "gc"), "700,10,10") == 0,
          "the knob after the path");
    CHECK(!ms_cell_parse("list/rc/system/slots/n=5/depht=3", &cell, err, sizeof err) &&
              strstr(err, "unknown knob 'depht'"), "misspelt knob: %s", err);
    CHECK(!ms_cell_parse("list/rc/system/slots/depth=3", &cell, err, sizeof err) && strstr(err, "unknown knob 'depth'"),
          "unknown first knob: %s", err);
    CHECK(!ms_cell_parse("list/rc/system/slots/n", &cell, err, sizeof err) && strstr(err, "'n' is not knob=value"),
          "not knob=value: %s", err);
    CHECK(!ms_cell_parse("list/rc/system/slots/n=5/n=6", &cell, err, sizeof err) && strstr(err, "given twice"),
          "twice: %s", err);
    CHECK(ms_cell_parse("list/rc/system/slots/rounds=2/n=3k", &cell, err, sizeof err) &&
              strcmp(mm_knobset_get(&cell.knobs, "n"), "3000") == 0, "two knobs: %s", err);
    memset(spec, 'z', 900);
    memcpy(spec, "list/rc/system/slots/n=", 23);
    spec[900] = '\0';
    CHECK(!ms_cell_parse(spec, &cell, err, sizeof err) && strstr(err, "shorter than 512") && strlen(err) < 400,
          "long value, reason kept: %s", err);
}

/* mm.h's out-of-memory contract: the handler is asked first (and may free
 * memory, then the allocation is retried); when it cannot, one line and exit 1,
 * never abort(). Run in a child process, which it ends. */
static int oom_calls_fd;
static bool oom_handler_twice(const char *what) {
    (void)what;
    static int calls;
    ssize_t w = write(oom_calls_fd, "c", 1);
    (void)w;
    return ++calls < 2; /* "freed something" once, then gives up */
}

static __attribute__((unused)) void test_oom_stop(void) {
    int errp[2], callp[2];
    if (pipe(errp) != 0 || pipe(callp) != 0) return;
    pid_t pid = fork();
    if (pid == 0) {
        dup2(errp[1], 2);
        oom_calls_fd = callp[1];
        mm_set_oom_handler(oom_handler_twice);
        mm_realloc_or_stop(NULL, SIZE_MAX / 2, "a test work list");
        _exit(0); /* not reached */
    }
    close(errp[1]);
    close(callp[1]);
    char line[256] = "", calls[8] = "";
    ssize_t n = read(errp[0], line, sizeof line - 1), c = read(callp[0], calls, sizeof calls - 1);
    line[n > 0 ? n : 0] = '\0';
    calls[c > 0 ? c : 0] = '\0';
    int status = 0;
    waitpid(pid, &status, 0);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 1, "stopped by %s %d", WIFEXITED(status) ? "exit" : "signal",
          WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
    CHECK(strcmp(line, "memstrat: out of memory: a test work list\n") == 0, "the line: %s", line);
    CHECK(strcmp(calls, "cc") == 0, "handler called %zu times, expected 2", strlen(calls));
    close(errp[0]);
    close(callp[0]);
}

/* `system` must be glibc's malloc, not a preloaded or linked-in replacement. */
static __attribute__((unused)) void test_system_is_glibc(void) {
    Dl_info info;
    void *sym = dlsym(RTLD_DEFAULT, "malloc");
    CHECK(sym != NULL && dladdr(sym, &info) && strstr(info.dli_fname, "libc.so") != NULL,
          "malloc comes from %s", sym && dladdr(sym, &info) ? info.dli_fname : "?");
}

int main(void) {
    const char *big = getenv("MS_TEST_DOMINO_N");
    test_freed_at_zero();
    test_slots_refuse_undeclared();
    test_domino_free(big ? atol(big) : 10000000L);
    test_tree_free();
    test_workload_leaks();
    test_knobs();
    test_knob_rule();
    test_cell_rule();
#if !defined(__SANITIZE_ADDRESS__)
    test_oom_stop(); /* ASan refuses the absurd allocation by aborting */
    test_system_is_glibc(); /* ASan interposes malloc itself */
#endif
    return check_summary();
}
