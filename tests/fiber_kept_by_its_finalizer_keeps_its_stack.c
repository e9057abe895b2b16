// labels: gc
/* A suspended fiber that nothing references but its own finalizer is kept
 * for that finalizer, stack and all: what its stack references is kept
 * too.  A finalizer that resumes the fiber (a coroutine's "close") finds
 * the fiber's locals intact, never handed out again meanwhile, whether it
 * resumes the fiber itself or stores it for the program to resume (here
 * from the finalizer thread).  Once the fiber has finished, the next
 * collection frees it and what it held.
 *
 * In every mode, the ordered ones (ORDERED, IGNORE_SELF, UNREACHABLE)
 * included: the fiber's stack holds pointers to the fiber itself (its
 * saved registers), which must not count as references to it, or its
 * finalizer would never run. */
#include <stdint.h>

#include "check.h"
#include "gctest.h"
#include "spangc-int.h"

enum { NLOC = 16 };
typedef struct blob { uint64_t w[12]; } blob; /* 96 bytes */

static sgc_fiber *home;
/* The blobs' and the fiber's addresses, hidden (~p): keep nothing alive. */
static uintptr_t hidden[NLOC];
static uintptr_t hidden_fiber;
static const char *what; /* the case */
static uint64_t cur_tag;
static int fin_ran, fiber_checked, fiber_bad, reused;
/* Where a finalizer that does not resume the fiber itself leaves it. */
static sgc_fiber *volatile closing;

static uint64_t mix(uint64_t k) { return k * 0x9e3779b97f4a7c15ull ^ 0x5eed; }

static void fill(blob *b, uint64_t seed) {
  for (int i = 0; i < 12; i++)
    b->w[i] = mix(seed * 16 + (uint64_t)i);
}

static int intact(const blob *b, uint64_t seed) {
  for (int i = 0; i < 12; i++)
    if (b->w[i] != mix(seed * 16 + (uint64_t)i))
      return 0;
  return 1;
}

/* Runs fn a few frames down, where clear_stack reaches: no stale copy of
 * a pointer fn handled is left where later calls would keep it. */
static void __attribute__((noinline)) deep(void (*fn)(void)) {
  volatile char pad[1024];
  memset((char *)pad, 0, sizeof pad);
  fn();
  pad[0] = 1;
}

/* The fiber: its blobs live only in its locals while it is suspended. */
static void holder(void *arg) {
  uint64_t tag = (uint64_t)(uintptr_t)arg;
  blob *loc[NLOC];
  for (int i = 0; i < NLOC; i++) {
    loc[i] = sgc_alloc(sizeof(blob));
    CHECK(loc[i] != NULL);
    fill(loc[i], tag * NLOC + (uint64_t)i);
    hidden[i] = ~(uintptr_t)loc[i];
  }
  sgc_fiber_switch(home); /* resumed by (or after) its finalizer */
  int bad = 0;
  for (int i = 0; i < NLOC; i++)
    if (!intact(loc[i], tag * NLOC + (uint64_t)i))
      bad++;
  fiber_bad = bad;
  fiber_checked = 1;
}

/* The finalizer resumes the fiber, which checks its locals and finishes,
 * coming back here. */
static void close_fiber(void *obj, void *arg) {
  (void)arg;
  fin_ran++;
  sgc_fiber *f = obj;
  CHECK(!sgc_fiber_finished(f));
  sgc_fiber_switch(f);
  CHECK(sgc_fiber_finished(f));
}

/* The finalizer hands the fiber over to the program (resurrects it). */
static void store_fiber(void *obj, void *arg) {
  (void)arg;
  fin_ran++;
  closing = obj;
}

static void resume_closing(void) {
  sgc_fiber *f = closing;
  closing = NULL;
  sgc_fiber_switch(f);
  CHECK(fiber_checked && sgc_fiber_finished(f));
}

/* Allocations of the blobs' size: anything freed wrongly is reused. */
static void __attribute__((noinline)) churn(long n) {
  for (long k = 0; k < n; k++) {
    blob *volatile b = sgc_alloc(sizeof(blob));
    CHECK(b != NULL);
    memset((void *)b, 0xdd, sizeof(blob));
    for (int i = 0; i < NLOC; i++)
      if ((uintptr_t)b == ~hidden[i])
        reused++;
  }
}

static const char *mode_name(int mode) {
  switch (mode) {
  case SGC_FIN_ORDERED: return "ORDERED";
  case SGC_FIN_IGNORE_SELF: return "IGNORE_SELF";
  case SGC_FIN_NO_ORDER: return "NO_ORDER";
  default: return "UNREACHABLE";
  }
}

/* A fiber holding NLOC blobs in its locals, suspended, finalizable, and
 * then unreachable; collections and churn follow. */
static void __attribute__((noinline))
start(const char *name, uint64_t tag, int mode, void (*fin)(void *, void *)) {
  what = name;
  cur_tag = tag;
  fin_ran = fiber_checked = fiber_bad = reused = 0;
  sgc_fiber *f = sgc_fiber_create(holder, (void *)(uintptr_t)tag, 64 << 10);
  CHECK(f != NULL);
  sgc_fiber_switch(f);
  CHECK(!sgc_fiber_finished(f));
  CHECK(sgc_set_finalizer_ex(f, fin, NULL, mode, NULL, NULL) == 0);
  hidden_fiber = ~(uintptr_t)f;
}

static void __attribute__((noinline)) drop_and_collect(void) {
  clear_stack();
  for (int round = 0; round < 3; round++) {
    sgc_collect();
    sgc_wait_finalizers(); /* the finalizer thread's, if it runs */
    churn(scaled(40000));
  }
}

/* While the fiber is kept: its blobs are live and intact. */
static void check_locals(void) {
  int bad = 0;
  for (int i = 0; i < NLOC; i++) {
    const blob *b = (const blob *)~hidden[i];
    if (sgc_base(b) != b || !intact(b, cur_tag * NLOC + (uint64_t)i))
      bad++;
  }
  CHECKF(bad == 0 && reused == 0,
         "%s: %d of the %d blobs held only by the suspended fiber's locals "
         "were freed (%d handed out again) while the fiber was kept for its "
         "finalizer", what, bad, NLOC, reused);
}

static void run_finalizer(void) {
  CHECKF(sgc_finalizers_pending() == 1, "%s: %zu finalizers queued", what,
         sgc_finalizers_pending());
  CHECK(sgc_run_finalizers() == 1);
}

static void check_resumed(void) {
  CHECK(fin_ran == 1 && fiber_checked);
  CHECKF(fiber_bad == 0, "%s: the fiber, resumed, found %d of its %d "
         "locals' blobs not intact", what, fiber_bad, NLOC);
}

/* After the fiber finished: the next collection frees it and its blobs. */
static void __attribute__((noinline)) check_freed(void) {
#if TEST_ASAN
  /* AddressSanitizer's instrumented frames keep stale copies of the
   * fiber pointer where a conservative scan sees them: that it is freed
   * is checked in the other builds only. */
  return;
#endif
  clear_stack();
  sgc_collect();
  sgc_collect();
  CHECKF(sgc_base((void *)~hidden_fiber) == NULL,
         "%s: the finished fiber survived", what);
  int kept = 0;
  for (int i = 0; i < NLOC; i++)
    kept += sgc_base((void *)~hidden[i]) != NULL;
  CHECKF(kept == 0, "%s: %d blobs of the finished fiber survived", what,
         kept);
}

/* NO_ORDER: the finalizer, run here, resumes the fiber. */
static void close_in_finalizer(void) {
  start("NO_ORDER", 1, SGC_FIN_NO_ORDER, close_fiber);
  drop_and_collect();
  deep(check_locals);
  deep(run_finalizer);
  check_resumed();
  check_freed();
  printf("%s: fiber closed by its finalizer, %d locals intact\n", what, NLOC);
}

/* NO_ORDER: the finalizer thread stores the fiber; this thread resumes it
 * after the churn. */
static void close_after_finalizer_thread(void) {
  sgc_set_finalizer_thread(1);
  start("NO_ORDER, finalizer thread", 5, SGC_FIN_NO_ORDER, store_fiber);
  drop_and_collect();
  CHECKF(fin_ran == 1 && closing != NULL, "%s: the finalizer did not run",
         what);
  deep(check_locals);
  deep(resume_closing);
  check_resumed();
  check_freed();
  printf("%s: fiber closed after its finalizer stored it\n", what);
}

/* Ordered modes: the locals survive while the fiber is kept, and its
 * finalizer runs (the fiber's own stack referencing it does not count),
 * resumes the fiber, which checks them too; then the fiber is freed. */
static void close_in_ordered_finalizer(int mode, uint64_t tag) {
  start(mode_name(mode), tag, mode, close_fiber);
  drop_and_collect();
  deep(check_locals);
  CHECKF(sgc_base((void *)~hidden_fiber) != NULL,
         "%s: the fiber was freed before its finalizer ran", what);
  deep(run_finalizer);
  check_resumed();
  check_freed();
  printf("%s: fiber closed by its finalizer, %d locals intact\n", what, NLOC);
}

int main(void) {
  sgc_init();
  sgc_set_finalizer_thread(0);
  home = sgc_fiber_self();
  close_in_finalizer();
  close_in_ordered_finalizer(SGC_FIN_ORDERED, 2);
  close_in_ordered_finalizer(SGC_FIN_IGNORE_SELF, 3);
  close_in_ordered_finalizer(SGC_FIN_UNREACHABLE, 4);
  close_after_finalizer_thread();
  return 0;
}
