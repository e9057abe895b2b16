/*
 * abi_probe.c -- prints everything a client of bdwgc's headers bakes into
 * its own object code, so that the output obtained with spangc's headers
 * can be compared with the output obtained with the stock bdwgc headers.
 *
 * It is compiled twice from this one source (once with
 * -I compat/bdwgc/include, once against the installed bdwgc headers), in
 * several configurations (-DGC_DEBUG, -DGC_THREADS, GC_INIT options), and
 * run; abi_check.sh diffs the outputs.  It never calls a collector: every
 * function the macros expand to is defined below as a mock that records
 * the call.  A mock whose parameter types disagree with a header's
 * prototype stops the build ("conflicting types"), which checks those
 * prototypes too.
 *
 * Printed:
 *   - constants and the C type of each (int, unsigned long, ...);
 *   - sizes, alignments and member offsets of the public structures and
 *     typedefs;
 *   - results of the bitmap, descriptor and pointer-hiding macros on
 *     sample inputs;
 *   - the calls made by the allocation, finalization, GC_INIT and inline
 *     allocation macros (gc_inline.h) in a scripted scenario, with the
 *     free-list states in between;
 *   - the names the pthread redirections turn pthread_create & co. into.
 *
 * Not compared (known, intended differences): GC_PTR_STORE and the
 * GC_PRE_INCR family under GC_DEBUG, pthread_cancel, GC_DEBUG_REPLACEMENT.
 */
#include <gc/gc.h>
#include <gc/gc_typed.h>
#include <gc/gc_mark.h>
#include <gc/gc_inline.h>

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

/* ------------------------------------------------------------------ */
/* Output helpers                                                      */
/* ------------------------------------------------------------------ */

#define TYPE_NAME(x) _Generic((x), \
    _Bool: "_Bool", char: "char", signed char: "signed char", \
    unsigned char: "unsigned char", short: "short", \
    unsigned short: "unsigned short", int: "int", unsigned: "unsigned", \
    long: "long", unsigned long: "unsigned long", long long: "long long", \
    unsigned long long: "unsigned long long", void *: "void *", \
    default: "other")

/* An integer constant expression: its spelling, value and type. */
#define SHOW(x) \
  printf("%-44s = %lld (0x%llx) [%s, %u bytes]\n", #x, (long long)(x), \
         (unsigned long long)(x), TYPE_NAME(x), (unsigned)sizeof(x))

#define STR_(x) #x
#define STR(x) STR_(x)
/* What a single-token macro turns into. */
#define SHOW_NAME(x) printf("%-44s -> %s\n", #x, STR(x))

#define SIGNED_TYPE(t) (((t)0 - 1) < (t)0)
#define SHOW_TYPE(t) \
  printf("type %-39s size %u align %u %s\n", #t, (unsigned)sizeof(t), \
         (unsigned)_Alignof(t), SIGNED_TYPE(t) ? "signed" : "unsigned")
#define SHOW_PTR_TYPE(t) \
  printf("type %-39s size %u align %u\n", #t, (unsigned)sizeof(t), \
         (unsigned)_Alignof(t))

static void trace(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fputs("  call ", stdout);
  vprintf(fmt, ap);
  fputc('\n', stdout);
  va_end(ap);
}

/* Fake heap: a bump allocator over a static arena, zeroed, 16-aligned. */
static _Alignas(16) unsigned char arena[1 << 16];
static size_t arena_used;

static void *arena_take(size_t n) {
  void *p;
  if (n == 0)
    n = 1;
  n = (n + 15) & ~(size_t)15;
  if (arena_used + n > sizeof arena)
    return NULL;
  p = arena + arena_used;
  arena_used += n;
  memset(p, 0, n);
  return p;
}

/* Free-list arrays used by the inline-allocation scenario. */
static void *fl_a[GC_TINY_FREELISTS];
static void *fl_b[GC_TINY_FREELISTS];
static void *fl_c[GC_TINY_FREELISTS];

/* Stable description of a pointer: an arena offset, a free-list slot, a
 * small integer (free-list counters), NULL or "other". */
static const char *describe(const void *p) {
  static char bufs[8][48];
  static unsigned next;
  char *b = bufs[next++ % 8];
  const unsigned char *c = (const unsigned char *)p;
  if (p == NULL)
    return "NULL";
  if (c >= arena && c < arena + sizeof arena)
    snprintf(b, 48, "arena+%lu", (unsigned long)(c - arena));
  else if ((const void *)p >= (const void *)fl_a &&
           (const void *)p < (const void *)(fl_a + GC_TINY_FREELISTS))
    snprintf(b, 48, "&fl_a[%ld]", (long)((void *const *)p - fl_a));
  else if ((const void *)p >= (const void *)fl_b &&
           (const void *)p < (const void *)(fl_b + GC_TINY_FREELISTS))
    snprintf(b, 48, "&fl_b[%ld]", (long)((void *const *)p - fl_b));
  else if ((const void *)p >= (const void *)fl_c &&
           (const void *)p < (const void *)(fl_c + GC_TINY_FREELISTS))
    snprintf(b, 48, "&fl_c[%ld]", (long)((void *const *)p - fl_c));
  else if ((GC_word)p < 4096)
    snprintf(b, 48, "#%lu", (unsigned long)(GC_word)p);
  else
    snprintf(b, 48, "other");
  return b;
}

static void show_fl(const char *name, void **fl) {
  int i;
  printf("  %s:", name);
  for (i = 0; i < GC_TINY_FREELISTS; i++)
    if (fl[i] != NULL)
      printf(" [%d]=%s", i, describe(fl[i]));
  printf("\n");
}

/* ------------------------------------------------------------------ */
/* Mocks of the library calls the macros expand to                     */
/* ------------------------------------------------------------------ */

static void *alloc_traced(const char *name, size_t n) {
  void *p = arena_take(n);
  trace("%s(%lu) -> %s", name, (unsigned long)n, describe(p));
  return p;
}

static void *dbg_alloc_traced(const char *name, size_t n, const char *s,
                              int i) {
  void *p = arena_take(n);
  const char *base = strrchr(s, '/');
  trace("%s(%lu, %s, %d) -> %s", name, (unsigned long)n,
        base ? base + 1 : s, i, describe(p));
  return p;
}

void *GC_malloc(size_t n) { return alloc_traced("GC_malloc", n); }
void *GC_malloc_atomic(size_t n) {
  return alloc_traced("GC_malloc_atomic", n);
}
void *GC_malloc_uncollectable(size_t n) {
  return alloc_traced("GC_malloc_uncollectable", n);
}
void *GC_malloc_atomic_uncollectable(size_t n) {
  return alloc_traced("GC_malloc_atomic_uncollectable", n);
}
void *GC_malloc_ignore_off_page(size_t n) {
  return alloc_traced("GC_malloc_ignore_off_page", n);
}
void *GC_malloc_atomic_ignore_off_page(size_t n) {
  return alloc_traced("GC_malloc_atomic_ignore_off_page", n);
}
void *GC_realloc(void *p, size_t n) {
  trace("GC_realloc(%s, %lu)", describe(p), (unsigned long)n);
  return p;
}
char *GC_strdup(const char *s) {
  trace("GC_strdup(\"%s\")", s);
  return NULL;
}
char *GC_strndup(const char *s, size_t n) {
  trace("GC_strndup(\"%s\", %lu)", s, (unsigned long)n);
  return NULL;
}
void GC_free(void *p) { trace("GC_free(%s)", describe(p)); }

void *GC_debug_malloc(size_t n, const char *s, int i) {
  return dbg_alloc_traced("GC_debug_malloc", n, s, i);
}
void *GC_debug_malloc_atomic(size_t n, const char *s, int i) {
  return dbg_alloc_traced("GC_debug_malloc_atomic", n, s, i);
}
void *GC_debug_malloc_uncollectable(size_t n, const char *s, int i) {
  return dbg_alloc_traced("GC_debug_malloc_uncollectable", n, s, i);
}
void *GC_debug_malloc_atomic_uncollectable(size_t n, const char *s, int i) {
  return dbg_alloc_traced("GC_debug_malloc_atomic_uncollectable", n, s, i);
}
void *GC_debug_malloc_ignore_off_page(size_t n, const char *s, int i) {
  return dbg_alloc_traced("GC_debug_malloc_ignore_off_page", n, s, i);
}
void *GC_debug_malloc_atomic_ignore_off_page(size_t n, const char *s,
                                             int i) {
  return dbg_alloc_traced("GC_debug_malloc_atomic_ignore_off_page", n, s, i);
}
void *GC_debug_realloc(void *p, size_t n, const char *s, int i) {
  trace("GC_debug_realloc(%s, %lu, line %d)", describe(p), (unsigned long)n,
        i);
  (void)s;
  return p;
}
char *GC_debug_strdup(const char *str, const char *s, int i) {
  trace("GC_debug_strdup(\"%s\", line %d)", str, i);
  (void)s;
  return NULL;
}
char *GC_debug_strndup(const char *str, size_t n, const char *s, int i) {
  trace("GC_debug_strndup(\"%s\", %lu, line %d)", str, (unsigned long)n, i);
  (void)s;
  return NULL;
}
void GC_debug_free(void *p) { trace("GC_debug_free(%s)", describe(p)); }

#define FINALIZER_MOCK(name) \
  void name(void *obj, GC_finalization_proc fn, void *cd, \
            GC_finalization_proc *ofn, void **ocd) { \
    trace(#name "(%s, fn%s, %s, %s, %s)", describe(obj), \
          fn ? "" : "=NULL", describe(cd), ofn ? "ofn" : "NULL", \
          ocd ? "ocd" : "NULL"); \
  }
FINALIZER_MOCK(GC_register_finalizer)
FINALIZER_MOCK(GC_register_finalizer_ignore_self)
FINALIZER_MOCK(GC_register_finalizer_no_order)
FINALIZER_MOCK(GC_register_finalizer_unreachable)
FINALIZER_MOCK(GC_debug_register_finalizer)
FINALIZER_MOCK(GC_debug_register_finalizer_ignore_self)
FINALIZER_MOCK(GC_debug_register_finalizer_no_order)
FINALIZER_MOCK(GC_debug_register_finalizer_unreachable)

void GC_end_stubborn_change(const void *p) {
  trace("GC_end_stubborn_change(%s)", describe(p));
}
void GC_debug_end_stubborn_change(const void *p) {
  trace("GC_debug_end_stubborn_change(%s)", describe(p));
}
void GC_ptr_store_and_dirty(void *p, const void *q) {
  trace("GC_ptr_store_and_dirty(%s, %s)", describe(p), describe(q));
  *(const void **)p = q;
}
void GC_debug_ptr_store_and_dirty(void *p, const void *q) {
  trace("GC_debug_ptr_store_and_dirty(%s, %s)", describe(p), describe(q));
  *(const void **)p = q;
}
int GC_general_register_disappearing_link(void **link, const void *obj) {
  trace("GC_general_register_disappearing_link(%s, %s)", describe(link),
        describe(obj));
  return GC_SUCCESS;
}
void *GC_base(void *p) {
  trace("GC_base(%s)", describe(p));
  return p;
}
void GC_register_displacement(size_t n) {
  trace("GC_register_displacement(%lu)", (unsigned long)n);
}
void GC_debug_register_displacement(size_t n) {
  trace("GC_debug_register_displacement(%lu)", (unsigned long)n);
}
void *GC_same_obj(void *p, void *q) {
  trace("GC_same_obj(%s, %s)", describe(p), describe(q));
  return p;
}
void *GC_is_visible(void *p) {
  trace("GC_is_visible(%s)", describe(p));
  return p;
}

void *GC_malloc_explicitly_typed(size_t n, GC_descr d) {
  trace("GC_malloc_explicitly_typed(%lu, 0x%lx)", (unsigned long)n,
        (unsigned long)d);
  return arena_take(n);
}
void *GC_calloc_explicitly_typed(size_t n, size_t sz, GC_descr d) {
  trace("GC_calloc_explicitly_typed(%lu, %lu, 0x%lx)", (unsigned long)n,
        (unsigned long)sz, (unsigned long)d);
  return arena_take(n * sz);
}

/* GC_INIT and its configuration macros. */
int GC_dont_gc;
void GC_init(void) { trace("GC_init()"); }
void GC_set_dont_expand(int v) { trace("GC_set_dont_expand(%d)", v); }
void GC_set_force_unmap_on_gcollect(int v) {
  trace("GC_set_force_unmap_on_gcollect(%d)", v);
}
void GC_set_max_retries(GC_word v) {
  trace("GC_set_max_retries(%lu)", (unsigned long)v);
}
void GC_set_free_space_divisor(GC_word v) {
  trace("GC_set_free_space_divisor(%lu)", (unsigned long)v);
}
void GC_set_full_freq(int v) { trace("GC_set_full_freq(%d)", v); }
void GC_set_time_limit(unsigned long v) {
  trace("GC_set_time_limit(%lu)", v);
}
void GC_set_suspend_signal(int v) { trace("GC_set_suspend_signal(%d)", v); }
void GC_set_thr_restart_signal(int v) {
  trace("GC_set_thr_restart_signal(%d)", v);
}
void GC_set_max_heap_size(GC_word v) {
  trace("GC_set_max_heap_size(%lu)", (unsigned long)v);
}
void GC_ignore_warn_proc(char *msg, GC_word arg) {
  (void)msg;
  (void)arg;
}
void GC_set_warn_proc(GC_warn_proc p) {
  trace("GC_set_warn_proc(%s)",
        p == GC_ignore_warn_proc ? "GC_ignore_warn_proc" : "other");
}
size_t GC_get_heap_size(void) {
  trace("GC_get_heap_size() -> 4096");
  return 4096;
}
int GC_expand_hp(size_t n) {
  trace("GC_expand_hp(%lu)", (unsigned long)n);
  return 1;
}

/* gc_mark.h */
void *GC_least_plausible_heap_addr = arena;
void *GC_greatest_plausible_heap_addr = arena + sizeof arena - 1;
struct GC_ms_entry *GC_mark_and_push(void *obj, struct GC_ms_entry *msp,
                                     struct GC_ms_entry *lim, void **src) {
  trace("GC_mark_and_push(%s, msp, lim, %s)", describe(obj), describe(src));
  (void)lim;
  return msp + 1;
}

/* gc_inline.h: list refills, large requests, out of memory. */
static int many_fails;
static int many_count = 3;

void GC_generic_malloc_many(size_t lb, int k, void **result) {
  void *head = NULL;
  int i;
  if (!many_fails)
    for (i = 0; i < many_count; i++) {
      void *o = arena_take(lb);
      if (o == NULL)
        break;
      *(void **)o = head;
      head = o;
    }
  *result = head;
  trace("GC_generic_malloc_many(%lu, %d, %s) -> %s", (unsigned long)lb, k,
        describe(result), describe(head));
}

/* Requests too large for the free lists: bdwgc's macros call
 * GC_malloc_kind, spangc's GC_generic_malloc (same meaning); both are
 * recorded under one name. */
void *GC_generic_malloc(size_t lb, int k) {
  void *p = arena_take(lb);
  trace("alloc_kind(%lu, %d) -> %s", (unsigned long)lb, k, describe(p));
  return p;
}
#ifndef SPANGC_BDWGC_COMPAT
void *GC_malloc_kind(size_t lb, int k) {
  void *p = arena_take(lb);
  trace("alloc_kind(%lu, %d) -> %s", (unsigned long)lb, k, describe(p));
  return p;
}
#endif

size_t GC_size(const void *p) {
  (void)p;
  return 1 << 20; /* only checked by GC_ASSERT as a lower bound */
}

static void *GC_CALLBACK oom_mock(size_t n) {
  trace("oom_fn(%lu)", (unsigned long)n);
  return NULL;
}
GC_oom_func GC_get_oom_fn(void) {
  trace("GC_get_oom_fn()");
  return oom_mock;
}

/* ------------------------------------------------------------------ */
/* The probe                                                           */
/* ------------------------------------------------------------------ */

struct sample {          /* 70 words: a bitmap of two words */
  void *first;
  long pad1[30];
  void *middle;
  long pad2[37];
  void *last;
};

static void GC_CALLBACK fin(void *obj, void *cd) {
  (void)obj;
  (void)cd;
}

static void section(const char *name) { printf("\n== %s\n", name); }

static void constants(void) {
  section("version and result codes");
  SHOW(GC_VERSION_MAJOR);
  SHOW(GC_VERSION_MINOR);
  SHOW(GC_VERSION_MICRO);
  SHOW(GC_SUCCESS);
  SHOW(GC_DUPLICATE);
  SHOW(GC_NO_THREADS);
  SHOW(GC_NO_MEMORY);
  SHOW(GC_UNIMPLEMENTED);
  SHOW(GC_NOT_FOUND);
  SHOW(GC_TIME_UNLIMITED);

  section("types");
  SHOW_TYPE(GC_word);
  SHOW_TYPE(GC_signed_word);
  SHOW_TYPE(GC_hidden_pointer);
  SHOW_TYPE(GC_descr);
  SHOW_PTR_TYPE(GC_PTR);
  SHOW_PTR_TYPE(GC_bitmap);
  SHOW_PTR_TYPE(GC_finalization_proc);
  SHOW_PTR_TYPE(GC_warn_proc);
  SHOW_PTR_TYPE(GC_oom_func);
  SHOW_PTR_TYPE(GC_stop_func);
  SHOW_PTR_TYPE(GC_fn_type);
  SHOW_PTR_TYPE(GC_stack_base_func);
  SHOW_PTR_TYPE(GC_mark_proc);
  SHOW_PTR_TYPE(GC_start_callback_proc);
  SHOW_PTR_TYPE(GC_finalizer_notifier_proc);
  SHOW_PTR_TYPE(GC_on_heap_resize_proc);
  SHOW_PTR_TYPE(GC_push_other_roots_proc);

  section("structures");
  SHOW(sizeof(struct GC_stack_base));
  SHOW(_Alignof(struct GC_stack_base));
  SHOW(offsetof(struct GC_stack_base, mem_base));
  SHOW(sizeof(((struct GC_stack_base *)0)->mem_base));
  SHOW(sizeof(struct GC_ms_entry));
  SHOW(_Alignof(struct GC_ms_entry));
  SHOW(offsetof(struct GC_ms_entry, opaque));

  section("gc_mark.h descriptors");
  SHOW(GC_PROC_BYTES);
  SHOW(GC_LOG_MAX_MARK_PROCS);
  SHOW(GC_MAX_MARK_PROCS);
  SHOW(GC_RESERVED_MARK_PROCS);
  SHOW(GC_GCJ_RESERVED_MARK_PROC_INDEX);
  SHOW(GC_DS_TAG_BITS);
  SHOW(GC_DS_TAGS);
  SHOW(GC_DS_LENGTH);
  SHOW(GC_DS_BITMAP);
  SHOW(GC_DS_PROC);
  SHOW(GC_DS_PER_OBJECT);
  SHOW(GC_INDIR_PER_OBJ_BIAS);
  SHOW(GC_MAKE_PROC(3, 5));
  SHOW(GC_MAKE_PROC(0, 0));
  SHOW(GC_MAKE_PROC(63, 1000));
  SHOW(GC_MAKE_PROC(GC_RESERVED_MARK_PROCS, (GC_word)1 << 40));
  SHOW(GC_MAKE_PROC(7u, 9u));

  section("gc_inline.h / gc_tiny_fl.h");
  SHOW(GC_I_PTRFREE);
  SHOW(GC_I_NORMAL);
  SHOW(GC_GRANULE_BYTES);
  SHOW(GC_GRANULE_WORDS);
  SHOW(GC_TINY_FREELISTS);
  SHOW(GC_RAW_BYTES_FROM_INDEX(0));
  SHOW(GC_RAW_BYTES_FROM_INDEX(7));
  SHOW(GC_RAW_BYTES_FROM_INDEX((size_t)24));
  SHOW(GC_WORDS_TO_GRANULES(0));
  SHOW(GC_WORDS_TO_GRANULES(5));
  SHOW(GC_WORDS_TO_GRANULES((size_t)9));
  SHOW(GC_WORDS_TO_WHOLE_GRANULES(0));
  SHOW(GC_WORDS_TO_WHOLE_GRANULES(1));
  SHOW(GC_WORDS_TO_WHOLE_GRANULES(2));
  SHOW(GC_WORDS_TO_WHOLE_GRANULES(3));
  SHOW(GC_WORDS_TO_WHOLE_GRANULES((size_t)49));

  section("gc_typed.h bitmaps");
  SHOW(GC_WORDSZ);
  SHOW(GC_WORD_LEN(struct sample));
  SHOW(GC_BITMAP_SIZE(struct sample));
  SHOW(GC_WORD_OFFSET(struct sample, first));
  SHOW(GC_WORD_OFFSET(struct sample, middle));
  SHOW(GC_WORD_OFFSET(struct sample, last));
  SHOW(GC_WORD_LEN(GC_word[3]));
  SHOW(GC_BITMAP_SIZE(GC_word[64]));
  SHOW(GC_BITMAP_SIZE(GC_word[65]));
  {
    GC_word bm[GC_BITMAP_SIZE(struct sample)] = {0};
    GC_word sample_bm[2] = {0x8000000000000005ul, 0x21ul};
    unsigned i;
    GC_set_bit(bm, GC_WORD_OFFSET(struct sample, first));
    GC_set_bit(bm, GC_WORD_OFFSET(struct sample, middle));
    GC_set_bit(bm, GC_WORD_OFFSET(struct sample, last));
    printf("bitmap after GC_set_bit: 0x%lx 0x%lx\n", (unsigned long)bm[0],
           (unsigned long)bm[1]);
    printf("GC_get_bit over sample 0x8000000000000005,0x21:");
    for (i = 0; i < 128; i++)
      if (GC_get_bit(sample_bm, i))
        printf(" %u", i);
    printf("\n");
    SHOW(GC_get_bit(sample_bm, 63));
    SHOW(GC_get_bit(sample_bm, 69u));
    SHOW(GC_set_bit(sample_bm, 100));
  }

  section("hidden pointers");
  {
    void *p = (void *)(GC_word)0x12345678abcdul;
    GC_hidden_pointer h = GC_HIDE_POINTER(p);
    SHOW(GC_HIDE_POINTER(p));
    SHOW(GC_HIDE_POINTER((void *)0));
    SHOW(h);
    printf("GC_REVEAL_POINTER(GC_HIDE_POINTER(p)) == p: %d\n",
           GC_REVEAL_POINTER(h) == p);
    printf("sizeof GC_REVEAL_POINTER(h) = %u\n",
           (unsigned)sizeof(GC_REVEAL_POINTER(h)));
  }

  section("GC_NEXT");
  {
    void *cell[2];
    cell[0] = &cell[1];
    printf("GC_NEXT(cell) == &cell[1]: %d\n", GC_NEXT(cell) == &cell[1]);
    GC_NEXT(cell) = NULL;
    printf("after GC_NEXT(cell) = NULL: %d\n", cell[0] == NULL);
  }
}

static void allocation_macros(void) {
  void *p, *q;
  void *link = NULL;
  GC_finalization_proc ofn = NULL;
  void *ocd = NULL;
  int *ip;
  char buf[16];
  section("allocation and finalization macros");
  p = GC_MALLOC(24);
  (void)GC_MALLOC_ATOMIC(25);
  (void)GC_MALLOC_UNCOLLECTABLE(26);
  (void)GC_MALLOC_ATOMIC_UNCOLLECTABLE(27);
  (void)GC_MALLOC_IGNORE_OFF_PAGE(28);
  (void)GC_MALLOC_ATOMIC_IGNORE_OFF_PAGE(29);
  (void)GC_MALLOC_STUBBORN(30);
  p = GC_REALLOC(p, 48);
  (void)GC_STRDUP("dup");
  (void)GC_STRNDUP("dupn", 3);
  ip = GC_NEW(int);
  printf("GC_NEW(int) -> %s\n", describe(ip));
  (void)GC_NEW_ATOMIC(double);
  (void)GC_NEW_UNCOLLECTABLE(long);
  (void)GC_NEW_STUBBORN(short);
  GC_REGISTER_FINALIZER(p, fin, p, &ofn, &ocd);
  GC_REGISTER_FINALIZER_IGNORE_SELF(p, fin, NULL, NULL, NULL);
  GC_REGISTER_FINALIZER_NO_ORDER(p, 0, NULL, &ofn, NULL);
  GC_REGISTER_FINALIZER_UNREACHABLE(p, fin, NULL, NULL, &ocd);
  q = GC_MALLOC(16);
  GC_END_STUBBORN_CHANGE(q);
  GC_PTR_STORE_AND_DIRTY(q, p);
  printf("stored: %s\n", describe(*(void **)q));
  (void)GC_GENERAL_REGISTER_DISAPPEARING_LINK(&link, q);
  GC_REGISTER_DISPLACEMENT(8);
  GC_FREE(q);
  (void)GC_MALLOC_EXPLICITLY_TYPED(40, (GC_descr)0x1234);
  (void)GC_CALLOC_EXPLICITLY_TYPED(3, 16, (GC_descr)0x99);
  GC_reachable_here(p);
  {
    char *cp = (char *)p;
    char *r = GC_PTR_ADD(cp, 5);
    printf("GC_PTR_ADD(cp, 5) - cp = %ld\n", (long)(r - cp));
  }
#ifndef GC_DEBUG
  {
    /* With GC_DEBUG bdwgc checks these through calls spangc lacks. */
    char *cp = (char *)p;
    void *slot[1] = {0};
    char *r;
    r = GC_PRE_INCR(cp, 3);
    printf("GC_PRE_INCR: %ld\n", (long)(r - (char *)p));
    r = GC_POST_INCR(cp);
    printf("GC_POST_INCR: %ld %ld\n", (long)(r - (char *)p),
           (long)(cp - (char *)p));
    r = GC_POST_DECR(cp);
    printf("GC_POST_DECR: %ld %ld\n", (long)(r - (char *)p),
           (long)(cp - (char *)p));
    GC_PTR_STORE(slot, p);
    printf("GC_PTR_STORE: %s\n", describe(slot[0]));
  }
#endif
  strcpy(buf, "x");
  (void)buf;
}

static void mark_macros(void) {
  struct GC_ms_entry stack[4];
  struct GC_ms_entry *top = stack;
  void *src = NULL;
  section("GC_MARK_AND_PUSH");
  top = GC_MARK_AND_PUSH(arena + 32, top, stack + 4, &src);
  printf("in range: top now at stack+%ld\n", (long)(top - stack));
  top = GC_MARK_AND_PUSH((void *)(GC_word)8, top, stack + 4, &src);
  printf("below range: top now at stack+%ld\n", (long)(top - stack));
  top = GC_MARK_AND_PUSH((void *)(arena + sizeof arena + 64), top, stack + 4,
                         &src);
  printf("above range: top now at stack+%ld\n", (long)(top - stack));
  top = GC_MARK_AND_PUSH(GC_greatest_plausible_heap_addr, top, stack + 4,
                         &src);
  printf("at the upper bound: top now at stack+%ld\n", (long)(top - stack));
}

static void inline_macros(void) {
  void *r;
  int i;
  section("gc_inline.h fast paths");
  for (i = 0; i < 5; i++) {
    GC_MALLOC_WORDS(r, 3, fl_a);
    printf(" GC_MALLOC_WORDS(3) -> %s, word0 %s\n", describe(r),
           describe(*(void **)r));
    show_fl("fl_a", fl_a);
  }
  GC_MALLOC_WORDS(r, 0, fl_a);
  printf(" GC_MALLOC_WORDS(0) -> %s\n", describe(r));
  show_fl("fl_a", fl_a);
  GC_MALLOC_WORDS(r, 1, fl_a);
  printf(" GC_MALLOC_WORDS(1) -> %s\n", describe(r));
  GC_MALLOC_WORDS(r, 48, fl_a);
  printf(" GC_MALLOC_WORDS(48) -> %s\n", describe(r));
  show_fl("fl_a", fl_a);
  GC_MALLOC_WORDS(r, 49, fl_a);
  printf(" GC_MALLOC_WORDS(49) -> %s\n", describe(r));
  GC_MALLOC_WORDS(r, 50, fl_a);
  printf(" GC_MALLOC_WORDS(50) -> %s\n", describe(r));
  show_fl("fl_a", fl_a);
  for (i = 0; i < 4; i++) {
    GC_MALLOC_ATOMIC_WORDS(r, 2, fl_b);
    printf(" GC_MALLOC_ATOMIC_WORDS(2) -> %s\n", describe(r));
    show_fl("fl_b", fl_b);
  }
  {
    /* Not named l or r: bdwgc's GC_CONS declares locals with those names,
     * which would capture the caller's variables. */
    void *a = arena_take(16), *b = arena_take(16), *cell;
    printf(" cons of %s and %s\n", describe(a), describe(b));
    GC_CONS(cell, a, b, fl_b);
    printf(" GC_CONS -> %s: %s %s\n", describe(cell),
           describe(((void **)cell)[0]), describe(((void **)cell)[1]));
    show_fl("fl_b", fl_b);
  }

  section("GC_FAST_MALLOC_GRANS with num_direct = 2");
  for (i = 0; i < GC_TINY_FREELISTS; i++)
    fl_c[i] = (void *)(GC_word)1;
  many_count = 2;
  for (i = 0; i < 8; i++) {
    GC_FAST_MALLOC_GRANS(r, 4, fl_c, 2, GC_I_NORMAL,
                         GC_generic_malloc(4 * GC_GRANULE_BYTES, GC_I_NORMAL),
                         *(void **)r = 0);
    printf(" grans 4 -> %s\n", describe(r));
    show_fl("fl_c", fl_c);
  }
  for (i = 0; i < 4; i++) {
    GC_FAST_MALLOC_GRANS(r, 0, fl_c, 2, GC_I_PTRFREE,
                         GC_generic_malloc(GC_GRANULE_BYTES, GC_I_PTRFREE),
                         (void)0);
    printf(" grans 0 -> %s\n", describe(r));
    show_fl("fl_c", fl_c);
  }
  GC_FAST_MALLOC_GRANS(r, GC_TINY_FREELISTS, fl_c, 2, GC_I_NORMAL,
                       GC_generic_malloc(123, 7), (void)0);
  printf(" grans GC_TINY_FREELISTS -> %s\n", describe(r));

  section("out of memory in the fast path");
  many_fails = 1;
  for (i = 0; i < GC_TINY_FREELISTS; i++)
    fl_c[i] = NULL;
  GC_MALLOC_WORDS(r, 6, fl_c);
  printf(" GC_MALLOC_WORDS(6) -> %s\n", describe(r));
  GC_FAST_MALLOC_GRANS(r, 5, fl_c, 3, GC_I_PTRFREE,
                       GC_generic_malloc(80, GC_I_PTRFREE), (void)0);
  printf(" grans 5 (empty, num_direct 3) -> %s\n", describe(r));
  fl_c[5] = (void *)(GC_word)3;
  GC_FAST_MALLOC_GRANS(r, 5, fl_c, 3, GC_I_PTRFREE,
                       GC_generic_malloc(80, GC_I_PTRFREE), (void)0);
  printf(" grans 5 (count 3, num_direct 3) -> %s\n", describe(r));
  show_fl("fl_c", fl_c);
  fl_c[5] = (void *)(GC_word)4;
  GC_FAST_MALLOC_GRANS(r, 5, fl_c, 3, GC_I_PTRFREE,
                       GC_generic_malloc(80, GC_I_PTRFREE), (void)0);
  printf(" grans 5 (count 4, num_direct 3) -> %s\n", describe(r));
  show_fl("fl_c", fl_c);
  many_fails = 0;
}

static void init_macro(void) {
  section("GC_INIT()");
  GC_INIT();
  printf("GC_dont_gc = %d\n", GC_dont_gc);
}

static void thread_macros(void) {
  section("pthread redirection");
#ifdef GC_THREADS
  printf("GC_THREADS defined\n");
#endif
#ifdef GC_PTHREADS
  printf("GC_PTHREADS defined\n");
#endif
#ifdef GC_NO_THREAD_REDIRECTS
  printf("GC_NO_THREAD_REDIRECTS defined\n");
#endif
  SHOW_NAME(pthread_create);
  SHOW_NAME(pthread_join);
  SHOW_NAME(pthread_detach);
  SHOW_NAME(pthread_exit);
  SHOW_NAME(pthread_sigmask);
  SHOW_NAME(dlopen);
}

int main(void) {
  printf("bdwgc header ABI probe (" __FILE__ ")\n");
  constants();
  allocation_macros();
  mark_macros();
  inline_macros();
  init_macro();
  thread_macros();
  return 0;
}
