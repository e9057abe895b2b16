// labels: gc
/* A mark bit that is set when no mark is running must not survive into
 * the next mark: an object found already marked is not scanned, and what
 * only it references would be freed.  Two ways to leave such a bit:
 *   - a span made while the collector marks (here by a mark hook, on the
 *     collecting thread) is not swept after that mark, so the marks it
 *     got would stay;
 *   - sgc_set_mark_bit called between collections.
 * In both cases a parent keeps a child that nothing else references;
 * after further collections and churn the child must be intact and its
 * memory never handed out again. */
#include <stdint.h>

#include "check.h"
#include "gctest.h"
#include "spangc-int.h"

#define KEY ((uintptr_t)0x5a5a5a5a5a5a5a5aull)
#define CHILD_SIZE 48

static void **volatile parent_root; /* scanned: a data-segment root */
static volatile uintptr_t child_hidden;
static volatile int hook_armed;

static void *new_child(uint64_t tag) {
  uint64_t *c = sgc_alloc(CHILD_SIZE);
  CHECK(c != NULL);
  for (int i = 0; i < CHILD_SIZE / 8; i++)
    c[i] = tag * 0x9e3779b97f4a7c15ull + (uint64_t)i;
  return c;
}

static void check_child(const uint64_t *c, uint64_t tag, const char *what) {
  for (int i = 0; i < CHILD_SIZE / 8; i++)
    CHECKF(c[i] == tag * 0x9e3779b97f4a7c15ull + (uint64_t)i,
           "%s: the child %p was freed and its memory reused", what,
           (const void *)c);
}

/* Churn the child's size class; any reuse of the child's slot is a loss.
 * The child's address is passed hidden: a copy on the stack would keep
 * it. */
static void churn(uintptr_t child_hid, const char *what) {
  for (int k = 0; k < 100000; k++) {
    uint64_t *p = sgc_alloc(CHILD_SIZE);
    CHECKF(((uintptr_t)p ^ KEY) != child_hid,
           "%s: the child's memory was handed out again", what);
    p[0] = p[1] = ~0ull;
  }
}

/* Runs on the collecting thread before the (single) marker starts: the
 * parent it allocates is large, so it gets a span of its own made during
 * the mark. */
static void hook(void) {
  if (!hook_armed)
    return;
  hook_armed = 0;
  void **parent = sgc_alloc(64 << 10);
  CHECK(parent != NULL);
  parent[0] = (void *)(child_hidden ^ KEY);
  parent_root = parent;
}

static void span_made_during_mark(void) {
  child_hidden = (uintptr_t)new_child(1) ^ KEY;
  clear_stack();
  hook_armed = 1;
  ATOMIC_STORE(&sgc_test_mark_hook, hook);
  sgc_collect(); /* the parent is made and marked, and keeps the child */
  ATOMIC_STORE(&sgc_test_mark_hook, NULL);
  CHECK(!hook_armed);
  uintptr_t hid = child_hidden;
  child_hidden = 0;
  for (int r = 0; r < 3; r++) {
    sgc_collect();
    churn(hid, "span made during a mark");
  }
  CHECK(((uintptr_t)parent_root[0] ^ KEY) == hid);
  check_child(parent_root[0], 1, "span made during a mark");
  parent_root = NULL;
}

/* Returns the child's address hidden: no register or stack slot of the
 * caller holds it. */
__attribute__((noinline)) static uintptr_t make_marked_parent(void) {
  void **parent = sgc_alloc(64);
  CHECK(parent != NULL);
  parent[0] = new_child(2);
  parent_root = parent;
  sgc_set_mark_bit(parent);
  CHECK(sgc_is_marked(parent));
  return (uintptr_t)parent[0] ^ KEY;
}

static void set_mark_bit_between_collections(void) {
  uintptr_t hid = make_marked_parent();
  clear_stack();
  for (int r = 0; r < 3; r++) {
    sgc_collect();
    churn(hid, "sgc_set_mark_bit between collections");
  }
  check_child(parent_root[0], 2, "sgc_set_mark_bit between collections");
  parent_root = NULL;
}

int main(void) {
  sgc_init();
  sgc_set_markers(1);    /* the hook runs before any marking */
  sgc_set_gcpercent(-1); /* only the explicit collections */
  span_made_during_mark();
  set_mark_bit_between_collections();
  return 0;
}
